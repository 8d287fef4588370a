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
  /** Most model calls of this key in flight at once; one count for a team (src/limits/). */
  concurrentRequests?: number;
  /** Web search/fetch server tools: `false` refuses them for this key; absent means allowed. */
  webTools?: boolean;
  /** Most web searches per UTC day (src/tools/web/quota.ts); absent means no daily cap. */
  webSearchesPerDay?: number;
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
  /** The stream ended before its end: the client hung up or it failed mid-way (status says which). */
  interrupted?: boolean;
  /** Token counts are the gateway's estimate (a stream cut before Bedrock's final counts). */
  estimated?: boolean;
  /** With several upstreams: the one that served the call (absent when none did). */
  upstream?: string;
  /** With several upstreams: attempts that failed on other upstreams first. */
  failedAttempts?: number;
  /** Claude Code's `x-claude-code-session-id` (cleaned and bounded: src/usage/attribution.ts). */
  sessionId?: string;
  /** Claude Code's `x-claude-code-agent-id`: set by subagents, absent for the main agent. */
  agentId?: string;
  /** Claude Code's `x-claude-code-parent-agent-id`: the subagent that started this (nested) one. */
  parentAgentId?: string;
  /** The request's `metadata.user_id`. */
  userId?: string;
  /** W3C trace id (32 hex) of the request: the client's `traceparent`, or the gateway's span. */
  traceId?: string;
  /** The door the call came in by: `bedrock` for the Bedrock-format door; absent for /v1/messages. */
  door?: 'bedrock';
  /** Web searches the gateway's server-tools loop ran for this call (absent when none). */
  webSearchRequests?: number;
  /** Web fetches the gateway's server-tools loop ran for this call (absent when none). */
  webFetchRequests?: number;
}

/** `abproxy usage` filter: ISO times, `until` exclusive. */
export interface UsageQuery {
  since: string;
  until?: string;
  keyId?: string;
  /** Only this Claude Code session. */
  sessionId?: string;
  /** Only this agent (`x-claude-code-agent-id`). */
  agentId?: string;
}

/** What Store.addToCounterUpTo did, and the counter's total after it (refused: the total it found). */
export interface CappedAdd {
  added: boolean;
  total: number;
}

export type RevokeResult = 'revoked' | 'already-revoked' | 'not-found';

/** What an admin may change on a key: the new values of these fields; an absent one is cleared. */
export type KeyEdit = Pick<KeyRecord, 'name' | 'user' | 'serviceTier' | 'models' | 'limits'>;

export type UpdateResult = 'updated' | 'not-found';

export class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}

/**
 * The store refused usage records for good (an item too large, a value it cannot hold): retrying
 * cannot help, unlike throttling or an outage. The spool sets such a record aside (dead letter).
 */
export class UsageRejectedError extends Error {
  override name = 'UsageRejectedError';
}

