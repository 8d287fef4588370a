/**
 * The one error type of the gateway. Every failure that reaches a client is an ApiError, which knows
 * its HTTP status and its Anthropic JSON body: {"type":"error","error":{"type":…,"message":…}}.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'unsupported_media_type'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

/** Status for each Anthropic error type, as the Anthropic API answers them. */
const STATUS_BY_TYPE: Record<ErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  // Anthropic has no 415 type of its own; the body says invalid_request_error (see toJSON).
  unsupported_media_type: 415,
  rate_limit_error: 429,
  timeout_error: 504,
  api_error: 500,
  overloaded_error: 529,
};

export interface ApiErrorOptions {
  /** Overrides the status derived from the type (e.g. an unknown upstream fault keeps its real status). */
  status?: number;
  /** Extra response headers, e.g. retry-after or x-should-retry. */
  headers?: Record<string, string>;
  /** `error.details` of the body: machine-readable specifics a client acts on (`error_code`). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /**
   * Already logged where it was thrown (an outage warning, once per 10 s): the error handler does not
   * log it again on every request.
   */
  logged?: boolean;
}

export class ApiError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown> | undefined;
  readonly logged: boolean;

  constructor(type: ErrorType, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.type = type;
    this.status = options.status ?? STATUS_BY_TYPE[type];
    this.headers = options.headers ?? {};
    this.details = options.details;
    this.logged = options.logged ?? false;
  }

  /** The Anthropic error body (without request_id, which the server adds). */
  toJSON(): { type: 'error'; error: { type: string; message: string; details?: Record<string, unknown> } } {
    const type = this.type === 'unsupported_media_type' ? 'invalid_request_error' : this.type;
    const error = { type, message: this.message };
    return { type: 'error', error: this.details ? { ...error, details: this.details } : error };
  }

  static invalid(message: string): ApiError {
    return new ApiError('invalid_request_error', message);
  }
}

/** Anything thrown that is not an ApiError becomes a 500 api_error; the detail is logged, not sent. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('api_error', 'Internal server error', { cause: err });
}

/**
 * A client's string as an error message repeats it: cut to `max` characters, so a 10 KB path or model
 * name is not sent back whole (JSON escapes the rest).
 */
export function echoed(value: string, max = 200): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
