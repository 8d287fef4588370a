import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimitError } from './rate-limits.ts';
import { EPOCH_MS, SharedInFlight, type SlotCounterStore } from './shared-in-flight.ts';

/** The store's counter as DynamoDB's UpdateItem ADD with expiry behaves (src/store/dynamodb.ts addToCounter). */
class Counters implements SlotCounterStore {
  readonly items = new Map<string, { value: number; expiresAt: number }>();
  down = false;
  calls = 0;
  async addToCounter(name: string, amount: number, expiresAt: number): Promise<number> {
    this.calls++;
    if (this.down) throw new Error('store unreachable');
    let item = this.items.get(name);
    if (!item || item.expiresAt <= Date.now()) {
      item = { value: 0, expiresAt };
      this.items.set(name, item);
    }
    item.value += amount;
    return item.value;
  }
}

const refused = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (err) => err instanceof RateLimitError && err.limit === 'concurrency',
  );

let store: Counters;
let a: SharedInFlight;
let b: SharedInFlight;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 11, 4, 12, 0, 1) });
  store = new Counters();
  a = new SharedInFlight({ store });
  b = new SharedInFlight({ store });
});
afterEach(() => {
  a.close();
  b.close();
  vi.useRealTimers();
});

describe('SharedInFlight: one cap for a key across instances', () => {
  it('two instances share the cap; a freed slot returns to the team after a moment', async () => {
    const a1 = await a.enter('key', 3);
    await a.enter('key', 3);
    await b.enter('key', 3);
    expect(await refused(b.enter('key', 3))).toBe(true);
    expect(await refused(a.enter('key', 3))).toBe(true);
    a1();
    // The freed slot stays with instance a first: a reuses it without asking the store.
    const calls = store.calls;
    const again = await a.enter('key', 3);
    expect(store.calls).toBe(calls);
    again();
    expect(await refused(b.enter('key', 3))).toBe(true);
    await vi.advanceTimersByTimeAsync(2_100);
    await expect(b.enter('key', 3)).resolves.toBeTypeOf('function');
  });

  it('calls waiting together on one instance are asked for in one store call and refused together when full', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => a.enter('key', 4)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(16);
    // Not a store call per request (20, plus a give-back per refusal): a few, give-backs included.
    expect(store.calls).toBeLessThanOrEqual(6);
    expect([...store.items.values()].map((item) => item.value)).toEqual([4]);
  });

  it('calls running across an epoch keep their slots in the new counter', async () => {
    await a.enter('key', 2);
    await a.enter('key', 2);
    await vi.advanceTimersByTimeAsync(EPOCH_MS);
    expect(await refused(b.enter('key', 2))).toBe(true);
  });

  it("a crashed instance's slots end with their epoch", async () => {
    await a.enter('key', 2);
    await a.enter('key', 2);
    a.close(); // as a kill -9 would leave it: nothing more from a, its calls' slots still counted
    expect(await refused(b.enter('key', 2))).toBe(true);
    await vi.advanceTimersByTimeAsync(EPOCH_MS);
    await b.enter('key', 2);
    await b.enter('key', 2);
    expect(await refused(b.enter('key', 2))).toBe(true);
  });

  it('with the store down, an instance counts its own calls at the full cap', async () => {
    store.down = true;
    const leaves = [await a.enter('key', 2), await a.enter('key', 2)];
    expect(await refused(a.enter('key', 2))).toBe(true);
    leaves[0]!();
    await expect(a.enter('key', 2)).resolves.toBeTypeOf('function');
  });
});
