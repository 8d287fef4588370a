import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/auth/key-format.ts';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import {
  type Session,
  type TokenRecord,
  type UsageRecord,
  UsageRejectedError,
} from '../../src/store/types.ts';
import { uuidv7 } from '../../src/usage/ids.ts';
import { DEAD_LETTER_FILE, UsageSpool } from '../../src/usage/spool.ts';
import { storeContract } from './contract.ts';
import { type DynamoLocal, startDynamoLocal } from './dynamodb-local.ts';

let local: DynamoLocal;
let n = 0;

beforeAll(async () => {
  local = await startDynamoLocal();
});
afterAll(async () => {
  await local?.stop();
});

storeContract('DynamoDB Local', async () => {
  const prefix = `contract${++n}`;
  const client = local.client();
  await setupTables(client, tableSchemas(prefix));
  const store = new DynamoStore({ tablePrefix: prefix, region: 'us-east-1', client });
  return {
    store,
    raw: async () => {
      const items = [];
      for (const schema of tableSchemas(prefix)) {
        items.push(...((await client.send(new ScanCommand({ TableName: schema.tableName }))).Items ?? []));
      }
      return JSON.stringify(items);
    },
  };
});

describe('tables setup against DynamoDB Local', () => {
  it('creates what is missing, leaves what exists, turns TTL on, and a dry run changes nothing', async () => {
    const client = local.client();
    const dry = await setupTables(client, tableSchemas('setup'), { dryRun: true });
    expect(dry.map((t) => [t.table, t.action])).toEqual([
      ['setup-keys', 'would-create'],
      ['setup-usage', 'would-create'],
      ['setup-limits', 'would-create'],
      ['setup-signin', 'would-create'],
    ]);
    const first = await setupTables(client, tableSchemas('setup'));
    expect(first.map((t) => [t.action, t.status, t.ttl])).toEqual([
      ['created', 'ACTIVE', 'none'],
      ['created', 'ACTIVE', 'enabled-now'],
      ['created', 'ACTIVE', 'enabled-now'],
      ['created', 'ACTIVE', 'enabled-now'],
    ]);
    const again = await setupTables(client, tableSchemas('setup'));
    expect(again.map((t) => [t.action, t.ttl])).toEqual([
      ['exists', 'none'],
      ['exists', 'enabled'],
      ['exists', 'enabled'],
      ['exists', 'enabled'],
    ]);
    client.destroy();
  });

  it('a table another setup created meanwhile is reported as existing, not as created by both', async () => {
    const client = local.client();
    const rival = local.client();
    // Two `tables setup` at once: the rival creates each table between our look and our create.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CreateTableCommand')
          await rival.send(new CreateTableCommand(args.input as CreateTableCommandInput));
        return next(args);
      },
      { step: 'initialize' },
    );
    const reports = await setupTables(client, tableSchemas('rival'));
    expect(reports.map((t) => [t.table, t.action, t.status])).toEqual([
      ['rival-keys', 'exists', 'ACTIVE'],
      ['rival-usage', 'exists', 'ACTIVE'],
      ['rival-limits', 'exists', 'ACTIVE'],
      ['rival-signin', 'exists', 'ACTIVE'],
    ]);
    client.destroy();
    rival.destroy();
  });
});

// ---- One poisoned usage record must not stop team-mode usage recording (issue 11, item 3) ----
// DynamoDB Local refuses a 420 KB item (its 400 KB limit) with ValidationException, which fails the whole
// BatchWriteItem. The spool is fed directly (the gateway now bounds the fields it writes, so it would never
// produce such a record): the 20 good records around the poisoned one are all stored, the poisoned one
// lands in the dead-letter file, also when the records are replayed from a spool left by an earlier process.
// Here rather than in a file of its own: one DynamoDB Local (a JVM) less on a 2-core machine.

let deadLetterTables = 0;

async function freshStore(): Promise<DynamoStore> {
  const prefix = `deadletter${++deadLetterTables}`;
  const client = local.client();
  await setupTables(client, tableSchemas(prefix));
  return new DynamoStore({ tablePrefix: prefix, region: 'us-east-1', client });
}

function record(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: uuidv7(),
    keyId: 'key_team',
    at: new Date().toISOString(),
    model: 'claude-sonnet-4-5',
    serviceTier: 'default',
    inputTokens: 10,
    outputTokens: 5,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    latencyMs: 12,
    status: 200,
    requestId: 'req_x',
    ...overrides,
  };
}

/** 20 good records with a poisoned one (a 420 KB model name) in the middle. */
function poisonedBatch(): { good: UsageRecord[]; poisoned: UsageRecord; all: UsageRecord[] } {
  const good = Array.from({ length: 20 }, () => record());
  const poisoned = record({ model: `claude-sonnet-4-5[${'a'.repeat(420 * 1024)}]` });
  return { good, poisoned, all: [...good.slice(0, 7), poisoned, ...good.slice(7)] };
}

