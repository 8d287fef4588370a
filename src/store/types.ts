/**
 * The storage contract shared by solo (SQLite) and team (DynamoDB) mode. Domain-level: it knows keys,
 * usage records and counters, nothing of HTTP or wire formats. Secrets never reach it, only hashes.
 */
import type { ServiceTier } from '../models/types.ts';

export type StoreMode = 'solo' | 'team';

/** Limits stored with a key; enforced by the limits layer, not by the store. */
export interface KeyLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  budgetUsd?: number;
}

export interface KeyRecord {
  /** `key_…`, what admins use to name a key. */
  id: string;
  /** SHA-256 (hex) of the secret; the lookup key when authenticating. */
  hash: string;
  /** The clear start of the secret (`abp_1a2B3c4D`), to recognise a key in lists. */
  prefix: string;
  name?: string;
  user?: string;
  /** The tier to ask Bedrock for; undefined means the gateway's default. */
  serviceTier?: ServiceTier;
  /** Allowed model globs; undefined means every model. */
  models?: string[];
  limits: KeyLimits;
  /** ISO-8601 times. */
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
}

/** One request's usage; `id` is unique so replays from a spool are idempotent. */
export interface UsageRecord {
  id: string;
  keyId: string;
  at: string;
  model: string;
  serviceTier: ServiceTier;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  latencyMs: number;
  status: number;
  requestId: string;
  /** The Bedrock model id or inference profile called (`model` is the client's name). */
  resolvedModel?: string;
  /** Estimated from the price table (src/usage/prices.ts) when the request ended. */
  costUsd?: number;
  /** Streams: request arrival to the first event sent. */
  ttftMs?: number;
  stream?: boolean;
  /** With several upstreams: the one that served the call (absent when none did). */
  upstream?: string;
  /** With several upstreams: attempts that failed on other upstreams first. */
  failedAttempts?: number;
}

/** `abproxy usage` filter: ISO times, `until` exclusive. */
export interface UsageQuery {
  since: string;
  until?: string;
  keyId?: string;
}

export type RevokeResult = 'revoked' | 'already-revoked' | 'not-found';

export class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}

/** `keys show|revoke <prefix>` matched more than one key. */
export class AmbiguousKeyError extends Error {
  override name = 'AmbiguousKeyError';
  readonly ids: string[];
  constructor(ref: string, ids: string[]) {
    super(`'${ref}' matches ${ids.length} keys (${ids.join(', ')}); use the id`);
    this.ids = ids;
  }
}

export interface Store {
  readonly mode: StoreMode;
  /** Fails with DuplicateKeyError when the hash or id exists already. */
  createKey(record: KeyRecord): Promise<void>;
  /** The hot path of authentication (strongly consistent in team mode). */
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  /** By id or display prefix; AmbiguousKeyError when a prefix matches several keys. */
  getKey(idOrPrefix: string): Promise<KeyRecord | undefined>;
  /** Every key, revoked ones included, oldest first. */
  listKeys(): Promise<KeyRecord[]>;
  /** Whether any key record exists (revoked ones count): a loopback gateway stays open until then. */
  hasKeys(): Promise<boolean>;
  /** Conditional: only a key not yet revoked is changed, so the first revocation time is kept. */
  revokeKey(id: string, at: string): Promise<RevokeResult>;
  /** Idempotent per record id. */
  recordUsage(records: readonly UsageRecord[]): Promise<void>;
  /** The records themselves, oldest first (reports grouped by model or day, cost). */
  listUsage(query: UsageQuery): Promise<UsageRecord[]>;
  /**
   * Atomically adds `amount` to a named counter (rate windows, budgets) and returns the new value.
   * `expiresAt` (ms epoch) lets the store drop the counter afterwards; a counter read after its expiry
   * starts again from zero.
   */
  addToCounter(name: string, amount: number, expiresAt: number): Promise<number>;
  close(): Promise<void>;
}
