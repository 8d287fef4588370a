import { ApiError, echoed } from '../../anthropic/errors.ts';
import type { Handler, Middleware } from './context.ts';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH';
  /** Literal segments and `:name` parameters; the last parameter may hold slashes (ARNs). */
  path: string;
  handler: Handler;
}

/** `want`: the route's pattern split on `/` (once, when the router is built); `got`: the path's. */
function match(want: readonly string[], got: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith(':')) {
      const last = i === want.length - 1;
      const value = last ? got.slice(i).join('/') : got[i];
      if (value === undefined || value === '') return null;
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return null;
      }
      if (last) return params;
    } else if (segment !== got[i]) {
      return null;
    }
  }
  return want.length === got.length ? params : null;
}

/**
 * The path routes are matched on: trailing slashes dropped (a common client slip), `/` kept. A loop,
 * not `/\/+$/`, which retries from every slash of a long run (quadratic in a client-chosen path).
 */
export function routePath(pathname: string): string {
  let end = pathname.length;
  while (end > 1 && pathname.charCodeAt(end - 1) === 0x2f) end--;
  return end === pathname.length ? pathname : pathname.slice(0, end);
}

/** Whether some route takes `method` at `pathname` (a form-body check leaves the rest to the 404). */
export function routeTakes(routes: readonly Route[], method: Route['method'], pathname: string): boolean {
  const got = routePath(pathname).split('/');
  return routes.some((route) => route.method === method && match(route.path.split('/'), got) !== null);
}

/**
 * Dispatches on method and path; unknown paths are 404, known paths with another method 405 (rejected
 * promises). Not an async function: the handler's own promise is the route's, no link added per call.
 */
export function router(routes: readonly Route[]): Middleware {
  const compiled = routes.map((route) => ({ route, segments: route.path.split('/') }));
  return function routerMiddleware(ctx) {
    // The query (e.g. ?beta=true) never matters.
    const path = routePath(ctx.url.pathname);
    const got = path.split('/');
    const method = ctx.req.method === 'HEAD' ? 'GET' : ctx.req.method;
    const allowed: string[] = [];
    for (const { route, segments } of compiled) {
      const params = match(segments, got);
      if (!params) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      ctx.params = params;
      return route.handler(ctx);
    }
    if (allowed.length > 0) {
      return Promise.reject(
        new ApiError('invalid_request_error', `Method ${ctx.req.method} is not allowed for ${echoed(path)}`, {
          status: 405,
          headers: { allow: [...new Set(allowed)].join(', ') },
        }),
      );
    }
    return Promise.reject(new ApiError('not_found_error', `Not found: ${ctx.req.method} ${echoed(path)}`));
  };
}
