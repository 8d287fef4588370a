import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalLimiter } from '../../limits/local.ts';
import { SqliteStore } from '../../store/sqlite.ts';
import { DAY_MS, webToolLimiter, webToolQuota } from './quota.ts';
import { WebToolError } from './types.ts';

describe('webToolQuota', () => {
  it('allows keys without rules and refuses keys with web tools off', async () => {
    const quota = webToolQuota({ limiter: new LocalLimiter() });
    expect(quota.allowed({ keyId: 'k1', limits: {} })).toBe(true);
    const off = { keyId: 'k2', limits: { webTools: false } };
    expect(quota.allowed(off)).toBe(false);
    expect(await quota.tryUse(off, 'fetch')).toBe(false);
    await expect(quota.use(off, 'search')).rejects.toBeInstanceOf(WebToolError);
    // Each tool's own code for a refused input, as Anthropic names them.
    await expect(quota.use(off, 'search')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(quota.use(off, 'fetch')).rejects.toMatchObject({ code: 'invalid_tool_input' });
  });

  it('caps searches per UTC day, not fetches, and starts again the next day', async () => {
    let now = Date.UTC(2026, 11, 2, 23, 0);
    const quota = webToolQuota({ limiter: new LocalLimiter(), now: () => now });
    const key = { keyId: 'k3', limits: { webSearchesPerDay: 2 } };
    expect(await quota.tryUse(key, 'search')).toBe(true);
    expect(await quota.tryUse(key, 'search')).toBe(true);
    expect(await quota.tryUse(key, 'search')).toBe(false);
    expect(await quota.tryUse(key, 'fetch')).toBe(true);
    const err = await quota.use(key, 'search').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'too_many_requests' });
    expect((err as Error).message).toMatch(/2 web searches/);
    // Another key has its own count.
    expect(await quota.tryUse({ keyId: 'k4', limits: { webSearchesPerDay: 1 } }, 'search')).toBe(true);
    now += 2 * 60 * 60 * 1000; // 01:00 the next day
    expect(await quota.tryUse(key, 'search')).toBe(true);
    expect(DAY_MS).toBe(24 * 3600 * 1000);
  });

  it('keeps the count in the store (solo: survives a restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abproxy-quota-'));
    // The store drops windows that ended by the real clock: a fixed past date would expire them.
    const at = Date.now();
    const now = () => at;
    const key = { keyId: 'k5', limits: { webSearchesPerDay: 3 } };
    const first = new SqliteStore(join(dir, 'a.db'));
    const q1 = webToolQuota({ limiter: webToolLimiter(first), now });
    expect(await q1.tryUse(key, 'search')).toBe(true);
    expect(await q1.tryUse(key, 'search')).toBe(true);
    await first.close();
    const second = new SqliteStore(join(dir, 'a.db'));
    const q2 = webToolQuota({ limiter: webToolLimiter(second), now });
    expect(await q2.tryUse(key, 'search')).toBe(true);
    expect(await q2.tryUse(key, 'search')).toBe(false);
    await second.close();
  });
});
