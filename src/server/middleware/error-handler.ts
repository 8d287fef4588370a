import { ApiError, toApiError } from '../../anthropic/errors.ts';
import { ClientLeftError } from '../http/client-abort.ts';
import { nextPromise } from '../http/compose.ts';
import type { Ctx, Middleware } from '../http/context.ts';
import { sendJson } from '../http/respond.ts';

/** Writes an ApiError as Anthropic does: status, headers, and the body with `request_id`. */
export function sendError(ctx: Ctx, err: ApiError): void {
  const { res } = ctx;
  if (res.headersSent) {
    // A stream already began; its writer reports errors in-band. Nothing sane is left to send.
    res.destroy();
    return;
  }
  sendJson(res, err.status, { ...err.toJSON(), request_id: ctx.requestId }, err.headers);
}

/** One place that turns anything thrown into an Anthropic error answer; only our faults are 5xx. */
export function errorHandler(): Middleware {
  // A handler on next()'s promise, not an async function around it (compose.ts nextPromise).
  return function errorHandlerMiddleware(ctx, next) {
    return nextPromise(next).catch((err: unknown) => answerError(ctx, err));
  };
}

function answerError(ctx: Ctx, err: unknown): void {
  if (clientLeft(ctx, err)) return;
  const apiError = toApiError(err);
  if (!(err instanceof ApiError)) {
    ctx.log.error({ err, requestId: ctx.requestId }, 'unhandled error');
  } else if (apiError.status >= 500 && !apiError.logged) {
    ctx.log.warn({ err: apiError.cause ?? apiError, requestId: ctx.requestId }, apiError.message);
  }
  sendError(ctx, apiError);
}

/**
 * A request whose client left mid-body: nothing to send, and not an error of ours (not logged as one,
 * not a 500); 499 in the request's stats, as metering records it.
 */
export function clientLeft(ctx: Ctx, err: unknown): boolean {
  if (!(err instanceof ClientLeftError)) return false;
  ctx.log.debug({ requestId: ctx.requestId, err: err.message }, 'client left before sending its whole body');
  ctx.res.statusCode = 499;
  return true;
}
