/** For tests: the ApiError a call throws (anything else it throws is rethrown; no throw fails the test). */
import { ApiError } from './errors.ts';

export function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}
