/**
 * Bedrock (and HTTP-layer) failures → the Anthropic error a client understands and reacts to correctly.
 * The one fault table: every path uses it, before a stream and inside one (translate/stream-errors.ts
 * only spells union members as the SDK's exceptions), so a fault means the same wherever it happens.
 *
 * Choices, so clients behave well:
 * - ModelTimeoutException → 504 timeout_error (not 529): the model was slow, not overloaded. Clients retry
 *   5xx either way, and Claude Code's "repeated 529 → fall back to another model" must not fire on it.
 * - Credential failures (expired/unknown AWS keys, bad signature, no credentials at all) → 502 api_error
 *   with `x-should-retry: false`. Never 401: Claude Code would blame (and retry) the user's own key.
 * - 429 and 529 carry `retry-after` in seconds: the upstream's own header when the SDK exposes it (at most
 *   60 s: the Anthropic SDK sleeps for any value it is given), else 1 s (`DEFAULT_RETRY_AFTER_S`).
 * - 4xx that retrying cannot fix carry `x-should-retry: false` (the Anthropic SDKs honour it).
 * - Context-window overflow is reworded to Anthropic's `prompt is too long: N tokens > M maximum`, which
 *   triggers Claude Code's compaction.
 * - AWS account ids are masked and IAM principal ARNs removed from messages; model ARNs stay readable.
 * - An error answer with no exception in it (a redirect, a proxy's HTML page, an empty body) keeps the
 *   type and status its HTTP status gives (as the SDK maps it), and its message says what came back
 *   (`Bedrock answered HTTP 503 with a non-JSON body (text/html)`) instead of "UnknownError".
 */
import { ApiError, type ErrorType } from '../anthropic/errors.ts';
import { withoutCredentials } from './scrub.ts';

export interface BedrockErrorClass {
  type: ErrorType;
  status: number;
  /** False when the name was not in the table and the status was derived from the HTTP status. */
  recognized: boolean;
  /** True when the gateway's own AWS identity was refused (expired, unknown, not assumable). */
  credentials: boolean;
}

export interface BedrockErrorContext {
  /** The gateway's estimate of the request's input tokens, used when Bedrock gives no numbers. */
  estimatedInputTokens?: number;
  /** The model's context window, used when Bedrock gives no numbers. */
  contextWindow?: number;
}

interface Row {
  type: ErrorType;
  status: number;
  /** Retrying the same request cannot succeed. */
  final?: boolean;
  /** Whose fault beyond Bedrock itself: the gateway's AWS identity, or the network on the way. */
  kind?: 'credentials' | 'network' | 'too-large' | 'proxy';
}

/**
 * retry-after for a 429 or 529 when Bedrock said none (it sends none): the gateway cannot know when
 * Bedrock's quota refills, so it says no more than the clients' own backoff would wait. The Anthropic
 * SDK sleeps exactly a retry-after in place of its backoff (0.5 s doubling, at most 8 s; 2 retries by
 * default), and Claude Code takes it as a floor under its own (0.5 s doubling, at most 32 s): 5 or 10 s
 * made the SDK's two retries cost 10–20 s instead of 1.5 s, and Claude Code's first retries wait 5–10 s
 * where it would have waited 0.5–4 s. Anthropic's API sends no retry-after with its 529s, so the
 * client's backoff is what its users get. 1 s is the shortest a whole-second header says (0 reads as
 * "at once" to a plain client), about the SDK's own first steps; a lasting throttle is still backed off
 * by Claude Code's growing backoff, and a pool's breaker keeps its own cooldown.
 */
const DEFAULT_RETRY_AFTER_S = 1;
/**
 * Most seconds of an upstream's retry-after passed on. The Anthropic SDK sleeps for whatever a
 * retry-after says (up to 24 days): a proxy's `retry-after: 99999` held the client's call for 28 hours.
 */
export const MAX_RETRY_AFTER_S = 60;

const CREDENTIALS: Row = { type: 'api_error', status: 502, final: true, kind: 'credentials' };
const NETWORK: Row = { type: 'api_error', status: 502, kind: 'network' };
const TIMEOUT: Row = { type: 'timeout_error', status: 504 };
const HEADERS_TOO_LARGE: Row = { type: 'invalid_request_error', status: 400, final: true, kind: 'too-large' };
const BODY_TOO_LARGE: Row = { type: 'request_too_large', status: 413, final: true, kind: 'too-large' };

