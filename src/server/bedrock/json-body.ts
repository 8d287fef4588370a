/** The door's request bodies: one JSON object, or the 400 Bedrock answers (ValidationException). */
import { ApiError } from '../../anthropic/errors.ts';
import { MAX_JSON_DEPTH, tooDeep } from '../../anthropic/validate.ts';
import { parseJson } from '../http/body.ts';

/**
 * As /v1/messages reads its bodies: valid UTF-8 (what is checked is what Bedrock reads: no lossy decode
 * beside raw bytes forwarded), V8's excerpt of the body kept out of the message (it reaches logs and
 * spans), and no value nested deeper than the gateway's own code can walk (a re-serialised body would
 * overflow JSON.stringify's stack: a 500 the SDK retries).
 */
export function jsonObjectBody(body: Buffer): Record<string, unknown> {
  const value = parseJson(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ApiError.invalid('The request body must be a JSON object');
  }
  if (tooDeep(value)) {
    throw ApiError.invalid(`The request body must be nested at most ${MAX_JSON_DEPTH} levels deep`);
  }
  return value as Record<string, unknown>;
}
