/**
 * Solo mode: one SQLite file (WAL) that `serve` and the admin commands open side by side. Schema
 * changes are numbered migrations recorded in PRAGMA user_version. better-sqlite3 is synchronous;
 * the Store methods are async only to share the interface with DynamoDB.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makePrivateDir, makePrivateFiles } from '../config/private-files.ts';
import type { ServiceTier } from '../models/types.ts';
import {
  AmbiguousKeyError,
  type CappedAdd,
  type DeviceGrant,
  type DeviceGrantState,
  DuplicateKeyError,
  type KeyEdit,
  type KeyRecord,
  type Principal,
  type RevokeResult,
  type RotateResult,
  type Session,
  type Store,
  type TokenRecord,
  type UpdateResult,
  type UsageQuery,
  type UsageRecord,
  UsageRejectedError,
} from './types.ts';

/** Each entry moves the schema from version i to i + 1; never edit a released one, append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     hash TEXT PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     name TEXT,
     user TEXT,
     service_tier TEXT,
     models TEXT,
     limits TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT,
     revoked_at TEXT
   );
   CREATE INDEX keys_prefix ON keys(prefix);
   CREATE TABLE usage (
     id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     at TEXT NOT NULL,
     model TEXT NOT NULL,
     service_tier TEXT NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     cache_read_input_tokens INTEGER NOT NULL,
     cache_write_input_tokens INTEGER NOT NULL,
     latency_ms INTEGER NOT NULL,
     status INTEGER NOT NULL,
     request_id TEXT NOT NULL
   );
   CREATE INDEX usage_key_at ON usage(key_id, at);
   CREATE TABLE counters (
     name TEXT PRIMARY KEY,
     value REAL NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
  // Usage details for reports and budgets (issue 6).
  `ALTER TABLE usage ADD COLUMN resolved_model TEXT;
   ALTER TABLE usage ADD COLUMN cost_usd REAL;
   ALTER TABLE usage ADD COLUMN ttft_ms INTEGER;
   ALTER TABLE usage ADD COLUMN stream INTEGER;`,
  // Streams cut short: billed from what was seen, marked (issue 11).
  `ALTER TABLE usage ADD COLUMN interrupted INTEGER;
   ALTER TABLE usage ADD COLUMN estimated INTEGER;`,
  // Sign-in with the company IdP (issue 16): principals, device grants, sessions and their tokens.
  `CREATE TABLE principals (
     id TEXT PRIMARY KEY,
     sub TEXT NOT NULL,
     email TEXT NOT NULL,
     groups TEXT NOT NULL,
     policy TEXT,
     created_at TEXT NOT NULL,
     last_seen_at TEXT NOT NULL,
     disabled_at TEXT
   );
   CREATE TABLE device_grants (
     user_code TEXT PRIMARY KEY,
     state TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     data TEXT NOT NULL
   );
   CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     principal_id TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     revoked_at TEXT,
     idp_refresh_token TEXT
   );
   CREATE TABLE tokens (
     hash TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     session_id TEXT NOT NULL,
     principal_id TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     used_at TEXT,
     revoked_at TEXT
   );
   CREATE INDEX tokens_session ON tokens(session_id);`,
  // Several upstreams (issue 14): which one served, and the attempts that failed before.
  `ALTER TABLE usage ADD COLUMN upstream TEXT;
   ALTER TABLE usage ADD COLUMN failed_attempts INTEGER;`,
  // Attribution (issue 18): Claude Code's session and agent ids, metadata.user_id, the W3C trace id.
  // `abproxy usage --session S` reads one session: indexed, since a session spans a short time.
  `ALTER TABLE usage ADD COLUMN session_id TEXT;
   ALTER TABLE usage ADD COLUMN agent_id TEXT;
   ALTER TABLE usage ADD COLUMN parent_agent_id TEXT;
   ALTER TABLE usage ADD COLUMN user_id TEXT;
   ALTER TABLE usage ADD COLUMN trace_id TEXT;
   CREATE INDEX usage_session_at ON usage(session_id, at) WHERE session_id IS NOT NULL;`,
  // The Bedrock-format door (issue 15): which door a call came in by.
  `ALTER TABLE usage ADD COLUMN door TEXT;`,
  // The server-tools loop (issue 17): web searches and fetches the call ran.
  `ALTER TABLE usage ADD COLUMN web_search_requests INTEGER;
   ALTER TABLE usage ADD COLUMN web_fetch_requests INTEGER;`,
  // A refresh retried within the grace period gets the pair it was rotated to (sealed, see tokens.ts).
  `ALTER TABLE tokens ADD COLUMN successor TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

interface KeyRow {
  hash: string;
  id: string;
  prefix: string;
  name: string | null;
  user: string | null;
  service_tier: string | null;
  models: string | null;
  limits: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

function toRecord(row: KeyRow): KeyRecord {
  const record: KeyRecord = {
    id: row.id,
    hash: row.hash,
    prefix: row.prefix,
    limits: JSON.parse(row.limits),
    createdAt: row.created_at,
  };
  if (row.name !== null) record.name = row.name;
  if (row.user !== null) record.user = row.user;
  if (row.service_tier !== null) record.serviceTier = row.service_tier as ServiceTier;
  if (row.models !== null) record.models = JSON.parse(row.models);
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  if (row.revoked_at !== null) record.revokedAt = row.revoked_at;
  return record;
}

interface UsageRow {
  id: string;
  key_id: string;
  at: string;
  model: string;
  service_tier: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_write_input_tokens: number;
  latency_ms: number;
  status: number;
  request_id: string;
  resolved_model: string | null;
  cost_usd: number | null;
  ttft_ms: number | null;
  stream: number | null;
  interrupted: number | null;
  estimated: number | null;
  upstream: string | null;
  failed_attempts: number | null;
  session_id: string | null;
  agent_id: string | null;
  parent_agent_id: string | null;
  user_id: string | null;
  trace_id: string | null;
  door: string | null;
  web_search_requests: number | null;
  web_fetch_requests: number | null;
}

function toUsageRecord(row: UsageRow): UsageRecord {
  const record: UsageRecord = {
    id: row.id,
    keyId: row.key_id,
    at: row.at,
    model: row.model,
    serviceTier: row.service_tier as ServiceTier,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadInputTokens: row.cache_read_input_tokens,
    cacheWriteInputTokens: row.cache_write_input_tokens,
    latencyMs: row.latency_ms,
    status: row.status,
    requestId: row.request_id,
  };
  if (row.resolved_model !== null) record.resolvedModel = row.resolved_model;
  if (row.cost_usd !== null) record.costUsd = row.cost_usd;
  if (row.ttft_ms !== null) record.ttftMs = row.ttft_ms;
  if (row.stream !== null) record.stream = row.stream === 1;
  if (row.interrupted === 1) record.interrupted = true;
  if (row.estimated === 1) record.estimated = true;
  if (row.upstream !== null) record.upstream = row.upstream;
  if (row.failed_attempts !== null) record.failedAttempts = row.failed_attempts;
  if (row.session_id !== null) record.sessionId = row.session_id;
  if (row.agent_id !== null) record.agentId = row.agent_id;
  if (row.parent_agent_id !== null) record.parentAgentId = row.parent_agent_id;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.trace_id !== null) record.traceId = row.trace_id;
  if (row.door === 'bedrock') record.door = row.door;
  if (row.web_search_requests !== null) record.webSearchRequests = row.web_search_requests;
  if (row.web_fetch_requests !== null) record.webFetchRequests = row.web_fetch_requests;
  return record;
}

/** Copies the non-null columns of a row onto a record under their camelCase names. */
function fromRow<T>(row: Record<string, unknown>, json: readonly string[] = []): T {
  const record: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === null) continue;
    const field = column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    record[field] = json.includes(column) ? JSON.parse(value as string) : value;
  }
  return record as T;
}