/** AWS exception name (or HTTP-layer error name/code) → Anthropic error. One row per name. */
export const BEDROCK_ERRORS: Readonly<Record<string, Row>> = {
  ValidationException: { type: 'invalid_request_error', status: 400, final: true },
  AccessDeniedException: { type: 'permission_error', status: 403, final: true },
  ResourceNotFoundException: { type: 'not_found_error', status: 404, final: true },
  ConflictException: { type: 'invalid_request_error', status: 409, final: true },
  ThrottlingException: { type: 'rate_limit_error', status: 429 },
  ServiceQuotaExceededException: { type: 'rate_limit_error', status: 429 },
  ModelNotReadyException: { type: 'overloaded_error', status: 529 },
  ServiceUnavailableException: { type: 'overloaded_error', status: 529 },
  ModelTimeoutException: TIMEOUT,
  ModelErrorException: { type: 'api_error', status: 500 },
  ModelStreamErrorException: { type: 'api_error', status: 500 },
  InternalServerException: { type: 'api_error', status: 500 },
  InternalFailure: { type: 'api_error', status: 500 },
  // Bedrock's Messages API route is not served at this endpoint (messages-api.ts `notAnAnswer`): the
  // gateway's configuration (Claude path, region), not something a retry fixes.
  UnknownOperationException: { type: 'api_error', status: 502, final: true },
  // An answer larger than the gateway holds (runtime-undici.ts MAX_ANSWER_BYTES): not a model's answer.
  UpstreamAnswerTooLarge: { type: 'api_error', status: 502, final: true },
  // A 2xx whose body is no JSON document (a proxy's page, a cut answer): retryable, like a network fault.
  UpstreamAnswerMalformed: { type: 'api_error', status: 502 },
  // The gateway's own AWS credentials.
  UnrecognizedClientException: CREDENTIALS,
  InvalidSignatureException: CREDENTIALS,
  IncompleteSignature: CREDENTIALS,
  SignatureDoesNotMatch: CREDENTIALS,
  ExpiredTokenException: CREDENTIALS,
  ExpiredToken: CREDENTIALS,
  InvalidClientTokenId: CREDENTIALS,
  MissingAuthenticationToken: CREDENTIALS,
  MissingAuthenticationTokenException: CREDENTIALS,
  CredentialsProviderError: CREDENTIALS,
  TokenProviderError: CREDENTIALS,
  // HTTP layer.
  TimeoutError: TIMEOUT,
  RequestTimeout: TIMEOUT,
  RequestTimeoutException: TIMEOUT,
  ETIMEDOUT: TIMEOUT,
  // undici: a begun answer fell silent for ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS, or none began within
  // ABPROXY_UPSTREAM_ANSWER_TIMEOUT_MS.
  UND_ERR_BODY_TIMEOUT: TIMEOUT,
  UND_ERR_HEADERS_TIMEOUT: TIMEOUT,
  AbortError: { type: 'api_error', status: 500 },
  ECONNREFUSED: NETWORK,
  ECONNRESET: NETWORK,
  EPIPE: NETWORK,
  ENOTFOUND: NETWORK,
  EAI_AGAIN: NETWORK,
  EHOSTUNREACH: NETWORK,
  ENETUNREACH: NETWORK,
  UND_ERR_SOCKET: NETWORK,
  // undici's connect timeout (10 s): packets to the endpoint are dropped; nothing was sent.
  UND_ERR_CONNECT_TIMEOUT: NETWORK,
  ERR_HTTP2_STREAM_ERROR: NETWORK,
  ERR_HTTP2_SESSION_ERROR: NETWORK,
  ERR_HTTP2_GOAWAY_SESSION: NETWORK,
  // nghttp2 refused what came back: e.g. ABPROXY_UPSTREAM_HTTP=2 against an endpoint that speaks HTTP/1.1 only.
  ERR_HTTP2_ERROR: NETWORK,
  // The outbound proxy (HTTPS_PROXY, proxy.ts) refused the tunnel: its credentials or its policy, which
  // a retry does not change; or it could not reach Bedrock itself (5xx), which one may.
  OutboundProxyRefused: { type: 'api_error', status: 502, final: true, kind: 'proxy' },
  OutboundProxyFailed: { type: 'api_error', status: 502, kind: 'proxy' },
};

/**
 * Bedrock's Anthropic Messages API (`/anthropic/v1/messages`) answers errors in Anthropic's shape
 * (`{"type":"error","error":{"type":"rate_limit_error",…}}`); each type is read as the exception that
 * means the same here, so those answers go through the rows above like every other failure. An
 * `authentication_error` there is about the gateway's AWS identity, never the client's key.
 */
