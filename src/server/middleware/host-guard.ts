import { ApiError } from '../../anthropic/errors.ts';
import { isLoopbackHost } from '../../config/config.ts';
import type { Middleware } from '../http/context.ts';
import { absoluteFormAuthority } from '../http/request-target.ts';

/**
 * `Host` without its port: `[::1]:8080` → `[::1]`, `localhost:80` → `localhost`. Anything after the name
 * that is not `:digits` stays part of it (`localhost:80@evil`, `[::1]evil`), so it is no loopback name.
 */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim();
  const nameEnd = h.startsWith('[') ? h.indexOf(']') + 1 : h.lastIndexOf(':');
  if (nameEnd <= 0 || nameEnd === h.length) return h;
  return /^:\d*$/.test(h.slice(nameEnd)) ? h.slice(0, nameEnd) : h;
}

/** How many `Host` lines the request's head had (node keeps the first and drops the others). */
function hostLines(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}

/**
 * The one Host every HTTP/1.1 request must carry (RFC 9112 §3.2), answered here in the caller's shape
 * rather than by node's bare 400 (`requireHostHeader: false` on the server). On a loopback bind, also
 * the DNS-rebinding guard: a web page can point its own domain at 127.0.0.1, but the browser still sends
 * that domain as `Host`. Only loopback names may reach a loopback-bound gateway.
 */
export function hostGuard({ loopback }: { loopback: boolean }): Middleware {
  // A loopback gateway sees a handful of Host values (`127.0.0.1:8080`, `localhost:8080`): the ones
  // already accepted are remembered (bounded) instead of parsed and matched on every request.
  const accepted = new Set<string>();
  return function hostGuardMiddleware(ctx, next) {
    const { headers } = ctx.req;
    // An absolute-form target names the host itself (RFC 9112 §3.2.2: the Host header is then ignored).
    // HTTP/2 carries the host as `:authority` (curl --http2-prior-knowledge sends no `host`).
    const host =
      absoluteFormAuthority(ctx.req.url) ?? headers.host ?? (headers[':authority'] as string | undefined);
    if (host === undefined) {
      if (ctx.req.httpVersion === '1.1')
        return Promise.reject(ApiError.invalid('HTTP/1.1 requests must carry a Host header'));
      return next();
    }
    // RFC 9112 §3.2: more than one is a 400. Each hop may read a different one: the guard would check
    // the first while a proxy in front routed or logged by the second.
    if (headers.host !== undefined && hostLines(ctx.req.rawHeaders) > 1) {
      return Promise.reject(
        new ApiError('invalid_request_error', 'Requests must carry exactly one Host header', {
          headers: { connection: 'close' },
        }),
      );
    }
    if (loopback && !accepted.has(host)) {
      if (!isLoopbackHost(hostName(host))) {
        return Promise.reject(
          new ApiError(
            'permission_error',
            `Host '${host}' is not allowed: this gateway listens on a loopback address and only accepts loopback host names`,
          ),
        );
      }
      if (accepted.size < 64) accepted.add(host);
    }
    return next();
  };
}