/** Errors of a store set up wrong for the gateway: no retry helps until its operator acts. */
const SETUP_FAULTS = new Set([
  'AccessDeniedException',
  'ResourceNotFoundException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);

/** A store call the gateway may not make (its permissions, a missing table, credentials AWS does not know). */
export interface StoreSetupFault {
  /** The AWS error's name, e.g. AccessDeniedException. */
  code: string;
  /** The operation as IAM names it, e.g. dynamodb:GetItem. */
  action: string | undefined;
  table: string | undefined;
}

/** The setup fault behind a store error (DynamoStore names the action and table on it), or undefined. */
export function storeSetupFault(err: unknown): StoreSetupFault | undefined {
  const { name, storeAction, storeTable } = (err ?? {}) as {
    name?: string;
    storeAction?: string;
    storeTable?: string;
  };
  if (name === undefined || !SETUP_FAULTS.has(name)) return undefined;
  return { code: name, action: storeAction, table: storeTable };
}

/** The key id of usage by the master key or an open loopback gateway (no stored key). */
export const MASTER_KEY_ID = 'master';

/** `keys show|revoke <prefix>` matched more than one key. */
export class AmbiguousKeyError extends Error {
  override name = 'AmbiguousKeyError';
  readonly ids: string[];
  constructor(ref: string, ids: string[]) {
    super(`'${ref}' matches ${ids.length} keys (${ids.join(', ')}); use the id`);
    this.ids = ids;
  }
}

export interface Store extends SignInStore {
  readonly mode: StoreMode;
  /** Team mode: what is wrong with the tables (missing, another schema), empty when they are abproxy's. */
  tableProblems?(): Promise<string[]>;
  /**
   * Team mode: the calls serving requests needs that the store refuses (IAM), each as `action on table:
   * error`; with `signin`, the sign-in table's too.
   */
  accessProblems?(options?: { signin?: boolean }): Promise<string[]>;
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
  /** Replaces the editable fields of a key (the secret, id, times and revocation stay). */
  updateKey(id: string, edit: KeyEdit): Promise<UpdateResult>;
  /**
   * Idempotent per record id. Throws UsageRejectedError when the store refuses the batch for good
   * (which record is at fault is for the caller to find); any other error may pass with a retry.
   */
  recordUsage(records: readonly UsageRecord[]): Promise<void>;
  /** The records themselves, oldest first (reports grouped by model or day, cost). */
  listUsage(query: UsageQuery): Promise<UsageRecord[]>;
  /**
   * Atomically adds `amount` to a named counter (rate windows, budgets) and returns the new value.
   * `expiresAt` (ms epoch) lets the store drop the counter afterwards; a counter read after its expiry
   * starts again from zero. With `opId`, an add whose answer was lost (a timeout: it may have been made)
   * counts once when the same process sends it again with the same `opId`.
   */
  addToCounter(name: string, amount: number, expiresAt: number, opId?: string): Promise<number>;
  /** A counter's value without writing it: 0 when there is none or its window is over. */
  readCounter(name: string): Promise<number>;
  /**
   * Adds `amount` (at most `cap`) to a named counter only if its total stays at or under `cap`, in one
   * write: a refusal changes nothing, so there is nothing to take back. Expiry and `opId` as addToCounter.
   */
  addToCounterUpTo(
    name: string,
    amount: number,
    cap: number,
    expiresAt: number,
    opId?: string,
  ): Promise<CappedAdd>;
  close(): Promise<void>;
}

/**
 * Sign-in (issue 16). A principal is a person known from the company IdP; budgets and usage belong to
 * it (its id is the usage owner), so token rotation resets nothing.
 */
export interface Principal {
  /** `prn_…`, derived from issuer + subject so every instance names a person alike. */
  id: string;
  /** The IdP's `sub` claim. */
  sub: string;
  email: string;
  groups: string[];
  /** The policy matched at the last sign-in or refresh; undefined: the gateway's defaults. */
  policy?: string;
  /** ISO-8601 times. */
  createdAt: string;
  lastSeenAt: string;
  disabledAt?: string;
}

export type DeviceGrantState = 'pending' | 'approved' | 'denied' | 'consumed';

/** The browser half of a device sign-in, kept between the redirect to the IdP and its callback. */
export interface DeviceLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** SHA-256 (hex) of the cookie that binds the callback to the browser that started it. */
  browserHash: string;
}

/** An RFC 8628 device authorization, keyed by its user code (the device code embeds it). */
export interface DeviceGrant {
  /** Normalised: 8 characters of the user-code alphabet, no dash. */
  userCode: string;
  /** SHA-256 (hex) of the device_code secret. */
  deviceCodeHash: string;
  state: DeviceGrantState;
  /** ISO-8601 times. */
  createdAt: string;
  expiresAt: string;
  /** Seconds between token polls asked of the client (raised by slow_down). */
  interval: number;
  /**
   * Who asked for it: the caller's address and User-Agent, shown with `createdAt` where the person
   * confirms (RFC 8628 §5.4), so a code someone else started and passed on is noticed.
   */
  startedFrom?: { address: string; userAgent?: string };
  lastPolledAt?: string;
  login?: DeviceLogin;
  /** Set on approval. */
  principalId?: string;
  /** The IdP's refresh token, kept server-side to re-read groups on refresh. */
  idpRefreshToken?: string;
}

/** A sign-in session: one refresh-token family. Revoking it ends every token of the family. */
export interface Session {
  id: string;
  principalId: string;
  createdAt: string;
  /** The family ends then whatever happens (refresh tokens cannot extend it). */
  expiresAt: string;
  revokedAt?: string;
  idpRefreshToken?: string;
}

export type TokenKind = 'access' | 'refresh';

/** An issued access or refresh token, by the SHA-256 of its secret. */
export interface TokenRecord {
  hash: string;
  kind: TokenKind;
  sessionId: string;
  principalId: string;
  /** ISO-8601 times. */
  createdAt: string;
  expiresAt: string;
  /** A refresh token is used once; a second use is reuse (the family is revoked after a short grace). */
  usedAt?: string;
  revokedAt?: string;
  /** A used refresh token: the pair it was rotated to, sealed under a key only its holder can derive. */
  successor?: string;
}

export type RotateResult = 'rotated' | 'reused' | 'not-found';

export interface SignInStore {
  /** Creates or replaces the principal (createdAt and disabledAt are the caller's to keep). */
  putPrincipal(principal: Principal): Promise<void>;
  getPrincipal(id: string): Promise<Principal | undefined>;
  /** Oldest first. */
  listPrincipals(): Promise<Principal[]>;
  /** Sets (a time) or clears (undefined) disabledAt; false when there is no such principal. */
  setPrincipalDisabled(id: string, at: string | undefined): Promise<boolean>;
  /** Fails with DuplicateKeyError while a live grant holds the same user code. */
  createDeviceGrant(grant: DeviceGrant): Promise<void>;
  getDeviceGrant(userCode: string): Promise<DeviceGrant | undefined>;
  /** Conditional on the grant being in state `from` (and not expired); false otherwise. */
  updateDeviceGrant(
    userCode: string,
    from: DeviceGrantState,
    patch: Partial<Omit<DeviceGrant, 'userCode' | 'deviceCodeHash' | 'createdAt' | 'expiresAt'>>,
  ): Promise<boolean>;
  /** Stores the session and its first access and refresh tokens. */
  createSession(session: Session, tokens: readonly TokenRecord[]): Promise<void>;
  getSession(id: string): Promise<Session | undefined>;
  findToken(hash: string): Promise<TokenRecord | undefined>;
  /**
   * Marks the refresh token `oldHash` used (keeping `successor` on it) and stores `tokens`, once: a token
   * used before (or revoked) changes nothing and answers 'reused' (the caller decides whether that is a
   * retry within the grace period or reuse that revokes the session). `idpRefreshToken` replaces the stored one.
   */
  rotateRefreshToken(
    oldHash: string,
    tokens: readonly TokenRecord[],
    at: string,
    idpRefreshToken?: string,
    successor?: string,
  ): Promise<RotateResult>;
  /** Marks one token revoked (RFC 7009 of an access token). */
  revokeToken(hash: string, at: string): Promise<void>;
  /** Conditional: the first revocation time is kept. */
  revokeSession(id: string, at: string): Promise<void>;
  /** Deletes what expired before `now` (SQLite; DynamoDB's TTL does it there). Returns how many. */
  sweepExpired(now: string): Promise<number>;
}