export const ANTHROPIC_ERROR_EXCEPTIONS: Readonly<Record<string, keyof typeof BEDROCK_ERRORS>> = {
  invalid_request_error: 'ValidationException',
  authentication_error: 'UnrecognizedClientException',
  permission_error: 'AccessDeniedException',
  not_found_error: 'ResourceNotFoundException',
  rate_limit_error: 'ThrottlingException',
  overloaded_error: 'ServiceUnavailableException',
  timeout_error: 'ModelTimeoutException',
  api_error: 'InternalServerException',
};

// ---- reading the error ----

interface ErrorFacts {
  /** Exception name or Node error code, normalized to the table's spelling. */
  name: string | undefined;
  message: string;
  httpStatus: number | undefined;
  headers: Record<string, unknown> | undefined;
  /** The error answer's body text when the transport kept it (codec.ts httpError does). */
  body: string | undefined;
  isAws: boolean;
}

const MAX_MESSAGE_CHARS = 4_096;

function read(err: unknown): ErrorFacts {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const metadata = e.$metadata as { httpStatusCode?: number } | undefined;
  const response = e.$response as
    | { statusCode?: number; headers?: Record<string, unknown>; body?: unknown }
    | undefined;
  const rawName = typeof e.name === 'string' ? e.name : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  // Event-stream exceptions are spelled in camelCase (`throttlingException`).
  // An Anthropic-shaped error event inside a Messages API stream (translate/messages-api-stream.ts).
  const anthropicType = typeof e.anthropicType === 'string' ? e.anthropicType : undefined;
  const name =
    anthropicType !== undefined && Object.hasOwn(ANTHROPIC_ERROR_EXCEPTIONS, anthropicType)
      ? ANTHROPIC_ERROR_EXCEPTIONS[anthropicType]
      : rawName && rawName !== 'Error'
        ? rawName[0]!.toUpperCase() + rawName.slice(1)
        : code;
  // Own rows only: an upstream (or a proxy before it) naming its error `__proto__` reads no prototype.
  const known = (key: string | undefined) => key !== undefined && Object.hasOwn(BEDROCK_ERRORS, key);
  const tableName = known(name) ? name : known(code) ? code : name;
  return {
    name: tableName,
    // Bounded before the scrubbing and overflow regexes run: an upstream message may echo client input.
    message: (typeof e.message === 'string' ? e.message : String(err)).slice(0, MAX_MESSAGE_CHARS),
    httpStatus: response?.statusCode ?? metadata?.httpStatusCode,
    headers: response?.headers,
    body: typeof response?.body === 'string' ? response.body : undefined,
    isAws: metadata !== undefined || e.$fault !== undefined,
  };
}

function typeForStatus(status: number): ErrorType {
  if (status === 400 || status === 409 || status === 422) return 'invalid_request_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  return 'api_error';
}

/** The AWS SDK's words when an answer's body could not be parsed (not JSON, cut). */
const SDK_PARSE_FAILURE = /Deserialization error/;

/**
 * Bedrock names a model it does not know in a ValidationException; Anthropic answers 404 not_found_error,
 * which clients act on (Claude Code says the model may not exist rather than that the request was bad).
 */
const UNKNOWN_MODEL: Row = { type: 'not_found_error', status: 404, final: true };
function isUnknownModel(facts: ErrorFacts): boolean {
  return (
    facts.name === 'ValidationException' &&
    /^The provided model identifier is invalid\.?$/.test(facts.message)
  );
}

function rowFor(facts: ErrorFacts): Row & { recognized: boolean } {
  if (isUnknownModel(facts)) return { ...UNKNOWN_MODEL, recognized: true };
  const known =
    facts.name !== undefined && Object.hasOwn(BEDROCK_ERRORS, facts.name)
      ? BEDROCK_ERRORS[facts.name]
      : undefined;
  if (known) return { ...known, recognized: true };
  const status = facts.httpStatus;
  // An upstream 401 is about the gateway's AWS identity, never the client's key.
  if (status === 401) return { ...CREDENTIALS, recognized: false };
  // Too large for Bedrock's front door (a huge model id in the URL, a huge body): the client's to fix.
  if (status === 431) return { ...HEADERS_TOO_LARGE, recognized: false };
  if (status === 413) return { ...BODY_TOO_LARGE, recognized: false };
  // A 2xx the SDK could not parse (a proxy's page, a cut body): as our own transports call it.
  if (status !== undefined && status >= 200 && status < 300 && SDK_PARSE_FAILURE.test(facts.message)) {
    return { ...BEDROCK_ERRORS.UpstreamAnswerMalformed!, recognized: true };
  }
  if (status !== undefined && status >= 400 && status <= 599) {
    const type = typeForStatus(status);
    return { type, status, recognized: false, final: status >= 400 && status < 500 && status !== 429 };
  }
  return { type: 'api_error', status: 500, recognized: false };
}

