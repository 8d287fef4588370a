import type { Handler } from './context.ts';
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
