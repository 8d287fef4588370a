/**
 * Errors on the Bedrock-format door in Bedrock's shape: `x-amzn-errortype` names the exception, the body
 * is `{"message": …}`, `x-amzn-requestid` carries our request id. Sits right after the Anthropic error
 * handler, so everything thrown further in (host and origin guards, key auth, limits, the router, the
 * handlers) on a door path comes out this way; other paths are untouched.
 */
import { ApiError, toApiError } from '../../anthropic/errors.ts';
import { toBedrockFault } from '../../upstream/bedrock-faults.ts';
import { bodyDrained } from '../http/body.ts';
import { nextPromise } from '../http/compose.ts';
import type { Ctx, Middleware } from '../http/context.ts';
import { clientLeft } from '../middleware/error-handler.ts';
import { isDoorPath } from './paths.ts';

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

export function sendBedrockError(ctx: Ctx, err: unknown): void {
  const { res } = ctx;
  if (res.headersSent) {
    // Bytes of Bedrock's answer already went out; an eventstream cannot take a JSON error now.
    res.destroy();
    return;
  }
  const fault = toBedrockFault(err);
  const text = JSON.stringify({ message: fault.message });
  const headers = { ...fault.headers };
  // HTTP/2 (the AWS JS SDK over h2c) forbids connection-specific headers: node throws on them.
  if (ctx.req.httpVersionMajor === 2) for (const name of HOP_BY_HOP) delete headers[name];
  res.writeHead(fault.status, {
    ...headers,
    'x-amzn-errortype': fault.name,
    'x-amzn-requestid': ctx.requestId,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function bedrockErrors(): Middleware {
  // A handler on next()'s promise, not an async function around it (compose.ts nextPromise).
  return function bedrockErrorsMiddleware(ctx, next) {
    if (!isDoorPath(ctx.url.pathname)) return next();
    ctx.res.setHeader('x-amzn-requestid', ctx.requestId);
    return nextPromise(next).catch((err: unknown) => answerDoorError(ctx, err));
  };
}

async function answerDoorError(ctx: Ctx, err: unknown): Promise<void> {
  if (clientLeft(ctx, err)) return;
  await bodyDrained(ctx.req);
  const apiError = err instanceof ApiError ? err : toApiError(err);
  if (!(err instanceof ApiError) && apiError.status >= 500 && !isAwsError(err)) {
    ctx.log.error({ err, requestId: ctx.requestId }, 'unhandled error');
  } else if (apiError.status >= 500) {
    ctx.log.warn({ err, requestId: ctx.requestId }, apiError.message);
  }
  sendBedrockError(ctx, err);
}

function isAwsError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}
