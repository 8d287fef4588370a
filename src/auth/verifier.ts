/**
 * Turns a presented secret into an identity: the master key, a stored key, or a reason to refuse.
 * Results (found or not) are cached for `cacheMs` keyed by the secret's hash, so a revocation in team
 * mode is seen within that time (while the store fails, a key already found keeps its last answer);
 * solo mode passes 0 because its SQLite lookup is cheaper than a cache is stale (`keys revoke` runs
 * in another process and must take effect at once).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { KeyRecord, Store } from '../store/types.ts';
import { sameHash } from './key-format.ts';

export type Verification =
  | { kind: 'master' }
  | { kind: 'key'; key: KeyRecord }
  | { kind: 'refused'; reason: 'unknown' | 'revoked' | 'expired' | 'disabled' };

/** Sign-in access tokens (src/signin), checked instead of the keys table when the secret is one. */
export interface TokenVerifier {
  isAccessToken(secret: string): boolean;
  verifyAccessToken(secret: string): Promise<Verification>;
}

export interface KeyVerifierOptions {
  store: Pick<Store, 'findKeyByHash' | 'hasKeys'>;
  masterKey?: string | undefined;
  cacheMs: number;
  /** Bound on cached entries, so a flood of random keys cannot grow memory without end. */
  maxEntries?: number;
  now?: () => number;
  tokens?: TokenVerifier | undefined;
}

interface Entry {
  record: KeyRecord | undefined;
  until: number;
}

function digest(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

export class KeyVerifier {
  readonly #store: KeyVerifierOptions['store'];
  readonly #master: Buffer | undefined;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Found keys (and revoked or expired ones), oldest first. */
  readonly #cache = new Map<string, Entry>();
  /** Secrets no key has, oldest first. */
  readonly #misses = new Map<string, Entry>();
  readonly #tokens: TokenVerifier | undefined;
  #hasKeys: { value: boolean; until: number } | undefined;

  constructor({
    store,
    masterKey,
    cacheMs,
    maxEntries = 10_000,
    now = Date.now,
    tokens,
  }: KeyVerifierOptions) {
    this.#store = store;
    this.#tokens = tokens;
    this.#master = masterKey ? digest(masterKey) : undefined;
    this.#cacheMs = cacheMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  async verify(secret: string): Promise<Verification> {
    // Fixed-length digests keep the master-key compare constant-time whatever the key's length; the
    // same SHA-256 is the stored keys' hash (hashKey), so it is computed once.
    const secretDigest = digest(secret);
    if (this.#master && timingSafeEqual(secretDigest, this.#master)) return { kind: 'master' };
    if (this.#tokens?.isAccessToken(secret)) return this.#tokens.verifyAccessToken(secret);
    const hash = secretDigest.toString('hex');
    const record = await this.#lookup(hash);
    if (!record || !sameHash(record.hash, hash)) return { kind: 'refused', reason: 'unknown' };
    if (record.revokedAt) return { kind: 'refused', reason: 'revoked' };
    if (record.expiresAt && Date.parse(record.expiresAt) <= this.#now()) {
      return { kind: 'refused', reason: 'expired' };
    }
    return { kind: 'key', key: record };
  }

  /** Whether any key exists (cached like lookups): an unconfigured loopback gateway stays open. */
  async hasKeys(): Promise<boolean> {
    const now = this.#now();
    if (this.#hasKeys && this.#hasKeys.until > now) return this.#hasKeys.value;
    const value = await this.#store.hasKeys();
    // Once keys exist they never stop existing (revoked records stay), so that answer can be kept.
    this.#hasKeys = { value, until: value ? Number.POSITIVE_INFINITY : now + this.#cacheMs };
    return value;
  }

  async #lookup(hash: string): Promise<KeyRecord | undefined> {
    if (this.#cacheMs <= 0) return this.#store.findKeyByHash(hash);
    const now = this.#now();
    const hit = this.#cache.get(hash) ?? this.#misses.get(hash);
    if (hit && hit.until > now) return hit.record;
    let record: KeyRecord | undefined;
    try {
      record = await this.#store.findKeyByHash(hash);
    } catch (err) {
      // The store is down (a DynamoDB outage): a key this instance already knows keeps its last answer,
      // rather than every holder getting 529 once the cache time ran out; the store is asked again a
      // cache time later. A revoke cannot be written while the store is down either.
      if (!hit?.record) throw err;
      hit.until = now + this.#cacheMs;
      return hit.record;
    }
    // Unknown secrets are cached apart: a flood of random ones evicts only its own kind, never the
    // keys in use (which would then each cost the store a read again).
    const cache = record ? this.#cache : this.#misses;
    cache.delete(hash);
    if (cache.size >= this.#maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(hash, { record, until: now + this.#cacheMs });
    return record;
  }
}
