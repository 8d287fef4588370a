/**
 * A SigV4-signed call (`Authorization: AWS4-HMAC-SHA256 …`, or `X-Amz-Signature` in the query) on the
 * Bedrock-format door comes from a client holding AWS credentials rather than an abproxy key. It is
 * refused here — even on an open loopback gateway — and never forwarded: the gateway would otherwise
 * lend its own AWS identity to whoever signed with anything at all. A caller may still send its abproxy
 * key in `x-api-key` (or the configured key header) next to the signature.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../../anthropic/errors.ts';
import type { Middleware } from '../http/context.ts';
import { isDoorPath } from './paths.ts';

function signedWithSigV4(headers: IncomingHttpHeaders, url: URL): boolean {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && /^\s*AWS4-/i.test(authorization)) return true;
  return url.searchParams.has('X-Amz-Signature');
}

function hasKeyHeader(headers: IncomingHttpHeaders, extraHeader: string | undefined): boolean {
  for (const name of new Set(['x-api-key', extraHeader ?? 'x-api-key'])) {
    const value = headers[name];
    if (typeof value === 'string' && value.trim() !== '') return true;
  }
  return false;
}

export function sigv4Guard(options: { header?: string } = {}): Middleware {
  // Nothing to await: off the door (every /v1/messages call) it costs one path test.
  return function sigv4GuardMiddleware(ctx, next) {
    if (
      isDoorPath(ctx.url.pathname) &&
      signedWithSigV4(ctx.req.headers, ctx.url) &&
      !hasKeyHeader(ctx.req.headers, options.header)
    ) {
      return Promise.reject(
        new ApiError(
          'authentication_error',
          'This gateway does not take AWS credentials (SigV4). Authenticate with an abproxy key: set ' +
            'AWS_BEARER_TOKEN_BEDROCK to the key (sent as Authorization: Bearer), or send it in x-api-key.',
        ),
      );
    }
    return next();
  };
}
