import { ApiError } from '../../anthropic/errors.ts';
import { isLoopbackHost } from '../../config/config.ts';
import type { Middleware } from '../http/context.ts';

/** `Host` without its port: `[::1]:8080` → `[::1]`, `localhost:80` → `localhost`. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
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
    const host = ctx.req.headers.host;
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
