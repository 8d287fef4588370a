/**
 * The Store contract, run against every implementation (SQLite and DynamoDB Local). Each test gets a
 * fresh, empty store. `raw()` reads what the backend really holds (file bytes, table items), so the
 * suite can prove that secrets never reach storage.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { displayPrefix, generateKey, hashKey, newKeyId } from '../../src/auth/key-format.ts';
import {
  AmbiguousKeyError,
  DuplicateKeyError,
  type KeyRecord,
  type Store,
  type UsageRecord,
} from '../../src/store/types.ts';

export interface StoreUnderTest {
  store: Store;
  /** Everything the backend stores, as text. */
  raw(): Promise<string>;
}

function newRecord(overrides: Partial<KeyRecord> = {}): { record: KeyRecord; secret: string } {
  const secret = generateKey();
  return {
    secret,
    record: {
      id: newKeyId(),
      hash: hashKey(secret),
      prefix: displayPrefix(secret),
      limits: {},
      createdAt: new Date().toISOString(),
      ...overrides,
    },
  };
}

function usage(keyId: string, at: string, overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: `u_${Math.random().toString(36).slice(2)}`,
    keyId,
    at,
    model: 'qwen.qwen3-32b-v1:0',
    serviceTier: 'default',
    inputTokens: 10,
    outputTokens: 5,
    cacheReadInputTokens: 1,
    cacheWriteInputTokens: 2,
    latencyMs: 30,
    status: 200,
    requestId: 'req_1',
    ...overrides,
  };
}

