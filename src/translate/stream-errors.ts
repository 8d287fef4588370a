/**
 * Exception events inside a ConverseStream (the SDK surfaces them as union members such as
 * `throttlingException`) → the ApiError the client sees, as an in-stream `event: error` once the
 * response has begun. One row per exception; the statuses follow the gateway's Bedrock error table.
 */
import { ApiError, type ErrorType } from '../anthropic/errors.ts';

export type StreamExceptionMember =
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'validationException'
  | 'throttlingException'
  | 'serviceUnavailableException'
  | 'modelNotReadyException'
  | 'modelTimeoutException';

export const STREAM_EXCEPTIONS: Readonly<Record<StreamExceptionMember, ErrorType>> = {
  throttlingException: 'rate_limit_error',
  serviceUnavailableException: 'overloaded_error',
  modelNotReadyException: 'overloaded_error',
  // A model that stops answering mid-stream is an overload from the client's point of view (it retries).
  modelTimeoutException: 'overloaded_error',
  modelStreamErrorException: 'api_error',
  internalServerException: 'api_error',
  validationException: 'invalid_request_error',
};

export function isStreamExceptionMember(name: string): name is StreamExceptionMember {
  return Object.hasOwn(STREAM_EXCEPTIONS, name);
}

/** The ApiError for an exception event; the upstream message is kept, it carries no secrets. */
export function streamExceptionToApiError(member: StreamExceptionMember, exception: unknown): ApiError {
  const type = STREAM_EXCEPTIONS[member];
  const upstream =
    typeof exception === 'object' && exception !== null && 'message' in exception
      ? String((exception as { message: unknown }).message)
      : '';
  const message = upstream === '' ? `Bedrock ${member}` : `Bedrock ${member}: ${upstream}`;
  return new ApiError(type, message, { cause: exception });
}
