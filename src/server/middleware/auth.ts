import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../../anthropic/errors.ts';
import type { KeyVerifier } from '../../auth/verifier.ts';
import type { Middleware } from '../http/context.ts';
import { routePath } from '../http/router.ts';

/**
 * required: every call needs the master key or a valid stored key.
 * open-until-keys: a loopback gateway with no key settings is open until the first key is created.
 * open: REQUIRE_API_KEY=false on loopback; a valid key still applies (tier, models), others pass.
 */
export type AuthPolicy = 'required' | 'open-until-keys' | 'open';

export interface AuthOptions {
  verifier: KeyVerifier;
  policy: AuthPolicy;
  /** Extra header (API_KEY_HEADER), lower-case, that may carry the key. */
  header?: string;
  /** Paths answered without a key (liveness probes). */
  publicPaths?: ReadonlySet<string>;
}

/** The headers that may carry a key besides Authorization: x-api-key and the configured one. */
function keyHeaders(extraHeader: string | undefined): readonly string[] {
  return [...new Set(['x-api-key', extraHeader ?? 'x-api-key'])];
}

/** Every key the request presents: x-api-key, the configured header, Authorization: Bearer. */
export function presentedKeys(
  headers: IncomingHttpHeaders,
  extraHeader?: string,
  names: readonly string[] = keyHeaders(extraHeader),
): string[] {
  const keys: string[] = [];
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string' && value.trim() !== '') keys.push(value.trim());
  }
  const bearer = bearerToken(headers.authorization);
  if (bearer) keys.push(bearer);
  return keys;
}

/** `Bearer <token>` (scheme case-insensitive); sliced, not matched with a backtracking regex. */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const rest = header.slice(6);
  const token = rest.trim();
  return token !== '' && /^\s/.test(rest) ? token : undefined;
}

const REFUSALS = {
  unknown: 'invalid x-api-key',
  revoked: 'this API key has been revoked',
  expired: 'this API key has expired',
  disabled: 'this account has been disabled on the gateway',
} as const;

export function auth({ verifier, policy, header, publicPaths = new Set() }: AuthOptions): Middleware {
  const names = keyHeaders(header); // once, not a Set per request
  return async function authMiddleware(ctx, next) {
    // As the router reads it (`/health/` is `/health`).
    if (publicPaths.has(routePath(ctx.url.pathname))) return next();
    const presented = presentedKeys(ctx.req.headers, header, names);
    let refusal: keyof typeof REFUSALS = 'unknown';
    let accepted = false;
    for (const secret of presented) {
      const result = await verifier.verify(secret);
      if (result.kind === 'refused') {
        refusal = result.reason;
        continue;
      }
      if (result.kind === 'key') ctx.key = result.key;
      accepted = true;
      break;
    }
    if (!accepted) {
      const open = policy === 'open' || (policy === 'open-until-keys' && !(await verifier.hasKeys()));
      if (!open) {
        // Without x-should-retry: false, Claude Code retries a 401 for minutes before giving up.
        throw new ApiError('authentication_error', REFUSALS[refusal], {
          headers: { 'x-should-retry': 'false' },
        });
      }
    }
    await next();
  };
}
