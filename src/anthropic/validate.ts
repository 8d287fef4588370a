// CONTRACT STUB — owned by the validation helper, who replaces the body. Signature agreed.
import type { CountTokensRequest, MessagesRequest } from './types.ts';

/** Checks a parsed JSON body; throws ApiError(invalid_request_error) naming the field (e.g. `messages.2.content.0.source.data: Field required`). */
export function validateMessagesRequest(_body: unknown): MessagesRequest {
  throw new Error('not implemented');
}

export function validateCountTokensRequest(_body: unknown): CountTokensRequest {
  throw new Error('not implemented');
}