function migrate(db: Database.Database): void {
  // Other processes may open the same new file at once (`serve` and `keys create`, parallel `keys create`):
  // each step reads the version inside its write transaction, so a step another process applied meanwhile
  // is not applied again ("table keys already exists").
  const version = () => db.pragma('user_version', { simple: true }) as number;
  // The usual open: up to date, no write lock taken.
  if (version() === MIGRATIONS.length) return;
  const step = db.transaction((): boolean => {
    const current = version();
    if (current > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${current} is newer than this abproxy understands (${MIGRATIONS.length}); upgrade abproxy`,
      );
    }
    if (current === MIGRATIONS.length) return false;
    db.exec(MIGRATIONS[current]!);
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  while (step.immediate()) {}
}

/**
 * Errors a retry cannot fix: a value too big or of the wrong type, a missing required field. A busy
 * database, a full disk or an I/O error may pass later and are not in this list.
 */
function isPermanentSqliteError(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true; // a value SQLite cannot bind
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    (code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH' || code.startsWith('SQLITE_CONSTRAINT'))
  );
}

export class SqliteStore implements Store {
  readonly mode = 'solo';
  readonly path: string;
  readonly #db: Database.Database;
  readonly #findByHash: Database.Statement<[string], KeyRow>;
  readonly #insertUsage: Database.Statement<unknown[]>;
  readonly #addToCounter: Database.Statement<
    [{ name: string; amount: number; expiresAt: number; now: number }],
    { value: number }
  >;

  constructor(path: string) {
    this.path = path;
    const onDisk = path !== ':memory:' && path !== '';
    if (onDisk) makePrivateDir(dirname(path));
    const created = onDisk && !existsSync(path);
    this.#db = new Database(path);
    // SQLite creates its files 0644 and gives -wal/-shm the database's mode: keys and usage are private.
    if (created) makePrivateFiles(path);
    this.#db.pragma('journal_mode = WAL');
    if (created) makePrivateFiles(`${path}-wal`, `${path}-shm`);
    // `serve` and `keys …` write from different processes: wait for the lock rather than fail.
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma('synchronous = NORMAL');
    migrate(this.#db);
    this.#findByHash = this.#db.prepare('SELECT * FROM keys WHERE hash = ?');
    this.#insertUsage = this.#db.prepare(
      `INSERT OR IGNORE INTO usage (id, key_id, at, model, service_tier, input_tokens, output_tokens,
         cache_read_input_tokens, cache_write_input_tokens, latency_ms, status, request_id,
         resolved_model, cost_usd, ttft_ms, stream, interrupted, estimated, upstream, failed_attempts,
         session_id, agent_id, parent_agent_id, user_id, trace_id, door, web_search_requests,
         web_fetch_requests)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#addToCounter = this.#db.prepare(
      `INSERT INTO counters (name, value, expires_at) VALUES (@name, @amount, @expiresAt)
         ON CONFLICT(name) DO UPDATE SET
           value = CASE WHEN expires_at <= @now THEN excluded.value ELSE value + excluded.value END,
           expires_at = CASE WHEN expires_at <= @now THEN excluded.expires_at ELSE expires_at END
         RETURNING value`,
    );
  }

  async createKey(record: KeyRecord): Promise<void> {
    try {
      this.#db
        .prepare(
          `INSERT INTO keys (hash, id, prefix, name, user, service_tier, models, limits, created_at, expires_at, revoked_at)
           VALUES (@hash, @id, @prefix, @name, @user, @serviceTier, @models, @limits, @createdAt, @expiresAt, @revokedAt)`,
        )
        .run({
          hash: record.hash,
          id: record.id,
          prefix: record.prefix,
          name: record.name ?? null,
          user: record.user ?? null,
          serviceTier: record.serviceTier ?? null,
          models: record.models ? JSON.stringify(record.models) : null,
          limits: JSON.stringify(record.limits),
          createdAt: record.createdAt,
          expiresAt: record.expiresAt ?? null,
          revokedAt: record.revokedAt ?? null,
        });
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
        throw new DuplicateKeyError('a key with this secret or id exists already');
      }
      throw err;
    }
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const row = this.#findByHash.get(hash);
    return row ? toRecord(row) : undefined;
  }

  async getKey(ref: string): Promise<KeyRecord | undefined> {
    // An empty prefix would match every key (and name the only one).
    if (ref === '') return undefined;
    const byId = this.#db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE id = ?').get(ref);
    if (byId) return toRecord(byId);
    const rows = this.#db
      .prepare<[string], KeyRow>("SELECT * FROM keys WHERE prefix LIKE ? ESCAPE '\\' ORDER BY created_at")
      .all(`${ref.replace(/[\\%_]/g, '\\$&')}%`);
    if (rows.length > 1)
      throw new AmbiguousKeyError(
        ref,
        rows.map((row) => row.id),
      );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.#db.prepare<[], KeyRow>('SELECT * FROM keys ORDER BY created_at, id').all().map(toRecord);
  }

  async hasKeys(): Promise<boolean> {
    return this.#db.prepare('SELECT 1 FROM keys LIMIT 1').get() !== undefined;
  }

  async revokeKey(id: string, at: string): Promise<RevokeResult> {
    const changed = this.#db
      .prepare('UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(at, id).changes;
    if (changed > 0) return 'revoked';
    return this.#db.prepare('SELECT 1 FROM keys WHERE id = ?').get(id) ? 'already-revoked' : 'not-found';
  }

  async updateKey(id: string, edit: KeyEdit): Promise<UpdateResult> {
    const changed = this.#db
      .prepare(
        `UPDATE keys SET name = @name, user = @user, service_tier = @serviceTier, models = @models,
           limits = @limits WHERE id = @id`,
      )
      .run({
        id,
        name: edit.name ?? null,
        user: edit.user ?? null,
        serviceTier: edit.serviceTier ?? null,
        models: edit.models ? JSON.stringify(edit.models) : null,
        limits: JSON.stringify(edit.limits),
      }).changes;
    return changed > 0 ? 'updated' : 'not-found';
  }

  async recordUsage(records: readonly UsageRecord[]): Promise<void> {
    try {
      this.#insertUsageBatch(records);
    } catch (err) {
      if (isPermanentSqliteError(err)) {
        throw new UsageRejectedError(`SQLite refused usage records: ${(err as Error).message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  #insertUsageBatch(records: readonly UsageRecord[]): void {
    this.#db.transaction(() => {
      // Positional parameters, in the column order above: binding 28 names from an object costs
      // better-sqlite3 a lookup each (measured 15 → 11 µs of CPU a row).
      for (const record of records)
        this.#insertUsage.run(
          record.id,
          record.keyId,
          record.at,
          record.model,
          record.serviceTier,
          record.inputTokens,
          record.outputTokens,
          record.cacheReadInputTokens,
          record.cacheWriteInputTokens,
          record.latencyMs,
          record.status,
          record.requestId,
          record.resolvedModel ?? null,
          record.costUsd ?? null,
          record.ttftMs ?? null,
          record.stream === undefined ? null : Number(record.stream),
          record.interrupted ? 1 : null,
          record.estimated ? 1 : null,
          record.upstream ?? null,
          record.failedAttempts ?? null,
          record.sessionId ?? null,
          record.agentId ?? null,
          record.parentAgentId ?? null,
          record.userId ?? null,
          record.traceId ?? null,
          record.door ?? null,
          record.webSearchRequests ?? null,
          record.webFetchRequests ?? null,
        );
    })();
  }

  async listUsage({ since, until, keyId, sessionId, agentId }: UsageQuery): Promise<UsageRecord[]> {
    const params: Record<string, string> = { since };
    const where = ['at >= @since'];
    const filter = (column: string, name: string, value: string | undefined, op = '=') => {
      if (value === undefined) return;
      where.push(`${column} ${op} @${name}`);
      params[name] = value;
    };
    filter('at', 'until', until, '<');
    filter('key_id', 'keyId', keyId);
    filter('session_id', 'sessionId', sessionId);
    filter('agent_id', 'agentId', agentId);
    const rows = this.#db
      .prepare<[Record<string, string>], UsageRow>(
        `SELECT * FROM usage WHERE ${where.join(' AND ')} ORDER BY at, id`,
      )
      .all(params);
    return rows.map(toUsageRecord);
  }

  async addToCounter(name: string, amount: number, expiresAt: number): Promise<number> {
    // A counter past its window starts again from this amount (expired rows are not swept eagerly).
    const row = this.#addToCounter.get({ name, amount, expiresAt, now: Date.now() });
    return row!.value;
  }

  async readCounter(name: string): Promise<number> {
    const row = this.#db
      .prepare<[string, number], { value: number }>(
        'SELECT value FROM counters WHERE name = ? AND expires_at > ?',
      )
      .get(name, Date.now());
    return row?.value ?? 0;
  }

  async addToCounterUpTo(name: string, amount: number, cap: number, expiresAt: number): Promise<CappedAdd> {
    if (amount > cap) throw new RangeError(`counter ${name}: ${amount} never fits under ${cap}`);
    // Read and add in one write transaction: another process (`keys …`) may use the same file.
    return this.#db
      .transaction((): CappedAdd => {
        const now = Date.now();
        const row = this.#db
          .prepare<[string], { value: number; expires_at: number }>(
            'SELECT value, expires_at FROM counters WHERE name = ?',
          )
          .get(name);
        const total = row && row.expires_at > now ? row.value : 0;
        if (total + amount > cap) return { added: false, total };
        return { added: true, total: this.#addToCounter.get({ name, amount, expiresAt, now })!.value };
      })
      .immediate();
  }

  async putPrincipal(p: Principal): Promise<void> {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO principals (id, sub, email, groups, policy, created_at, last_seen_at, disabled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        p.id,
        p.sub,
        p.email,
        JSON.stringify(p.groups),
        p.policy ?? null,
        p.createdAt,
        p.lastSeenAt,
        p.disabledAt ?? null,
      );
  }

  async getPrincipal(id: string): Promise<Principal | undefined> {
    const row = this.#db
      .prepare<[string], Record<string, unknown>>('SELECT * FROM principals WHERE id = ?')
      .get(id);
    return row ? fromRow<Principal>(row, ['groups']) : undefined;
  }

  async listPrincipals(): Promise<Principal[]> {
    return this.#db
      .prepare<[], Record<string, unknown>>('SELECT * FROM principals ORDER BY created_at, id')
      .all()
      .map((row) => fromRow<Principal>(row, ['groups']));
  }

  async setPrincipalDisabled(id: string, at: string | undefined): Promise<boolean> {
    return (
      this.#db.prepare('UPDATE principals SET disabled_at = ? WHERE id = ?').run(at ?? null, id).changes > 0
    );
  }

  async createDeviceGrant(grant: DeviceGrant): Promise<void> {
    // A user code may be taken again once its grant has expired (the sweep may not have run yet).
    const changes = this.#db
      .prepare(
        `INSERT INTO device_grants (user_code, state, expires_at, data) VALUES (@userCode, @state, @expiresAt, @data)
         ON CONFLICT(user_code) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at,
           data = excluded.data WHERE device_grants.expires_at <= @now`,
      )
      .run({ ...grant, data: JSON.stringify(grant), now: new Date().toISOString() }).changes;
    if (changes === 0) throw new DuplicateKeyError(`user code ${grant.userCode} is in use`);
  }

  async getDeviceGrant(userCode: string): Promise<DeviceGrant | undefined> {
    const row = this.#db
      .prepare<[string], { data: string }>('SELECT data FROM device_grants WHERE user_code = ?')
      .get(userCode);
    return row ? (JSON.parse(row.data) as DeviceGrant) : undefined;
  }

  async updateDeviceGrant(
    userCode: string,
    from: DeviceGrantState,
    patch: Partial<DeviceGrant>,
  ): Promise<boolean> {
    return this.#db
      .transaction(() => {
        const row = this.#db
          .prepare<[string, string, string], { data: string }>(
            'SELECT data FROM device_grants WHERE user_code = ? AND state = ? AND expires_at > ?',
          )
          .get(userCode, from, new Date().toISOString());
        if (!row) return false;
        const grant: DeviceGrant = { ...(JSON.parse(row.data) as DeviceGrant), ...patch };
        this.#db
          .prepare('UPDATE device_grants SET state = ?, data = ? WHERE user_code = ?')
          .run(grant.state, JSON.stringify(grant), userCode);
        return true;
      })
      .immediate();
  }

  #insertTokens(tokens: readonly TokenRecord[]): void {
    const insert = this.#db.prepare(
      `INSERT INTO tokens (hash, kind, session_id, principal_id, created_at, expires_at, used_at, revoked_at)
       VALUES (@hash, @kind, @sessionId, @principalId, @createdAt, @expiresAt, @usedAt, @revokedAt)`,
    );
    for (const token of tokens) insert.run({ usedAt: null, revokedAt: null, ...token });
  }

  async createSession(session: Session, tokens: readonly TokenRecord[]): Promise<void> {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, idp_refresh_token)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(
          session.id,
          session.principalId,
          session.createdAt,
          session.expiresAt,
          session.revokedAt ?? null,
          session.idpRefreshToken ?? null,
        );
      this.#insertTokens(tokens);
    })();
  }

  async getSession(id: string): Promise<Session | undefined> {
    const row = this.#db
      .prepare<[string], Record<string, unknown>>('SELECT * FROM sessions WHERE id = ?')
      .get(id);
    return row ? fromRow<Session>(row) : undefined;
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const row = this.#db
      .prepare<[string], Record<string, unknown>>('SELECT * FROM tokens WHERE hash = ?')
      .get(hash);
    return row ? fromRow<TokenRecord>(row) : undefined;
  }

  async rotateRefreshToken(
    oldHash: string,
    tokens: readonly TokenRecord[],
    at: string,
    idpRefreshToken?: string,
    successor?: string,
  ): Promise<RotateResult> {
    return this.#db
      .transaction((): RotateResult => {
        const old = this.#db
          .prepare<[string], { session_id: string }>(
            "SELECT session_id FROM tokens WHERE hash = ? AND kind = 'refresh'",
          )
          .get(oldHash);
        if (!old) return 'not-found';
        const marked = this.#db
          .prepare(
            'UPDATE tokens SET used_at = ?, successor = ? WHERE hash = ? AND used_at IS NULL AND revoked_at IS NULL',
          )
          .run(at, successor ?? null, oldHash).changes;
        if (marked === 0) return 'reused';
        this.#insertTokens(tokens);
        if (idpRefreshToken !== undefined) {
          this.#db
            .prepare('UPDATE sessions SET idp_refresh_token = ? WHERE id = ?')
            .run(idpRefreshToken, old.session_id);
        }
        return 'rotated';
      })
      .immediate();
  }

  async revokeToken(hash: string, at: string): Promise<void> {
    this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL').run(at, hash);
  }

  #revokeSession(id: string, at: string): void {
    this.#db.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }

  async revokeSession(id: string, at: string): Promise<void> {
    this.#revokeSession(id, at);
  }

  async sweepExpired(now: string): Promise<number> {
    return this.#db.transaction(() => {
      let removed = 0;
      for (const table of ['device_grants', 'tokens', 'sessions']) {
        removed += this.#db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`).run(now).changes;
      }
      return removed;
    })();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
