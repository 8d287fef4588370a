import { describe, expect, it } from 'vitest';
import type { KeyRecord } from '../store/types.ts';
import { generateKey, hashKey } from './key-format.ts';
import { KeyVerifier } from './verifier.ts';

function fakeStore(records: KeyRecord[]) {
  const store = {
    lookups: 0,
    async findKeyByHash(hash: string) {
      store.lookups++;
      return records.find((r) => r.hash === hash);
    },
    async hasKeys() {
      return records.length > 0;
    },
  };
  return store;
}

function record(secret: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 'key_1',
    hash: hashKey(secret),
    prefix: secret.slice(0, 12),
    limits: {},
    createdAt: '2025-01-01T00:00:00Z',
    ...extra,
  };
}

describe('KeyVerifier', () => {
  it('accepts the master key without a lookup, and stored keys by hash', async () => {
    const secret = generateKey();
    const store = fakeStore([record(secret)]);
    const verifier = new KeyVerifier({ store, masterKey: 'master', cacheMs: 0 });
    expect(await verifier.verify('master')).toEqual({ kind: 'master' });
    expect(store.lookups).toBe(0);
    expect(await verifier.verify(secret)).toMatchObject({ kind: 'key', key: { id: 'key_1' } });
    expect(await verifier.verify('nope')).toEqual({ kind: 'refused', reason: 'unknown' });
  });

  it('refuses revoked and expired keys', async () => {
    const revoked = generateKey();
    const expired = generateKey();
    let now = Date.parse('2025-06-01T00:00:00Z');
    const store = fakeStore([
      record(revoked, { revokedAt: '2025-01-02T00:00:00Z' }),
      record(expired, { id: 'key_2', expiresAt: '2025-06-01T00:00:01Z' }),
    ]);
    const verifier = new KeyVerifier({ store, cacheMs: 60_000, now: () => now });
    expect(await verifier.verify(revoked)).toEqual({ kind: 'refused', reason: 'revoked' });
    expect((await verifier.verify(expired)).kind).toBe('key');
    now += 2_000;
    expect(await verifier.verify(expired)).toEqual({ kind: 'refused', reason: 'expired' });
  });

  it('caches hits and misses for cacheMs, then looks again (so a revocation shows)', async () => {
    const secret = generateKey();
    const records = [record(secret)];
    const store = fakeStore(records);
    let now = 0;
    const verifier = new KeyVerifier({ store, cacheMs: 5_000, now: () => now });
    await verifier.verify(secret);
    await verifier.verify('unknown');
    await verifier.verify(secret);
    await verifier.verify('unknown');
    expect(store.lookups).toBe(2);
    records[0] = { ...records[0]!, revokedAt: '2025-01-01T00:00:00Z' };
    now = 4_999;
    expect((await verifier.verify(secret)).kind).toBe('key');
    now = 5_000;
    expect(await verifier.verify(secret)).toEqual({ kind: 'refused', reason: 'revoked' });
  });

  it('while the store fails, a key found before keeps its last answer; an unknown one is still an error', async () => {
    const secret = generateKey();
    const revoked = generateKey();
    const store = fakeStore([
      record(secret),
      record(revoked, { id: 'key_2', revokedAt: '2025-01-02T00:00:00Z' }),
    ]);
    let now = 0;
    const verifier = new KeyVerifier({ store, cacheMs: 5_000, now: () => now });
    await verifier.verify(secret);
    await verifier.verify(revoked);
    await verifier.verify('never-seen');
    store.findKeyByHash = async () => {
      store.lookups++;
      throw new Error('connect ECONNREFUSED');
    };
    now = 60_000;
    const before = store.lookups;
    expect(await verifier.verify(secret)).toMatchObject({ kind: 'key', key: { id: 'key_1' } });
    expect(await verifier.verify(revoked)).toEqual({ kind: 'refused', reason: 'revoked' });
    await expect(verifier.verify('never-seen')).rejects.toThrow(/ECONNREFUSED/);
    await expect(verifier.verify(generateKey())).rejects.toThrow(/ECONNREFUSED/);
    // The failed store is asked again a cache time later, not on every request meanwhile.
    expect(store.lookups).toBe(before + 4);
    await verifier.verify(secret);
    expect(store.lookups).toBe(before + 4);
    now += 5_000;
    await verifier.verify(secret);
    expect(store.lookups).toBe(before + 5);
  });

  it('a flood of unknown secrets never evicts the keys in use from the cache', async () => {
    const secret = generateKey();
    const store = fakeStore([record(secret)]);
    const verifier = new KeyVerifier({ store, cacheMs: 60_000, maxEntries: 10, now: () => 0 });
    await verifier.verify(secret);
    for (let i = 0; i < 100; i++) await verifier.verify(`random-${i}`);
    const before = store.lookups;
    expect((await verifier.verify(secret)).kind).toBe('key');
    expect(store.lookups).toBe(before);
    // The most recent unknown ones are still cached; the oldest were evicted one by one.
    await verifier.verify('random-99');
    expect(store.lookups).toBe(before);
  });
});
