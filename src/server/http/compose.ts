import type { Ctx, Middleware, Next } from './context.ts';

/**
 * Runs middlewares in order; each may call `next()` once to run the rest. No async wrapper per step: a
 * middleware with nothing to await may return `next()` itself (one promise for the whole pass instead
 * of two per step); a synchronous throw still comes out as a rejected promise.
 */
export function compose(middlewares: readonly Middleware[]): (ctx: Ctx) => Promise<void> {
  const count = middlewares.length;
  return (ctx) => {
    let last = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= last) return Promise.reject(new Error('next() called more than once'));
      last = i;
      if (i >= count) return Promise.resolve();
      try {
        return middlewares[i]!(ctx, () => dispatch(i + 1));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}

/**
 * next()'s promise, a synchronous throw as a rejection (as an async function would have it): for a
 * middleware that handles what the rest of the chain ends with in then() or catch() instead of an
 * async frame, which would stay suspended (with its promise links) for a whole stream.
 */
export function nextPromise(next: Next): Promise<void> {
  try {
    return next();
  } catch (err) {
    return Promise.reject(err);
  }
}
