/**
 * Errors exactly as Bedrock sends them over REST-JSON: status, `x-amzn-errortype`, `x-amzn-requestid`
 * and a `{"message"}` body. The AWS SDK reads the exception name from the header, so it must be right.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

export type AnyResponse = ServerResponse | Http2ServerResponse;

/** HTTP status Bedrock uses for each exception it throws. */
export const STATUS_BY_EXCEPTION: Record<string, number> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  ExpiredTokenException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ConflictException: 409,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

export class BedrockError extends Error {
  override readonly name: string;
  readonly status: number;
  /** Seconds, sent as `retry-after` (Bedrock sends none; tests of clients that honour it do). */
  readonly retryAfter: number | undefined;
  constructor(name: string, message: string, status?: number, retryAfter?: number) {
    super(message);
    this.name = name;
    this.status = status ?? STATUS_BY_EXCEPTION[name] ?? 500;
    this.retryAfter = retryAfter;
  }
}

export function validationError(message: string): BedrockError {
  return new BedrockError('ValidationException', message);
}

/**
 * An inference-profile ARN of another account: that account's resource, which the caller's identity may
 * not invoke (wording of Bedrock's model access refusals; unverified for this case).
 */
export function otherAccount(): BedrockError {
  return new BedrockError(
    'AccessDeniedException',
    "You don't have access to the model with the specified model ID.",
  );
}

/** Message shape Bedrock uses when the model provider itself rejected the request. */
export function modelRejected(message: string): BedrockError {
  return validationError(`The model returned the following errors: ${message}`);
}

/** Coral-style constraint message, e.g. for enum or range violations. */
export function constraintError(value: unknown, path: string, constraint: string): BedrockError {
  return validationError(
    `1 validation error detected: Value '${String(value)}' at '${path}' failed to satisfy constraint: ${constraint}`,
  );
}

export function writeAwsError(res: AnyResponse, err: BedrockError, requestId: string): void {
  const body = JSON.stringify({ message: err.message });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${err.name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  if (res.headersSent) {
    res.end();
    return;
  }
  (res as ServerResponse).writeHead(err.status, headers);
  res.end(body);
}