export function storeContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: Store;
    beforeEach(async () => {
      sut = await open();
      store = sut.store;
      return () => store.close();
    });

    it('stores a key with every field and finds it by the hash of its secret only', async () => {
      const { record, secret } = newRecord({
        name: 'ci',
        user: 'alice',
        serviceTier: 'flex',
        models: ['claude-*', 'qwen.*'],
        limits: { requestsPerMinute: 60, tokensPerMinute: 100_000, budgetUsd: 12.5 },
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect(await store.hasKeys()).toBe(false);
      await store.createKey(record);
      expect(await store.hasKeys()).toBe(true);
      expect(await store.findKeyByHash(hashKey(secret))).toEqual(record);
      expect(await store.findKeyByHash(hashKey(`${secret}x`))).toBeUndefined();
      expect(await store.findKeyByHash(secret)).toBeUndefined();
    });

    it('never stores the secret itself, only its hash and display prefix', async () => {
      const { record, secret } = newRecord({ name: 'probe' });
      await store.createKey(record);
      await store.revokeKey(record.id, new Date().toISOString());
      const raw = await sut.raw();
      expect(raw).toContain(record.hash);
      expect(raw).toContain(record.prefix);
      expect(raw).not.toContain(secret);
      expect(raw).not.toContain(secret.slice(record.prefix.length));
    });

    it('refuses a second key with the same secret', async () => {
      const { record } = newRecord();
      await store.createKey(record);
      await expect(store.createKey({ ...record, id: newKeyId() })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await store.listKeys()).toHaveLength(1);
    });

    it('finds keys by id or prefix, and says when a prefix is ambiguous', async () => {
      const a = newRecord({ prefix: 'abp_AAAA1111', createdAt: '2025-01-01T00:00:00.000Z' });
      const b = newRecord({ prefix: 'abp_AAAA2222', createdAt: '2025-01-02T00:00:00.000Z' });
      await store.createKey(a.record);
      await store.createKey(b.record);
      expect((await store.getKey(a.record.id))?.hash).toBe(a.record.hash);
      expect((await store.getKey('abp_AAAA2222'))?.id).toBe(b.record.id);
      expect((await store.getKey('abp_AAAA1'))?.id).toBe(a.record.id);
      await expect(store.getKey('abp_AAAA')).rejects.toBeInstanceOf(AmbiguousKeyError);
      expect(await store.getKey('key_nope')).toBeUndefined();
      expect(await store.getKey('abp_%')).toBeUndefined();
      // An empty reference names no key (it is the prefix of every key).
      expect(await store.getKey('')).toBeUndefined();
      expect((await store.listKeys()).map((k) => k.id)).toEqual([a.record.id, b.record.id]);
    });

    it('revokes conditionally: the first revocation time is kept', async () => {
      const { record, secret } = newRecord();
      await store.createKey(record);
      expect(await store.revokeKey(record.id, '2025-03-01T00:00:00.000Z')).toBe('revoked');
      expect(await store.revokeKey(record.id, '2025-04-01T00:00:00.000Z')).toBe('already-revoked');
      expect((await store.findKeyByHash(hashKey(secret)))?.revokedAt).toBe('2025-03-01T00:00:00.000Z');
      expect(await store.revokeKey('key_missing', '2025-03-01T00:00:00.000Z')).toBe('not-found');
      expect(await store.hasKeys()).toBe(true);
    });

    it('edits the name, user, tier, models and limits of a key; absent fields are cleared', async () => {
      const { record, secret } = newRecord({
        name: 'old',
        user: 'alice',
        serviceTier: 'flex',
        models: ['claude-*'],
        limits: { requestsPerMinute: 5 },
      });
      await store.createKey(record);
      const edit = { name: 'new', serviceTier: 'priority' as const, limits: { budgetUsd: 3.5 } };
      expect(await store.updateKey(record.id, edit)).toBe('updated');
      const { user: _user, models: _models, ...kept } = record;
      const expected = { ...kept, name: 'new', serviceTier: 'priority', limits: { budgetUsd: 3.5 } };
      expect(await store.findKeyByHash(hashKey(secret))).toEqual(expected);
      expect(await store.getKey(record.id)).toEqual(expected);
      expect(await store.updateKey('key_missing', { limits: {} })).toBe('not-found');
      expect(await store.listKeys()).toHaveLength(1);
    });

    it('records usage idempotently, selected by time and key', async () => {
      const first = usage('key_a', '2025-05-01T10:00:00.000Z');
      const second = usage('key_a', '2025-05-02T10:00:00.000Z');
      const other = usage('key_b', '2025-05-02T11:00:00.000Z');
      await store.recordUsage([first, second, other]);
      await store.recordUsage([first]);
      const all = await store.listUsage({ since: '2025-05-01T00:00:00.000Z' });
      expect(all.map((r) => r.id)).toEqual([first.id, second.id, other.id]);
      const recent = await store.listUsage({ since: '2025-05-02T00:00:00.000Z', keyId: 'key_a' });
      expect(recent.map((r) => r.id)).toEqual([second.id]);
    });

    it('lists usage records with their details, by time window and key, oldest first', async () => {
      const detailed = usage('key_a', '2025-06-01T10:00:00.000Z', {
        resolvedModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        costUsd: 0.012345,
        ttftMs: 120,
        stream: true,
        status: 499,
      });
      const plain = usage('key_b', '2025-06-01T09:00:00.000Z');
      const late = usage('key_a', '2025-06-03T00:00:00.000Z');
      await store.recordUsage([detailed, plain, late]);
      await store.recordUsage([detailed]);
      const june1 = await store.listUsage({
        since: '2025-06-01T00:00:00.000Z',
        until: '2025-06-02T00:00:00.000Z',
      });
      expect(june1).toEqual([plain, detailed]);
      const keyA = await store.listUsage({ since: '2025-06-01T00:00:00.000Z', keyId: 'key_a' });
      expect(keyA.map((r) => r.id)).toEqual([detailed.id, late.id]);
      // `until` is exclusive: a record at exactly that instant belongs to the next window.
      const before = await store.listUsage({ since: '2025-06-01T00:00:00.000Z', until: late.at });
      expect(before.map((r) => r.id)).not.toContain(late.id);
    });

    it('adds to counters atomically and restarts a counter whose window ended', async () => {
      const until = Date.now() + 60_000;
      const values = await Promise.all(
        Array.from({ length: 8 }, () => store.addToCounter('rpm:key_a', 1, until)),
      );
      expect(values.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await store.addToCounter('rpm:key_a', 2.5, until)).toBe(10.5);
      expect(await store.addToCounter('rpm:key_b', 1, until)).toBe(1);
      const past = Date.now() - 1;
      await store.addToCounter('rpm:old', 5, Date.now() + 20);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(await store.addToCounter('rpm:old', 1, Date.now() + 60_000)).toBe(1);
      expect(past).toBeLessThan(Date.now());
    });
  });
}
