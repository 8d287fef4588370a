import { ApiError } from '../anthropic/errors.ts';
import type { Ctx, Handler } from './context.ts';
import { sendError } from './error-handler.ts';
import { sendJson } from './respond.ts';

/** Liveness: the process answers. */
export function healthHandler(): Handler {
  return async function health(ctx) {
    sendJson(ctx.res, 200, { status: 'ok' });
  };
}

/** Readiness: false while draining, so a load balancer stops sending new work. */
export function readyHandler(isDraining: () => boolean): Handler {
  return async function ready(ctx) {
    if (isDraining()) sendJson(ctx.res, 503, { status: 'draining' });
    else sendJson(ctx.res, 200, { status: 'ready' });
  };
}

const PROBE_PATHS = new Set(['/health', '/ready']);

/**
 * The answer to any request that arrives while the gateway drains. The listener stays open during a
 * drain (closing it would turn the load balancer's health checks and any request it still routes here
 * into connection errors, i.e. 502s): probes get 503 so the instance leaves rotation, API calls get a
 * retryable 503 overloaded_error on a closing connection, so the client's retry lands on another
 * instance. Requests already in flight are not affected.
 */
export function answerWhileDraining(ctx: Ctx): void {
  ctx.res.setHeader('request-id', ctx.requestId);
  ctx.res.setHeader('connection', 'close');
  if (PROBE_PATHS.has(ctx.url.pathname)) {
    sendJson(ctx.res, 503, { status: 'draining' });
    return;
  }
  sendError(
    ctx,
    new ApiError('overloaded_error', 'This gateway instance is shutting down; retry the request.', {
      status: 503,
      headers: { 'retry-after': '1', 'x-should-retry': 'true' },
    }),
  );
}