/** The table lookup alone: which Anthropic type and status a Bedrock failure becomes. */
export function classifyBedrockError(err: unknown): BedrockErrorClass {
  const row = rowFor(read(err));
  return {
    type: row.type,
    status: row.status,
    recognized: row.recognized,
    credentials: row.kind === 'credentials',
  };
}

// ---- messages ----

/** Masks account ids, drops IAM/STS principals (role and session names); model ARNs stay readable. */
export function scrubAwsDetails(message: string): string {
  return message
    .replace(/arn:aws[\w-]*:(?:iam|sts)::\d{12}:[\w+=,.@/-]+/g, "the gateway's AWS identity")
    .replace(/(arn:aws[\w-]*:[\w-]+:[\w-]*:)\d{12}(?=:)/g, '$1***')
    .replace(/\b(account(?: id)?:?\s*)\d{12}\b/gi, '$1***');
}

interface Overflow {
  /** Input tokens, when known. */
  input?: number;
  /** Requested max_tokens, when the limit was hit by input + max_tokens. */
  output?: number;
  limit?: number;
}

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

/** Recognizes the context-overflow wordings of Claude and the Converse models; null when not one. */
export function parseContextOverflow(text: string): Overflow | null {
  const message = text.slice(0, MAX_MESSAGE_CHARS);
  let m = /prompt is too long:?\s*(\d+)\s*tokens?\s*>\s*(\d+)/i.exec(message);
  if (m) return { input: num(m[1]), limit: num(m[2]) };
  m = /input length and `?max_tokens`? exceed context limit:?\s*(\d+)\s*\+\s*(\d+)\s*>\s*(\d+)/i.exec(
    message,
  );
  if (m) return { input: num(m[1]), output: num(m[2]), limit: num(m[3]) };
  m = /max(?:imum)? input tokens:?\s*(\d+),?\s*request input token count:?\s*(\d+)/i.exec(message);
  if (m) return { input: num(m[2]), limit: num(m[1]) };
  // OpenAI-style (vLLM/Mantle-served models: GLM, MiniMax, Qwen, Llama…).
  m = /maximum context length is (\d+) tokens/i.exec(message);
  if (m) {
    const limit = num(m[1]);
    const output =
      /requested (\d+) output tokens/i.exec(message) ?? /(?<!\d)(\d+) in the completion/i.exec(message);
    const input =
      /prompt contains at least (\d+) input tokens/i.exec(message) ??
      /\((\d+) in the messages/i.exec(message) ??
      /(?:messages resulted in|requested) (\d+) tokens/i.exec(message);
    return { input: num(input?.[1]), output: num(output?.[1]), limit };
  }
  // Mistral: "Prompt contains 40000 tokens … too large for model with 32768 maximum context length".
  m = /prompt contains (\d+) tokens.*?(?<!\d)(\d+) maximum context length/i.exec(message);
  if (m) return { input: num(m[1]), limit: num(m[2]) };
  if (
    /input is too long|too many (?:total text bytes|input tokens)|exceeds? the (?:model's )?(?:maximum )?context (?:window|length)|context (?:window|length) (?:exceeded|is exceeded)|prompt is too long/i.test(
      message,
    )
  ) {
    return {};
  }
  return null;
}

/** Anthropic's own wording for each kind of overflow, with the best numbers available. */
function overflowMessage(o: Overflow, ctx: BedrockErrorContext): string {
  const limit = o.limit ?? ctx.contextWindow;
  if (o.output !== undefined && o.input !== undefined && limit !== undefined && o.input <= limit) {
    // The input fits; max_tokens does not. Claude Code lowers max_tokens on this exact message.
    return `input length and \`max_tokens\` exceed context limit: ${o.input} + ${o.output} > ${limit}, decrease input length or \`max_tokens\` and try again`;
  }
  if (limit === undefined) {
    return o.input !== undefined
      ? `prompt is too long: ${o.input} tokens exceed the model's maximum`
      : "prompt is too long: the input exceeds the model's context window";
  }
  // Bedrock said it is too long: the count is at least one past the limit even when our estimate is lower.
  const input = Math.max(o.input ?? ctx.estimatedInputTokens ?? 0, limit + 1);
  return `prompt is too long: ${input} tokens > ${limit} maximum`;
}

function retryAfterFrom(headers: Record<string, unknown> | undefined): number | undefined {
  const value = headerOf(headers, 'retry-after');
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(Math.ceil(seconds), MAX_RETRY_AFTER_S);
  const date = Date.parse(String(value));
  return Number.isNaN(date)
    ? undefined
    : Math.min(Math.max(0, Math.ceil((date - Date.now()) / 1000)), MAX_RETRY_AFTER_S);
}

/** A header's value by its lower-case name, whatever case the transport kept (the first, when repeated). */
function headerOf(headers: Record<string, unknown> | undefined, name: string): unknown {
  if (!headers) return undefined;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * The SDK's words for an error answer it could not read: `UnknownError` (no exception name and no
 * message: an empty body, a redirect, JSON without `message`; our own transports say the same, as
 * codec.ts httpError does) or a SyntaxError "Deserialization error" (a body that is not JSON).
 */
function unreadAnswer(facts: ErrorFacts): boolean {
  if (facts.httpStatus === undefined) return false;
  const m = facts.message.trim();
  return m === '' || m === 'UnknownError' || m === 'Unknown' || SDK_PARSE_FAILURE.test(m);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * What an error answer without an exception or message was, in words: its status and the kind of body
 * (a redirect and where to, a page that is not JSON and its content type, or nothing). Only the
 * content type's bare media type and a redirect's host name go in: bounded, nothing of the body, no
 * query string that could carry a token.
 */
function bareAnswer(facts: ErrorFacts): string {
  const status = facts.httpStatus!;
  const type = /^[\w.+-]+\/[\w.+-]+/
    .exec(String(headerOf(facts.headers, 'content-type') ?? ''))?.[0]
    ?.slice(0, 64);
  if (status >= 300 && status < 400) {
    let host: string | undefined;
    try {
      host = new URL(String(headerOf(facts.headers, 'location') ?? '')).hostname.slice(0, 128) || undefined;
    } catch {}
    return `Bedrock answered HTTP ${status}, a redirect${host ? ` to ${host}` : ''}, instead of an answer (a proxy or a wrong endpoint in between?)`;
  }
  const body = facts.body?.trim();
  const notJson =
    SDK_PARSE_FAILURE.test(facts.message) || (body !== undefined && body !== '' && !isJson(body));
  if (notJson) return `Bedrock answered HTTP ${status} with a non-JSON body (${type ?? 'no content-type'})`;
  if (body === '') return `Bedrock answered HTTP ${status} with an empty body`;
  return `Bedrock answered HTTP ${status} without an error message${type ? ` (${type})` : ''}`;
}

function describe(facts: ErrorFacts, row: Row): string {
  const upstream = unreadAnswer(facts)
    ? bareAnswer(facts)
    : scrubAwsDetails(withoutCredentials(facts.message));
  if (row.kind === 'credentials') {
    return (
      `Bedrock rejected the gateway's AWS credentials (${facts.name ?? `HTTP ${facts.httpStatus}`}: ${upstream}). ` +
      'This is a gateway configuration problem, not your API key: ask the operator to refresh its AWS ' +
      'credentials (a gateway on your own machine: `aws sso login` or `aws configure`, then `abproxy doctor`).'
    );
  }
  if (row.kind === 'too-large') {
    return facts.httpStatus === 431
      ? 'Bedrock refused the request headers as too large (HTTP 431): the model id is too long'
      : 'Bedrock refused the request as too large (HTTP 413)';
  }
  if (row.kind === 'proxy') {
    return `Could not reach Bedrock: ${upstream}. This is the gateway's network configuration, not your API key.`;
  }
  if (row.kind === 'network') {
    return `Could not reach Bedrock (${facts.name}): ${upstream}`;
  }
  if (row.type === 'timeout_error' && !facts.isAws) return `Bedrock did not answer in time: ${upstream}`;
  return upstream;
}

/** Any failure of a Bedrock call → ApiError with status, Anthropic type, message and headers. */
export function fromBedrockError(err: unknown, ctx: BedrockErrorContext = {}): ApiError {
  if (err instanceof ApiError) return err;
  const facts = read(err);
  const row = rowFor(facts);
  // Not an AWS or network failure: a bug on our side; its details are logged, not sent.
  if (!row.recognized && !facts.isAws && facts.httpStatus === undefined) {
    return new ApiError('api_error', 'Internal server error', { cause: err });
  }

  const headers: Record<string, string> = {};
  if (row.status === 429 || row.status === 529) {
    headers['retry-after'] = String(retryAfterFrom(facts.headers) ?? DEFAULT_RETRY_AFTER_S);
  }
  if (row.final) headers['x-should-retry'] = 'false';

  let message = describe(facts, row);
  if (row.type === 'invalid_request_error') {
    const overflow = parseContextOverflow(facts.message);
    if (overflow) message = overflowMessage(overflow, ctx);
  }
  return new ApiError(row.type, message, { status: row.status, headers, cause: err });
}
