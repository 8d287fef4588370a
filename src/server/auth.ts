import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../anthropic/errors.ts';
import type { Middleware } from './context.ts';

export interface AuthOptions {
  /** The master key; when undefined no key is checked (allowed only on loopback binds, see config). */
  masterKey: string | undefined;
  /** Extra header that may carry the key (API_KEY_HEADER), lower-case. */
  header?: string;
  /** Paths answered without a key (liveness probes). */
  publicPaths?: ReadonlySet<string>;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Every key the request presents: x-api-key, the configured header, Authorization: Bearer. */
export function presentedKeys(headers: IncomingHttpHeaders, extraHeader?: string): string[] {
  const keys: string[] = [];
  for (const name of new Set(['x-api-key', extraHeader ?? 'x-api-key'])) {
    const value = headers[name];
    if (typeof value === 'string' && value.trim() !== '') keys.push(value.trim());
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  if (bearer?.[1]) keys.push(bearer[1].trim());
  return keys;
}

export function auth({ masterKey, header, publicPaths = new Set() }: AuthOptions): Middleware {
  // Comparing fixed-length digests keeps the compare constant-time whatever the key length.
  const expected = masterKey === undefined ? undefined : digest(masterKey);
  return async function authMiddleware(ctx, next) {
    if (expected && !publicPaths.has(ctx.url.pathname)) {
      const ok = presentedKeys(ctx.req.headers, header).some((key) => timingSafeEqual(digest(key), expected));
      if (!ok) throw new ApiError('authentication_error', 'invalid x-api-key');
    }
    await next();
  };
}
