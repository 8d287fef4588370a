import { describe, expect, it } from 'vitest';
import { compose } from './compose.ts';
import type { Ctx, Middleware } from './context.ts';

const ctx = {} as Ctx;

describe('compose', () => {
  it('runs async and synchronous pass-through middlewares in order, around the rest', async () => {
    const seen: string[] = [];
    const run = compose([
      async (_ctx, next) => {
        seen.push('a in');
        await next();
        seen.push('a out');
      },
      (_ctx, next) => {
        seen.push('b');
        return next();
      },
      async () => {
        seen.push('handler');
      },
    ]);
    await run(ctx);
    expect(seen).toEqual(['a in', 'b', 'handler', 'a out']);
  });

  it('turns a synchronous throw into a rejection an outer middleware can catch', async () => {
    let caught: unknown;
    const boom: Middleware = () => {
      throw new Error('boom');
    };
    const run = compose([
      async (_ctx, next) => {
        try {
          await next();
        } catch (err) {
          caught = err;
        }
      },
      boom,
    ]);
    await run(ctx);
    expect((caught as Error).message).toBe('boom');
    await expect(compose([boom])(ctx)).rejects.toThrow('boom');
  });

  it('refuses a second next()', async () => {
    const run = compose([
      async (_ctx, next) => {
        await next();
        await next();
      },
    ]);
    await expect(run(ctx)).rejects.toThrow('next() called more than once');
  });
});
