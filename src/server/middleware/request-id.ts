import type { Ctx, Middleware } from '../http/context.ts';
import { randomId } from '../http/random-id.ts';
import { traceIdOf } from '../http/traceparent.ts';

/** Anthropic-style request id: `req_` + 24 random base62-ish characters. */
export function newRequestId(): string {
  return randomId('req_');
}

export const TRACE_ID_HEADER = 'x-abproxy-trace-id';

/**
 * Sets the request's W3C trace id on the Ctx and in the `x-abproxy-trace-id` answer header. Tracing
 * (when on) calls this with its span's id; a valid client `traceparent` wins, since the span continues
 * the client's trace anyway. Only 32 lower-case hex characters are taken.
 */
export function adoptTraceId(ctx: Ctx, traceId: string | undefined): void {
  if (ctx.traceId === undefined && traceId !== undefined && /^[0-9a-f]{32}$/.test(traceId)) {
    ctx.traceId = traceId;
  }
  if (ctx.traceId !== undefined && !ctx.res.headersSent) ctx.res.setHeader(TRACE_ID_HEADER, ctx.traceId);
}

/**
 * Sets `request-id` (and `x-request-id`) before anything else runs, so every answer carries it; and
 * the trace id of a client that sent a valid `traceparent` (even with tracing off), so its own
 * telemetry can be joined with our logs and usage records.
 */
export function requestId(): Middleware {
  // Nothing to await: returns the rest of the chain's promise (no async wrapper per request).
  return function requestIdMiddleware(ctx, next) {
    ctx.res.setHeader('request-id', ctx.requestId);
    ctx.res.setHeader('x-request-id', ctx.requestId);
    adoptTraceId(ctx, traceIdOf(ctx.req.headers.traceparent));
    return next();
  };
}