const storedIds = async (store: DynamoStore) =>
  (await store.listUsage({ since: '2000-01-01T00:00:00.000Z' })).map((r) => r.id).sort();

function deadLetters(dir: string): Array<{ phase: string; error: string; record: UsageRecord }> {
  return readFileSync(join(dir, DEAD_LETTER_FILE), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('a usage record DynamoDB refuses for good', () => {
  it('is reported by the store as rejected, not as an outage', async () => {
    const store = await freshStore();
    const { poisoned } = poisonedBatch();
    await expect(store.recordUsage([record(), poisoned])).rejects.toBeInstanceOf(UsageRejectedError);
    await store.close();
  });

  it('goes to the dead-letter file while the 20 around it are stored', { timeout: 60_000 }, async () => {
    const store = await freshStore();
    const dir = mkdtempSync(join(tmpdir(), 'abproxy-dl-'));
    const setAside: string[] = [];
    const spool = new UsageSpool({
      dir,
      sink: store,
      drainIntervalMs: 60_000,
      onDeadLetter: (r) => setAside.push(r.id),
    });
    const { good, poisoned, all } = poisonedBatch();
    for (const r of all) {
      spool.begin({ ...r, status: 0 });
      spool.finish(r);
    }
    await spool.flush();
    expect(await storedIds(store)).toEqual(good.map((r) => r.id).sort());
    expect(setAside).toEqual([poisoned.id]);
    const [line] = deadLetters(dir);
    expect(line?.record.id).toBe(poisoned.id);
    expect(line?.error).toMatch(/ValidationException/);
    expect(statSync(join(dir, DEAD_LETTER_FILE)).mode & 0o777).toBe(0o600);
    expect(spool.depth()).toBe(0);
    // The queue moved on: a later record is stored too.
    const later = record();
    spool.finish(later);
    await spool.flush();
    expect(await storedIds(store)).toContain(later.id);
    await spool.close();
    await store.close();
  });

  it('is set aside as well when the records are replayed from an earlier process’s spool', {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abproxy-dl-'));
    // The first process spools during an outage and stops with everything still on disk.
    const first = new UsageSpool({
      dir,
      sink: {
        recordUsage: async () => {
          throw new Error('DynamoDB unreachable');
        },
      },
      drainIntervalMs: 60_000,
    });
    const { good, poisoned, all } = poisonedBatch();
    for (const r of all) {
      first.begin({ ...r, status: 0 });
      first.finish(r);
    }
    await first.close();
    expect(readdirSync(dir).some((name) => name.startsWith('usage-'))).toBe(true);

    // The next one adopts that spool and drains it into DynamoDB.
    const store = await freshStore();
    const second = new UsageSpool({ dir, sink: store, drainIntervalMs: 60_000 });
    await second.flush();
    expect(await storedIds(store)).toEqual(good.map((r) => r.id).sort());
    expect(deadLetters(dir).map((l) => l.record.id)).toEqual([poisoned.id]);
    expect(readdirSync(dir)).toEqual([DEAD_LETTER_FILE]);
    await second.close();
    await store.close();
  });
});

describe('usage records spooled through a long DynamoDB outage', () => {
  const BOUND = 50;
  /** A DynamoDB nothing answers at (connection refused), as during an outage. */
  const unreachable = () =>
    new DynamoStore({
      tablePrefix: 'outage',
      region: 'us-east-1',
      client: new DynamoDBClient({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
        maxAttempts: 1,
      }),
    });

  /** 230 calls, each begun before a failed drain and finished after it (their lines in two files). */
  async function spoolThroughOutage(spool: UsageSpool): Promise<UsageRecord[]> {
    const all: UsageRecord[] = [];
    for (let chunk = 0; chunk < 6; chunk++) {
      const calls = Array.from({ length: chunk === 5 ? 30 : 40 }, () => record());
      for (const r of calls) spool.begin({ ...r, status: 0 });
      // Nothing to store before the first finish: only later drains fail.
      await spool.flush().catch(() => {});
      for (const r of calls) spool.finish(r);
      all.push(...calls);
      expect(spool.inMemory()).toBeLessThanOrEqual(BOUND);
    }
    await expect(spool.flush()).rejects.toThrow();
    expect(spool.depth()).toBe(all.length);
    expect(spool.inMemory()).toBeLessThanOrEqual(BOUND);
    return all;
  }

  async function expectStoredOnce(store: DynamoStore, all: readonly UsageRecord[]): Promise<void> {
    const stored = await store.listUsage({ since: '2000-01-01T00:00:00.000Z' });
    expect(stored.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
    // Each as it finished, not as its cut `open` line.
    expect(stored.every((r) => r.status === 200)).toBe(true);
  }

  it('holds a bounded number in memory, the rest on disk, and stores each once when DynamoDB is back', {
    timeout: 60_000,
  }, async () => {
    const [store, down] = [await freshStore(), unreachable()];
    let sink: DynamoStore = down;
    const dir = mkdtempSync(join(tmpdir(), 'abproxy-spill-'));
    const spool = new UsageSpool({
      dir,
      sink: { recordUsage: (records) => sink.recordUsage(records) },
      drainIntervalMs: 60_000,
      maxQueued: BOUND,
      batchSize: 20,
    });
    const all = await spoolThroughOutage(spool);
    sink = store;
    await spool.flush();
    expect(spool.depth()).toBe(0);
    await expectStoredOnce(store, all);
    await spool.close();
    expect(readdirSync(dir)).toEqual([]);
    await Promise.all([store.close(), down.close()]);
  });

  it('a process killed while it replays them leaves the rest on disk to the next, which stores each once', {
    timeout: 60_000,
  }, async () => {
    const [store, down] = [await freshStore(), unreachable()];
    let sink: Pick<DynamoStore, 'recordUsage'> = down;
    const dir = mkdtempSync(join(tmpdir(), 'abproxy-spill-'));
    const first = new UsageSpool({
      dir,
      sink: { recordUsage: (records) => sink.recordUsage(records) },
      drainIntervalMs: 60_000,
      maxQueued: BOUND,
      batchSize: 20,
    });
    const all = await spoolThroughOutage(first);
    // DynamoDB is back; the process dies (it never answers again) after storing four batches.
    let batches = 0;
    let stuck!: () => void;
    const died = new Promise<void>((resolve) => {
      stuck = resolve;
    });
    sink = {
      recordUsage: async (records) => {
        if (++batches <= 4) return store.recordUsage(records);
        stuck();
        return new Promise<never>(() => {});
      },
    };
    void first.flush();
    await died;

    const second = new UsageSpool({ dir, sink: store, drainIntervalMs: 60_000, maxQueued: BOUND });
    // What it adopted waits on disk, not all in memory at start.
    expect(second.depth()).toBeGreaterThan(BOUND);
    expect(second.inMemory()).toBeLessThanOrEqual(BOUND);
    await second.flush();
    await expectStoredOnce(store, all);
    await second.close();
    expect(readdirSync(dir)).toEqual([]);
    await Promise.all([store.close(), down.close()]);
  });
});

describe('refresh token rotation in DynamoDB', () => {
  const at = () => new Date().toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const token = (sessionId: string, kind: TokenRecord['kind'], hash: string): TokenRecord => ({
    hash,
    kind,
    sessionId,
    principalId: 'prn_a',
    createdAt: at(),
    expiresAt: later,
  });

  async function signedIn(store: DynamoStore) {
    const session: Session = {
      id: `ses_${uuidv7()}`,
      principalId: 'prn_a',
      createdAt: at(),
      expiresAt: later,
    };
    const refresh = token(session.id, 'refresh', hashKey(`r-${uuidv7()}`));
    await store.createSession(session, [token(session.id, 'access', hashKey(`a-${uuidv7()}`)), refresh]);
    return { session, refresh };
  }

  it('is all or nothing: new tokens DynamoDB refuses leave the old refresh token unused', async () => {
    const store = await freshStore();
    const { session, refresh } = await signedIn(store);
    // A key past DynamoDB's 2,048-byte limit: the write of the new pair fails.
    const refused = [
      token(session.id, 'access', 'x'.repeat(3000)),
      token(session.id, 'refresh', hashKey('r2')),
    ];
    await expect(
      store.rotateRefreshToken(refresh.hash, refused, at(), undefined, 'sealed'),
    ).rejects.toThrow();
    // Not marked used: the client's retry rotates it, instead of being taken for reuse (a revoked sign-in).
    expect((await store.findToken(refresh.hash))?.usedAt).toBeUndefined();
    const next = [token(session.id, 'access', hashKey('a3')), token(session.id, 'refresh', hashKey('r3'))];
    expect(await store.rotateRefreshToken(refresh.hash, next, at(), undefined, 'sealed')).toBe('rotated');
    await store.close();
  });

  it('at once from several instances: one rotates, the rest see a used token whose new pair is stored', async () => {
    const store = await freshStore();
    const { session, refresh } = await signedIn(store);
    const attempts = Array.from({ length: 8 }, (_, i) => [
      token(session.id, 'access', hashKey(`a-${i}`)),
      token(session.id, 'refresh', hashKey(`r-${i}`)),
    ]);
    const seen = await Promise.all(
      attempts.map(async (pair) => {
        const result = await store.rotateRefreshToken(refresh.hash, pair, at(), undefined, 'sealed');
        // What a 'reused' caller does next within the grace: hand out the successor, which must work.
        const stored = await Promise.all(attempts.map(([, r]) => store.findToken(r!.hash)));
        return { result, storedRefresh: stored.filter(Boolean).length };
      }),
    );
    expect(seen.filter((s) => s.result === 'rotated')).toHaveLength(1);
    expect(seen.filter((s) => s.result === 'reused')).toHaveLength(7);
    for (const s of seen) expect(s.storedRefresh).toBe(1);
    await store.close();
  });
});
