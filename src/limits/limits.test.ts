import { describe, expect, it } from 'vitest';
import type { ApiError } from '../anthropic/errors.ts';
import { BudgetGuard, budgetMonth, nextMonthStart } from './budget.ts';
import { counterLeases } from './counter-leases.ts';
import { LocalLimiter } from './local.ts';
import { RateLimitError, RateLimits } from './rate-limits.ts';
import { SharedLimiter } from './shared.ts';

/** The store's atomic counter, in memory, with a little latency like a real round trip. */
function memoryCounters(latencyMs = 0) {
  const values = new Map<string, number>();
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async addToCounter(name: string, amount: number, _expiresAt: number): Promise<number> {
      calls++;
      if (latencyMs) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const value = (values.get(name) ?? 0) + amount;
      values.set(name, value);
      return value;
    },
  };
}

const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);

describe('local limiter', () => {
  it('admits up to the limit in a window, then refuses until the window ends', async () => {
    const limiter = new LocalLimiter();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.take('k', 1, 3, 60_000, T0 + i));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
    expect(results[2]!.remaining).toBe(0);
    expect(results[3]!.resetAt).toBe(T0 + 60_000);
    expect((await limiter.take('k', 1, 3, 60_000, T0 + 60_000)).ok).toBe(true);
  });
});

describe('shared limiter (leases on a store counter)', () => {
  it('three instances hammering one key admit the limit within 5%, never more, with few store calls', async () => {
    const counters = memoryCounters(1);
    const instances = [0, 1, 2].map(() => new SharedLimiter({ store: counterLeases(counters) }));
    const limit = 600;
    let admitted = 0;
    await Promise.all(
      instances.map(async (limiter) => {
        for (let i = 0; i < 400; i++) {
          const burst = await Promise.all(
            Array.from({ length: 4 }, () => limiter.take('rpm:key', 1, limit, 60_000, T0 + i)),
          );
          admitted += burst.filter((r) => r.ok).length;
        }
      }),
    );
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit * 0.95);
    expect(counters.calls).toBeLessThan(limit / 4);
  });

  it('settles tokens over the lease into the shared counter so other instances see them', async () => {
    const counters = memoryCounters();
    const a = new SharedLimiter({ store: counterLeases(counters) });
    const b = new SharedLimiter({ store: counterLeases(counters) });
    expect((await a.take('tpm:k', 100, 1000, 60_000, T0)).ok).toBe(true);
    a.adjust('tpm:k', 2000, 1000, 60_000, T0); // the request really used 2100 tokens
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await b.take('tpm:k', 10, 1000, 60_000, T0 + 1)).ok).toBe(false);
  });

  it('keeps limiting per instance when the store is down', async () => {
    const errors: unknown[] = [];
    const limiter = new SharedLimiter({
      store: counterLeases({ addToCounter: () => Promise.reject(new Error('down')) }),
      onError: (err) => errors.push(err),
    });
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await limiter.take('k', 1, 2, 60_000, T0)).ok);
    expect(results).toEqual([true, true, false]);
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('rate limits', () => {
  it('refuses with 429, retry-after and Anthropic ratelimit headers', async () => {
    let now = T0 + 15_000;
    const limits = new RateLimits({ limiter: new LocalLimiter(), now: () => now });
    const ok = await limits.admitRequest('k', { requestsPerMinute: 2 });
    expect(ok['anthropic-ratelimit-requests-limit']).toBe('2');
    expect(ok['anthropic-ratelimit-requests-remaining']).toBe('1');
    await limits.admitRequest('k', { requestsPerMinute: 2 });
    const err = await limits.admitRequest('k', { requestsPerMinute: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const apiError = err as ApiError;
    expect(apiError.status).toBe(429);
    expect(apiError.toJSON().error.type).toBe('rate_limit_error');
    expect(apiError.headers['retry-after']).toBe('45');
    expect(apiError.headers['anthropic-ratelimit-requests-remaining']).toBe('0');
    expect(apiError.headers['anthropic-ratelimit-requests-reset']).toBe('2026-05-10T12:01:00Z');
    now = T0 + 60_000;
    await expect(limits.admitRequest('k', { requestsPerMinute: 2 })).resolves.toBeDefined();
  });

  it('admits tokens on the estimate and settles with real usage', async () => {
    const limits = new RateLimits({ limiter: new LocalLimiter(), now: () => T0 });
    const key = { tokensPerMinute: 1000 };
    const first = await limits.admitTokens('k', key, 100);
    expect(first.headers['anthropic-ratelimit-tokens-remaining']).toBe('900');
    limits.settle(first.admission!, 950); // really used far more than estimated
    await expect(limits.admitTokens('k', key, 100)).rejects.toThrow(/1000 tokens per minute/);
  });

  it('applies the seed RATE_LIMIT_REQUESTS/WINDOW to every caller separately', async () => {
    const limits = new RateLimits({
      limiter: new LocalLimiter(),
      seed: { requests: 1, windowMs: 10_000 },
      now: () => T0,
    });
    await limits.admitRequest('a', {});
    await limits.admitRequest('b', {});
    await expect(limits.admitRequest('a', {})).rejects.toThrow(/1 requests per 10 s/);
  });
});

describe('budgets', () => {
  it('months are UTC calendar months', () => {
    expect(budgetMonth(Date.UTC(2026, 0, 31, 23, 59))).toBe('2026-01');
    expect(new Date(nextMonthStart(Date.UTC(2026, 11, 5))).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it("reads a key's spend once when its first requests arrive together", async () => {
    const counters = memoryCounters(1);
    const guard = new BudgetGuard({ store: counters, flushMs: 60_000, now: () => T0 });
    await Promise.all(Array.from({ length: 5 }, () => guard.check('key_1', 1)));
    expect(counters.calls).toBe(1);
    await guard.close();
  });

  it('refuses with a 402 that tells clients not to retry once the spend reaches the budget', async () => {
    const counters = memoryCounters();
    const guard = new BudgetGuard({ store: counters, flushMs: 60_000, now: () => T0 });
    await guard.check('key_1', 1);
    guard.charge('key_1', 0.6);
    await guard.check('key_1', 1);
    guard.charge('key_1', 0.5);
    const err = (await guard.check('key_1', 1).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(402);
    expect(err.toJSON().error.type).toBe('billing_error');
    expect(err.headers['x-should-retry']).toBe('false');
    expect(err.message).toMatch(/\$1\.10 of \$1\.00/);
    await guard.close();
    // Charges reached the shared counter: another instance sees the spend.
    const other = new BudgetGuard({ store: counters, now: () => T0 });
    await expect(other.check('key_1', 1)).rejects.toThrow(/monthly budget/);
    await other.close();
  });

  it('names a budget under a cent as it was set, not as "$0.00"', async () => {
    const counters = memoryCounters();
    const guard = new BudgetGuard({ store: counters, flushMs: 60_000, now: () => T0 });
    await guard.check('key_1', 0.0001);
    guard.charge('key_1', 0.094173);
    const err = (await guard.check('key_1', 0.0001).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(402);
    expect(err.message).toMatch(/: \$0\.094 of \$0\.0001 in /);
    await guard.close();
  });
});
