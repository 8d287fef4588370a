/**
 * One-time login links for `abproxy admin` on a headless machine. The CLI runs in another process than
 * the gateway, so the token is signed with the gateway's signing secret (both resolve the same one from
 * the settings and ABPROXY_HOME); the gateway accepts each token once, before it expires.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '../auth/key-format.ts';
import { purposeKey } from '../config/purpose-keys.ts';

export const LOGIN_TOKEN_TTL_MS = 5 * 60_000;

function mac(secret: string, expiresAt: number, nonce: string): string {
  return createHmac('sha256', purposeKey(secret, 'admin-login'))
    .update(`abproxy-admin-login.${expiresAt}.${nonce}`)
    .digest('base64url');
}

export function mintLoginToken(secret: string, now = Date.now(), ttlMs = LOGIN_TOKEN_TTL_MS): string {
  const expiresAt = now + ttlMs;
  const nonce = randomBytes(16).toString('base64url');
  return `${expiresAt}.${nonce}.${mac(secret, expiresAt, nonce)}`;
}

/**
 * Checks tokens and remembers the used ones until they expire. The used ones live in this process only,
 * so a token minted before it started is refused: a restart must not make used links good again.
 */
export class LoginTokens {
  readonly #secret: string;
  readonly #now: () => number;
  readonly #used = new Map<string, number>();
  readonly #startedAt: number;

  constructor(secret: string, now: () => number = Date.now) {
    this.#secret = secret;
    this.#now = now;
    this.#startedAt = now();
  }

  /** True once per valid, unexpired token. */
  redeem(token: string): boolean {
    const [expires, nonce, signature, extra] = token.split('.');
    if (!expires || !nonce || !signature || extra !== undefined) return false;
    const expiresAt = Number(expires);
    const now = this.#now();
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= now || expiresAt > now + LOGIN_TOKEN_TTL_MS) {
      return false;
    }
    // Minted (expiry less its lifetime) before this gateway started: possibly used already.
    if (expiresAt - LOGIN_TOKEN_TTL_MS < this.#startedAt) return false;
    if (!sameSecret(signature, mac(this.#secret, expiresAt, nonce))) return false;
    for (const [used, until] of this.#used) if (until <= now) this.#used.delete(used);
    if (this.#used.has(nonce)) return false;
    this.#used.set(nonce, expiresAt);
    return true;
  }
}
