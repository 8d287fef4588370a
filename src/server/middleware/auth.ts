import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../../anthropic/errors.ts';
import type { GuessThrottle } from '../../auth/guess-throttle.ts';
import type { KeyVerifier } from '../../auth/verifier.ts';
import { storeSetupFault } from '../../store/types.ts';
import { clientAddress } from '../http/client-address.ts';
import type { Ctx, Middleware } from '../http/context.ts';
import { briefError } from '../http/logger.ts';
import { routePath } from '../http/router.ts';
import { outageWarning } from './outage-warning.ts';

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
  /**
   * Wrong secrets per address (shared with the admin sign-in form): past its limit, the address may
   * not use the master key, so a hand-chosen master key cannot be guessed at API speed. Stored keys
   * (random, unguessable) still work from it.
   */
  guesses?: { throttle: GuessThrottle; trustedProxies: number };
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

/** Seconds a client waits before trying again when the key store did not answer. */
const STORE_RETRY_AFTER_S = 5;

/**
 * A key store that fails or does not answer (a DynamoDB outage, throttling) is the gateway's trouble,
 * not the caller's: 529 overloaded_error with retry-after, which clients retry, rather than a bare 500.
 * Logged once per 10 s (with how many failed meanwhile), not twice per request with a stack.
 */
async function orUnavailable<T>(
  lookup: () => Promise<T>,
  ctx: Ctx,
  warn: (ctx: Ctx, err: unknown) => void,
): Promise<T> {
  try {
    return await lookup();
  } catch (err) {
    warn(ctx, err);
    const fault = storeSetupFault(err);
    if (fault) {
      // The gateway's own setup (its role's permissions, a table gone): a 529 had every client retry
      // for good. Said as such, without the AWS account or resource the error names.
      throw new ApiError(
        'api_error',
        `the gateway could not check this key: its key store refused it${fault.action ? ` ${fault.action}` : ''}; the gateway's operator must fix its AWS permissions or tables`,
        { status: 502, headers: { 'x-should-retry': 'false' }, cause: err, logged: true },
      );
    }
    throw new ApiError(
      'overloaded_error',
      'the gateway could not check this key (its key store did not answer); try again',
      {
        headers: { 'retry-after': String(STORE_RETRY_AFTER_S) },
        cause: err,
        logged: true,
      },
    );
  }
}

/**
 * The key store's outage warning, made with the first request's logger (the middleware has none); a
 * store that refuses the gateway (a setup fault) has its own, naming the operation and table.
 */
function storeOutageWarning(): (ctx: Ctx, err: unknown) => void {
  let warn: ((err: unknown, fields?: object) => void) | undefined;
  let refused: ((err: unknown, fields?: object) => void) | undefined;
  return (ctx, err) => {
    const fault = storeSetupFault(err);
    if (fault) {
      refused ??= outageWarning(
        ctx.log,
        "key store refused the gateway a key lookup: fix the gateway's AWS permissions, tables or credentials",
        (e) => ({ ...storeSetupFault(e), err: briefError(e) }),
      );
      refused(err, { requestId: ctx.requestId });
      return;
    }
    warn ??= outageWarning(ctx.log, 'key store did not answer a key lookup', (e) => ({ err: briefError(e) }));
    warn(err, { requestId: ctx.requestId });
  };
}

export function auth({
  verifier,
  policy,
  header,
  publicPaths = new Set(),
  guesses,
}: AuthOptions): Middleware {
  const names = keyHeaders(header); // once, not a Set per request
  const storeDown = storeOutageWarning();
  const addressOf = (ctx: Ctx) => clientAddress(ctx.req, guesses?.trustedProxies ?? 0);
  /** Seconds this caller's address is barred from the master key (0: not barred). */
  const barredFor = (ctx: Ctx) =>
    guesses?.throttle.counting ? guesses.throttle.retryAfter(addressOf(ctx)) : 0;
  return async function authMiddleware(ctx, next) {
    // As the router reads it (`/health/` is `/health`).
    if (publicPaths.has(routePath(ctx.url.pathname))) return next();
    const presented = presentedKeys(ctx.req.headers, header, names);
    let refusal: keyof typeof REFUSALS = 'unknown';
    let accepted = false;
    // Each wrong secret is a guess: a request carrying several (x-api-key, Authorization, the
    // configured header) must not try several for the price of one.
    const guessed: string[] = [];
    let barred = 0;
    for (const secret of presented) {
      const result = await orUnavailable(() => verifier.verify(secret), ctx, storeDown);
      if (result.kind === 'refused') {
        refusal = result.reason;
        if (result.reason === 'unknown') guessed.push(secret);
        continue;
      }
      if (result.kind === 'master') {
        barred = barredFor(ctx);
        if (barred > 0) continue;
      }
      if (result.kind === 'key') ctx.key = result.key;
      accepted = true;
      break;
    }
    if (!accepted) {
      // Whether keys exist is a store lookup too (a loopback gateway with none yet is open).
      const open =
        policy === 'open' ||
        (policy === 'open-until-keys' && !(await orUnavailable(() => verifier.hasKeys(), ctx, storeDown)));
      if (!open && guesses && (guessed.length > 0 || barred > 0)) {
        // Barred: right and wrong guesses get the same answer, so the lock-out is no oracle either.
        const wait = barred || barredFor(ctx);
        for (const secret of guessed) guesses.throttle.failed(addressOf(ctx), secret);
        if (wait > 0) {
          // 403, not 429: the SDKs and Claude Code retry a 429 at once (each retry one more refused
          // call), whatever its retry-after says; none retries a 403, and `x-should-retry: false` says
          // so to those that read it. The message and retry-after still tell the operator why and how long.
          throw new ApiError(
            'permission_error',
            `too many wrong keys from this address: the master key is locked out for it; try again in ${wait} s`,
            { headers: { 'retry-after': String(wait), 'x-should-retry': 'false' } },
          );
        }
      }
      if (!open) {
        // Without x-should-retry: false, Claude Code retries a 401 for minutes before giving up.
        throw new ApiError('authentication_error', REFUSALS[refusal], {
          headers: { 'x-should-retry': 'false' },
        });
      }
    }
    // Returned, not awaited: this layer does not stay suspended for the whole call (a stream's life).
    return next();
  };
}
