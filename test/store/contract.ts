/**
 * The Store contract, run against every implementation (SQLite and DynamoDB Local). Each test gets a
 * fresh, empty store. `raw()` reads what the backend really holds (file bytes, table items), so the
 * suite can prove that secrets never reach storage.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { displayPrefix, generateKey, hashKey, newKeyId } from '../../src/auth/key-format.ts';
import {
  AmbiguousKeyError,
  type DeviceGrant,
  DuplicateKeyError,
  type KeyRecord,
  type Principal,
  type Session,
  type Store,
  type TokenRecord,
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

const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    id: `prn_${Math.random().toString(36).slice(2)}`,
    sub: 'sub-1',
    email: 'alice@corp.example',
    groups: ['eng'],
    policy: 'engineering',
    createdAt: iso(0),
    lastSeenAt: iso(0),
    ...overrides,
  };
}

function grant(overrides: Partial<DeviceGrant> = {}): DeviceGrant {
  return {
    userCode: `C${Math.random().toString(36).slice(2, 9).toUpperCase()}`,
    deviceCodeHash: hashKey(`device-${Math.random()}`),
    state: 'pending',
    createdAt: iso(0),
    expiresAt: iso(600_000),
    interval: 5,
    ...overrides,
  };
}

function session(principalId: string, overrides: Partial<Session> = {}): Session {
  return {
    id: `ses_${Math.random().toString(36).slice(2)}`,
    principalId,
    createdAt: iso(0),
    expiresAt: iso(86_400_000),
    ...overrides,
  };
}

function token(s: Session, kind: TokenRecord['kind'], secret: string, ttlMs = 3_600_000): TokenRecord {
  return {
    hash: hashKey(secret),
    kind,
    sessionId: s.id,
    principalId: s.principalId,
    createdAt: iso(0),
    expiresAt: iso(ttlMs),
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

    it('keeps the web tool rules of a key (off, daily cap) through create, edit and list', async () => {
      const { record, secret } = newRecord({ limits: { webTools: false, webSearchesPerDay: 40 } });
      await store.createKey(record);
      expect((await store.findKeyByHash(hashKey(secret)))?.limits).toEqual({
        webTools: false,
        webSearchesPerDay: 40,
      });
      expect(await store.updateKey(record.id, { limits: { webSearchesPerDay: 7 } })).toBe('updated');
      expect((await store.getKey(record.id))?.limits).toEqual({ webSearchesPerDay: 7 });
      expect((await store.listKeys())[0]?.limits).toEqual({ webSearchesPerDay: 7 });
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

    it('a call replayed as cut (status 0) after a crash never replaces its stored final record', async () => {
      const answered = usage('key_a', '2025-05-03T10:00:00.000Z', { status: 200, outputTokens: 42 });
      await store.recordUsage([answered]);
      await store.recordUsage([{ ...answered, status: 0, outputTokens: 0, estimated: true }]);
      expect(await store.listUsage({ since: '2025-05-03T00:00:00.000Z' })).toEqual([answered]);
    });

    it('lists usage records with their details, by time window and key, oldest first', async () => {
      const detailed = usage('key_a', '2025-06-01T10:00:00.000Z', {
        resolvedModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        costUsd: 0.012345,
        ttftMs: 120,
        stream: true,
        status: 499,
        webSearchRequests: 2,
        webFetchRequests: 1,
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

    it('keeps every field of a usage record, each in its own column', async () => {
      // Distinct values everywhere: two fields swapped on the way in would not come back equal.
      const full = usage('key_full', '2025-08-01T10:00:00.000Z', {
        model: 'client-name',
        serviceTier: 'flex',
        inputTokens: 11,
        outputTokens: 12,
        cacheReadInputTokens: 13,
        cacheWriteInputTokens: 14,
        latencyMs: 15,
        status: 429,
        requestId: 'req_full',
        resolvedModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        costUsd: 0.5,
        ttftMs: 16,
        stream: true,
        interrupted: true,
        estimated: true,
        upstream: 'west',
        failedAttempts: 3,
        sessionId: 'sess-full',
        agentId: 'agent-full',
        parentAgentId: 'parent-full',
        userId: 'user-full',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        door: 'bedrock',
        webSearchRequests: 17,
        webFetchRequests: 18,
      });
      await store.recordUsage([full]);
      expect(await store.listUsage({ since: '2025-08-01T00:00:00.000Z', keyId: 'key_full' })).toEqual([full]);
    });

    it('keeps attribution (session, agents, user id, trace id) and filters by session and agent', async () => {
      const main = usage('key_a', '2025-07-01T10:00:00.000Z', {
        sessionId: 'sess-1',
        userId: '{"device_id":"d","session_id":"sess-1"}',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      });
      const sub = usage('key_a', '2025-07-01T10:01:00.000Z', { sessionId: 'sess-1', agentId: 'a-sub' });
      const nested = usage('key_b', '2025-07-01T10:02:00.000Z', {
        sessionId: 'sess-1',
        agentId: 'a-nested',
        parentAgentId: 'a-sub',
      });
      const other = usage('key_a', '2025-07-01T10:03:00.000Z', { sessionId: 'sess-2' });
      await store.recordUsage([main, sub, nested, other]);
      const since = '2025-07-01T00:00:00.000Z';
      expect(await store.listUsage({ since, sessionId: 'sess-1' })).toEqual([main, sub, nested]);
      expect(
        (await store.listUsage({ since, sessionId: 'sess-1', keyId: 'key_a' })).map((r) => r.id),
      ).toEqual([main.id, sub.id]);
      expect((await store.listUsage({ since, agentId: 'a-nested' })).map((r) => r.id)).toEqual([nested.id]);
      expect(await store.listUsage({ since, sessionId: 'nope' })).toEqual([]);
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

    it('reads a counter without writing it: 0 when absent or past its window', async () => {
      const before = await sut.raw();
      expect(await store.readCounter('fails:nobody')).toBe(0);
      expect(await sut.raw()).toBe(before);
      await store.addToCounter('fails:a', 3, Date.now() + 60_000);
      expect(await store.readCounter('fails:a')).toBe(3);
      await store.addToCounter('fails:old', 4, Date.now() + 20);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(await store.readCounter('fails:old')).toBe(0);
    });

    it('adds to a counter up to a cap in one write: past it nothing changes and the total is told', async () => {
      const until = Date.now() + 60_000;
      const tries = await Promise.all(
        Array.from({ length: 6 }, () => store.addToCounterUpTo('conc:key_a', 1, 4, until)),
      );
      expect(
        tries
          .filter((t) => t.added)
          .map((t) => t.total)
          .sort(),
      ).toEqual([1, 2, 3, 4]);
      expect(tries.filter((t) => !t.added)).toEqual([
        { added: false, total: 4 },
        { added: false, total: 4 },
      ]);
      expect(await store.addToCounter('conc:key_a', -2, until)).toBe(2);
      expect(await store.addToCounterUpTo('conc:key_a', 3, 4, until)).toEqual({ added: false, total: 2 });
      expect(await store.addToCounterUpTo('conc:key_a', 2, 4, until)).toEqual({ added: true, total: 4 });
      await store.addToCounter('conc:old', 4, Date.now() + 20);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(await store.addToCounterUpTo('conc:old', 1, 4, Date.now() + 60_000)).toEqual({
        added: true,
        total: 1,
      });
    });

    it('keeps principals: replace, list oldest first, disable and enable again', async () => {
      const alice = principal({ createdAt: '2025-01-01T00:00:00.000Z' });
      const bob = principal({
        email: 'bob@other.example',
        groups: [],
        policy: undefined,
        createdAt: '2025-01-02T00:00:00.000Z',
      });
      delete bob.policy;
      await store.putPrincipal(bob);
      await store.putPrincipal(alice);
      expect(await store.getPrincipal(alice.id)).toEqual(alice);
      const moved = { ...alice, groups: ['eng', 'ml'], policy: 'ml', lastSeenAt: iso(1000) };
      await store.putPrincipal(moved);
      expect(await store.getPrincipal(alice.id)).toEqual(moved);
      expect((await store.listPrincipals()).map((p) => p.id)).toEqual([alice.id, bob.id]);
      expect(await store.setPrincipalDisabled(bob.id, '2025-02-01T00:00:00.000Z')).toBe(true);
      expect((await store.getPrincipal(bob.id))?.disabledAt).toBe('2025-02-01T00:00:00.000Z');
      expect(await store.setPrincipalDisabled(bob.id, undefined)).toBe(true);
      expect((await store.getPrincipal(bob.id))?.disabledAt).toBeUndefined();
      expect(await store.setPrincipalDisabled('prn_nope', iso(0))).toBe(false);
      expect(await store.getPrincipal('prn_nope')).toBeUndefined();
      // Keys and principals are separate lists.
      expect(await store.hasKeys()).toBe(false);
    });

    it('moves a device grant through its states conditionally, and frees an expired user code', async () => {
      const g = grant();
      await store.createDeviceGrant(g);
      expect(await store.getDeviceGrant(g.userCode)).toEqual(g);
      await expect(
        store.createDeviceGrant({ ...g, deviceCodeHash: hashKey('other') }),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      const login = { state: 's', nonce: 'n', codeVerifier: 'v', browserHash: hashKey('cookie') };
      expect(await store.updateDeviceGrant(g.userCode, 'pending', { lastPolledAt: iso(0) })).toBe(true);
      expect(await store.updateDeviceGrant(g.userCode, 'pending', { login })).toBe(true);
      expect(await store.updateDeviceGrant(g.userCode, 'approved', { state: 'consumed' })).toBe(false);
      expect(
        await store.updateDeviceGrant(g.userCode, 'pending', {
          state: 'approved',
          principalId: 'prn_a',
          idpRefreshToken: 'idp-rt',
        }),
      ).toBe(true);
      expect(await store.updateDeviceGrant(g.userCode, 'pending', { state: 'denied' })).toBe(false);
      expect(await store.updateDeviceGrant(g.userCode, 'approved', { state: 'consumed' })).toBe(true);
      expect(await store.updateDeviceGrant(g.userCode, 'approved', { state: 'consumed' })).toBe(false);
      const stored = await store.getDeviceGrant(g.userCode);
      expect(stored).toMatchObject({
        state: 'consumed',
        principalId: 'prn_a',
        login,
        deviceCodeHash: g.deviceCodeHash,
      });
      expect(await store.getDeviceGrant('NOPE1234')).toBeUndefined();

      const old = grant({ expiresAt: iso(-1000) });
      await store.createDeviceGrant(old);
      expect(await store.updateDeviceGrant(old.userCode, 'pending', { state: 'approved' })).toBe(false);
      const again = { ...grant(), userCode: old.userCode };
      await store.createDeviceGrant(again);
      expect(await store.getDeviceGrant(old.userCode)).toEqual(again);
    });

    it('rotates a refresh token once, keeping the sealed successor; a second use changes nothing', async () => {
      const s = session('prn_a', { idpRefreshToken: 'idp-1' });
      const access1 = token(s, 'access', 'a1');
      const refresh1 = token(s, 'refresh', 'r1', 30 * 86_400_000);
      await store.createSession(s, [access1, refresh1]);
      expect(await store.getSession(s.id)).toEqual(s);
      expect(await store.findToken(access1.hash)).toEqual(access1);
      expect(await store.findToken(hashKey('nope'))).toBeUndefined();

      const at = iso(0);
      const next = [token(s, 'access', 'a2'), token(s, 'refresh', 'r2')];
      expect(await store.rotateRefreshToken(refresh1.hash, next, at, 'idp-2', 'sealed-pair')).toBe('rotated');
      expect((await store.findToken(refresh1.hash))?.usedAt).toBe(at);
      expect((await store.findToken(refresh1.hash))?.successor).toBe('sealed-pair');
      expect(await store.findToken(next[1]!.hash)).toEqual(next[1]);
      expect((await store.getSession(s.id))?.idpRefreshToken).toBe('idp-2');
      expect((await store.getSession(s.id))?.revokedAt).toBeUndefined();

      expect(
        await store.rotateRefreshToken(refresh1.hash, [token(s, 'refresh', 'r3')], iso(1), undefined),
      ).toBe('reused');
      // The caller decides between a retry within the grace period and reuse that revokes the session.
      expect((await store.getSession(s.id))?.revokedAt).toBeUndefined();
      expect((await store.findToken(refresh1.hash))?.usedAt).toBe(at);
      expect(await store.findToken(hashKey('r3'))).toBeUndefined();
      expect(await store.rotateRefreshToken(hashKey('unknown'), [], iso(0))).toBe('not-found');
      expect(await store.rotateRefreshToken(access1.hash, [], iso(0))).toBe('not-found');
    });

    it('revokes tokens and sessions keeping the first time, and never stores token secrets', async () => {
      const s = session('prn_b');
      const access = token(s, 'access', 'secret-access-abc');
      const refresh = token(s, 'refresh', 'secret-refresh-abc');
      await store.createSession(s, [access, refresh]);
      await store.revokeToken(access.hash, '2025-01-01T00:00:00.000Z');
      await store.revokeToken(access.hash, '2025-02-01T00:00:00.000Z');
      expect((await store.findToken(access.hash))?.revokedAt).toBe('2025-01-01T00:00:00.000Z');
      await store.revokeSession(s.id, '2025-01-03T00:00:00.000Z');
      await store.revokeSession(s.id, '2025-02-03T00:00:00.000Z');
      expect((await store.getSession(s.id))?.revokedAt).toBe('2025-01-03T00:00:00.000Z');
      // A revoked refresh token presented again counts as reuse.
      await store.revokeToken(refresh.hash, iso(0));
      expect(await store.rotateRefreshToken(refresh.hash, [], iso(0))).toBe('reused');
      const raw = await sut.raw();
      expect(raw).toContain(access.hash);
      expect(raw).not.toContain('secret-access-abc');
      expect(raw).not.toContain('secret-refresh-abc');
    });

    it('sweeps (or lets the backend expire) what is past its time, keeping the rest', async () => {
      const s = session('prn_c', { expiresAt: iso(-1000) });
      const live = session('prn_c');
      await store.createSession(s, [token(s, 'access', 'x1', -1000)]);
      await store.createSession(live, [token(live, 'access', 'x2')]);
      await store.createDeviceGrant(grant({ userCode: 'OLDCODE1', expiresAt: iso(-1000) }));
      const removed = await store.sweepExpired(iso(0));
      if (store.mode === 'solo') {
        expect(removed).toBe(3);
        expect(await store.getSession(s.id)).toBeUndefined();
        expect(await store.findToken(hashKey('x1'))).toBeUndefined();
        expect(await store.getDeviceGrant('OLDCODE1')).toBeUndefined();
      } else {
        // DynamoDB: the items carry a TTL attribute (epoch seconds) for the table's TTL to act on.
        expect(await sut.raw()).toMatch(/"ttl":\{"N":"\d+"\}/);
      }
      expect(await store.getSession(live.id)).toEqual(live);
      expect(await store.findToken(hashKey('x2'))).toBeDefined();
    });
  });
}
