/**
 * The reverse of the fault table (aws-errors.ts): any failure → the error a Bedrock client expects, for
 * the Bedrock-format door. AWS SDKs pick the exception class from `x-amzn-errortype` and read `message`
 * from the JSON body, so our own refusals (keys, limits, budgets, hostile input) are spelled as Bedrock's
 * exceptions, and Bedrock's own client faults go back under their own name and status.
 *
 * Choices:
 * - A refused or unknown key → 403 UnrecognizedClientException (what Bedrock answers a bad API key).
 * - Our rate limits → 429 ThrottlingException (the SDKs retry it with backoff, honouring retry-after).
 * - An exhausted budget → 400 ServiceQuotaExceededException: the status keeps every AWS SDK from retrying
 *   (they treat any 429 as throttling), and the name says a quota, not a transient fault.
 * - The gateway's own AWS credentials or network failing → 502 InternalServerException with our message:
 *   never UnrecognizedClientException, which would blame the caller's key.
 * - Headers go as they are, `x-should-retry` included: the AWS SDKs ignore it, but the Anthropic Bedrock
 *   SDK (Claude Code and the Agent SDK in Bedrock mode) obeys it, and retried a 502 for the gateway's own
 *   refused AWS keys 10 times over three minutes without it.
 */
import { ApiError, type ErrorType } from '../anthropic/errors.ts';
import { BEDROCK_ERRORS, classifyBedrockError, fromBedrockError, scrubAwsDetails } from './aws-errors.ts';

export interface BedrockFault {
  /** The exception name, sent as `x-amzn-errortype`. */
  name: string;
  status: number;
  message: string;
  /** retry-after and the like. */
  headers: Record<string, string>;
}

/** Our error types → Bedrock's exception name and usual status. */
export const BEDROCK_FAULT_BY_TYPE: Readonly<Record<ErrorType, { name: string; status: number }>> = {
  invalid_request_error: { name: 'ValidationException', status: 400 },
  authentication_error: { name: 'UnrecognizedClientException', status: 403 },
  billing_error: { name: 'ServiceQuotaExceededException', status: 400 },
  permission_error: { name: 'AccessDeniedException', status: 403 },
  not_found_error: { name: 'ResourceNotFoundException', status: 404 },
  request_too_large: { name: 'ValidationException', status: 413 },
  unsupported_media_type: { name: 'ValidationException', status: 415 },
  rate_limit_error: { name: 'ThrottlingException', status: 429 },
  timeout_error: { name: 'ModelTimeoutException', status: 408 },
  api_error: { name: 'InternalServerException', status: 500 },
  overloaded_error: { name: 'ServiceUnavailableException', status: 503 },
};

/** An exception Bedrock itself raised about the request (not about our credentials or the network). */
function upstreamClientFacing(
  err: unknown,
): { name: string; status: number | undefined; message: string } | null {
  if (err === undefined || err === null || err instanceof ApiError || typeof err !== 'object') return null;
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  if (typeof e.name !== 'string' || !(e.name in BEDROCK_ERRORS) || !/Exception$/.test(e.name)) return null;
  const { status } = classifyBedrockError(err);
  if (status === 502) return null;
  return {
    name: e.name,
    status: e.$metadata?.httpStatusCode,
    message: typeof e.message === 'string' ? e.message : e.name,
  };
}

/** Any failure → the Bedrock-shaped error to send on the door. */
export function toBedrockFault(err: unknown): BedrockFault {
  const upstream = upstreamClientFacing(err instanceof ApiError ? err.cause : err);
  const api = err instanceof ApiError ? err : fromBedrockError(err);
  const row = BEDROCK_FAULT_BY_TYPE[api.type];
  if (upstream) {
    return {
      name: upstream.name,
      status: upstream.status ?? row.status,
      message: scrubAwsDetails(upstream.message),
      headers: api.headers,
    };
  }
  // A status the type implies is Anthropic's convention (401, 402, 529): Bedrock's replaces it. A
  // status chosen on purpose (405, 502) is kept, and so is the 504 of the gateway's own timeouts (the
  // answer, stream-start and pool first-byte bounds): under ModelTimeoutException's 408 the AWS SDKs
  // would not retry a call that another attempt (another region, once a breaker opened) may serve.
  const implied = new ApiError(api.type, '').status;
  const kept = api.status !== implied || api.type === 'timeout_error';
  return {
    name: row.name,
    status: kept ? api.status : row.status,
    message: api.message,
    headers: api.headers,
  };
}
