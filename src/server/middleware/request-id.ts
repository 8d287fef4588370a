import type { Middleware } from '../http/context.ts';
import { randomId } from '../http/random-id.ts';

/** Anthropic-style request id: `req_` + 24 random base62-ish characters. */
export function newRequestId(): string {
  return randomId('req_');
}

/** Sets `request-id` (and `x-request-id`) before anything else runs, so every answer carries it. */
export function requestId(): Middleware {
  return async function requestIdMiddleware(ctx, next) {
    ctx.res.setHeader('request-id', ctx.requestId);
    ctx.res.setHeader('x-request-id', ctx.requestId);
    await next();
  };
}
