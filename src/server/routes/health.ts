import { createHmac } from 'node:crypto';
import { ApiError } from '../../anthropic/errors.ts';
import { sendBedrockError } from '../bedrock/errors.ts';
import { isDoorPath } from '../bedrock/paths.ts';
import type { Ctx, Handler } from '../http/context.ts';
import { sendJson } from '../http/respond.ts';
import { sendError } from '../middleware/error-handler.ts';

/** A nonce a caller of /health sends to make the gateway prove it holds the instance secret. */
export const CHALLENGE_HEADER = 'x-abproxy-challenge';
/** The answer: hex HMAC-SHA256 of the nonce under the instance secret (never the secret itself). */
export const PROOF_HEADER = 'x-abproxy-proof';

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

export function instanceProof(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(nonce).digest('hex');
}

/**
 * Liveness: the process answers. With an instance secret (the one `serve` keeps in the state file), a
 * well-formed challenge gets a proof, so `abproxy claude` can tell this gateway from whatever else
 * listens on the port the state file names before it sends a key.
 */
export function healthHandler(instanceSecret?: string): Handler {
  return async function health(ctx) {
    const nonce = ctx.req.headers[CHALLENGE_HEADER];
    if (instanceSecret && typeof nonce === 'string' && NONCE.test(nonce))
      ctx.res.setHeader(PROOF_HEADER, instanceProof(instanceSecret, nonce));
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
 * instance. Requests already in flight are not affected. On the Bedrock-format door the 503 is
 * Bedrock's (ServiceUnavailableException), as every other door error is.
 */
export function answerWhileDraining(ctx: Ctx): void {
  ctx.res.setHeader('request-id', ctx.requestId);
  // HTTP/2 (the AWS SDK on the door) forbids connection-specific headers; its session just ends later.
  if (ctx.req.httpVersionMajor !== 2) ctx.res.setHeader('connection', 'close');
  if (PROBE_PATHS.has(ctx.url.pathname)) {
    sendJson(ctx.res, 503, { status: 'draining' });
    return;
  }
  const refusal = new ApiError(
    'overloaded_error',
    'This gateway instance is shutting down; retry the request.',
    {
      status: 503,
      headers: { 'retry-after': '1', 'x-should-retry': 'true' },
    },
  );
  if (isDoorPath(ctx.url.pathname)) sendBedrockError(ctx, refusal);
  else sendError(ctx, refusal);
}
