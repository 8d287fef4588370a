/** The door's request bodies: one JSON object, or the 400 Bedrock answers (ValidationException). */
import { ApiError } from '../../anthropic/errors.ts';

export function jsonObjectBody(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw ApiError.invalid(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ApiError.invalid('The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
