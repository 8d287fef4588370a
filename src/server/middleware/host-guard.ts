import { ApiError } from '../../anthropic/errors.ts';
import { isLoopbackHost } from '../../config/config.ts';
import type { Middleware } from '../http/context.ts';

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

/**
 * DNS-rebinding guard for loopback binds: a web page can point its own domain at 127.0.0.1, but the
 * browser still sends that domain as `Host`. Only loopback names may reach a loopback-bound gateway.
 */
export function hostGuard(): Middleware {
  // A loopback gateway sees a handful of Host values (`127.0.0.1:8080`, `localhost:8080`): the ones
  // already accepted are remembered (bounded) instead of parsed and matched on every request.
  const accepted = new Set<string>();
  return function hostGuardMiddleware(ctx, next) {
    // HTTP/2 carries the host as `:authority` (curl --http2-prior-knowledge sends no `host`).
    const host = ctx.req.headers.host ?? (ctx.req.headers[':authority'] as string | undefined);
    if (host !== undefined && !accepted.has(host)) {
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
