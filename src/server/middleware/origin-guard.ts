import { ApiError, echoed } from '../../anthropic/errors.ts';
import type { Ctx, Middleware } from '../http/context.ts';
import { routePath } from '../http/router.ts';

/**
 * Browser guard, as Anthropic's API does it: a web page must not be able to spend through a gateway
 * it can reach (a developer's loopback gateway is open until a key exists, and a browser "simple
 * request" — text/plain or form POST — needs no preflight). Browsers mark their requests with `Origin`
 * (every POST, every CORS request) and `Sec-Fetch-Site`; non-browser clients (Claude Code, the SDKs,
 * curl) send neither. So a request carrying either mark is refused unless its origin is listed in
 * ABPROXY_ALLOWED_ORIGINS; CORS preflights are answered only for listed origins.
 */

export interface OriginGuardOptions {
  /** Exact origins (`https://app.example.com`) whose pages may call the gateway. */
  allowedOrigins: readonly string[];
  /** The extra header that may carry a key (API_KEY_HEADER); allowed in preflights. */
  apiKeyHeader?: string;
  /**
   * Pages a person opens in a browser (sign-in's device page and IdP callback): top-level navigations
   * and form posts that protect themselves (CSRF token, SameSite cookies), so the guard lets them by.
   */
  browserPages?: readonly string[];
}

/** GET/HEAD of these stay usable from anywhere: no side effect, and without CORS headers unreadable. */
const PROBE_PATHS = new Set(['/health', '/ready', '/metrics']);

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** What the Anthropic SDK sends from a browser, besides the CORS-safelisted headers. */
const BASE_ALLOWED_HEADERS = [
  'x-api-key',
  'authorization',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'content-type',
  // W3C trace context: a page's tracer joins the gateway's trace (x-abproxy-trace-id answers it).
  'traceparent',
  'tracestate',
];
const EXPOSED_HEADERS = [
  'request-id',
  'x-request-id',
  'retry-after',
  'x-abproxy-trace-id',
  'x-abproxy-upstream',
  'x-abproxy-warnings',
].join(', ');
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/** `Sec-Fetch-Site` values that mean another site's page made the request. */
const FOREIGN_FETCH_SITES = new Set(['cross-site', 'same-site']);

function header(ctx: Ctx, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a requested preflight header may be sent: the fixed list, the SDK's x-stainless-* headers. */
function headerAllowed(name: string, allowed: ReadonlySet<string>): boolean {
  return allowed.has(name) || name.startsWith('x-stainless-');
}

/** Shown in messages; the client's value is cut and stripped of anything but printable ASCII. */
function quoted(origin: string): string {
  return `'${echoed(origin.replace(/[^\x20-\x7e]/g, '?'))}'`;
}

function refuse(origin: string | undefined): ApiError {
  const who = origin === undefined ? 'a cross-site web page' : `web origin ${quoted(origin)}`;
  return new ApiError(
    'permission_error',
    `Requests from ${who} are not allowed: this gateway only answers browsers whose origin is listed in ABPROXY_ALLOWED_ORIGINS`,
  );
}

export function originGuard(options: OriginGuardOptions): Middleware {
  const allowedOrigins = new Set(options.allowedOrigins);
  const browserPages = new Set(options.browserPages);
  const allowedHeaders = new Set(BASE_ALLOWED_HEADERS);
  if (options.apiKeyHeader) allowedHeaders.add(options.apiKeyHeader.toLowerCase());

  // Not an async function: next()'s promise is the request's, no link added per call.
  return function originGuardMiddleware(ctx, next) {
    const origin = header(ctx, 'origin');
    const fetchSite = header(ctx, 'sec-fetch-site')?.trim().toLowerCase();
    const fromBrowserPage =
      origin !== undefined || (fetchSite !== undefined && FOREIGN_FETCH_SITES.has(fetchSite));
    if (!fromBrowserPage) return next();

    const method = ctx.req.method ?? 'GET';
    const path = routePath(ctx.url.pathname);
    if (browserPages.has(path)) return next();
    if ((method === 'GET' || method === 'HEAD') && PROBE_PATHS.has(path)) return next();
    if (origin === undefined || !allowedOrigins.has(origin)) return Promise.reject(refuse(origin));

    ctx.res.setHeader('access-control-allow-origin', origin);
    ctx.res.setHeader('vary', 'Origin');
    if (method === 'OPTIONS') {
      try {
        answerPreflight(ctx, allowedHeaders);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    ctx.res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    return next();
  };
}

/** A CORS preflight of a listed origin: 204 with what may follow, or 403 naming what may not. */
function answerPreflight(ctx: Ctx, allowedHeaders: ReadonlySet<string>): void {
  const requestedMethod = header(ctx, 'access-control-request-method')?.trim().toUpperCase();
  if (requestedMethod !== undefined && !ALLOWED_METHODS.split(', ').includes(requestedMethod)) {
    throw new ApiError('permission_error', `Method ${quoted(requestedMethod)} is not allowed by CORS here`);
  }
  const requested = (header(ctx, 'access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const refused = requested.filter((h) => !headerAllowed(h, allowedHeaders));
  if (refused.length > 0) {
    throw new ApiError(
      'permission_error',
      `Header ${quoted(refused.join(', '))} is not allowed by CORS here`,
    );
  }
  ctx.res.writeHead(204, {
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': [
      ...allowedHeaders,
      ...requested.filter((h) => !allowedHeaders.has(h)),
    ].join(', '),
    'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
    'content-length': '0',
  });
  ctx.res.end();
}
