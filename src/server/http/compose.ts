import type { Ctx, Middleware } from './context.ts';

/** Runs middlewares in order; each may call `next()` once to run the rest. */
export function compose(middlewares: readonly Middleware[]): (ctx: Ctx) => Promise<void> {
  return (ctx) => {
    let last = -1;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= last) throw new Error('next() called more than once');
      last = i;
      const middleware = middlewares[i];
      if (middleware) await middleware(ctx, () => dispatch(i + 1));
    };
    return dispatch(0);
  };
}
