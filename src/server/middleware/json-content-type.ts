import { ApiError } from '../../anthropic/errors.ts';
import type { Middleware } from '../http/context.ts';
import { routePath } from '../http/router.ts';

/**
 * Request bodies must be JSON, declared as such: `application/json`, optionally with a UTF-8 charset.
 * A form or text/plain body is what a web page can send without a CORS preflight, so refusing it here
 * closes that door even for a page that hides its origin; it is also Anthropic's own rule (415).
 */
export function jsonContentType(
  options: { formPaths?: ReadonlySet<string>; exempt?: (pathname: string) => boolean } = {},
): Middleware {
  const formPaths = options.formPaths ?? new Set<string>();
  const exempt = options.exempt ?? (() => false);
  return function jsonContentTypeMiddleware(ctx, next) {
    if (
      ctx.req.method === 'POST' &&
      !isJsonContentType(ctx.req.headers['content-type']) &&
      // OAuth endpoints take forms (RFC 6749/8628), telemetry sinks take OTLP: their own parsers decide.
      !formPaths.has(routePath(ctx.url.pathname)) &&
      !exempt(ctx.url.pathname)
    ) {
      return Promise.reject(
        new ApiError(
          'unsupported_media_type',
          "Request bodies must be JSON: send 'content-type: application/json'",
        ),
      );
    }
    return next();
  };
}

/** `application/json` with no parameter but a UTF-8 charset; case and spaces as HTTP allows. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === 'application/json') return true; // what nearly every client sends
  const [mediaType = '', ...params] = value.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') return false;
  return params.every((param) => {
    if (param === '') return true;
    const [name, raw = ''] = param.split('=').map((s) => s.trim());
    const charset = raw.replace(/^"|"$/g, '');
    return name === 'charset' && (charset === 'utf-8' || charset === 'utf8');
  });
}
