import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimitError } from './rate-limits.ts';
import { EPOCH_MS, SharedInFlight, type SlotCounterStore } from './shared-in-flight.ts';

/** The store's counters as DynamoDB's UpdateItem ADD with expiry behaves (src/store/dynamodb.ts addToCounter*). */
class Counters implements SlotCounterStore {
  readonly items = new Map<string, { value: number; expiresAt: number }>();
  down = false;
  calls = 0;
  /** Amounts added unconditionally (moves to a new epoch, give-backs). */
  readonly adds: number[] = [];
  async addToCounter(name: string, amount: number, expiresAt: number): Promise<number> {
    this.#call();
    this.adds.push(amount);
    return this.#add(name, amount, expiresAt);
  }
  async addToCounterUpTo(name: string, amount: number, cap: number, expiresAt: number) {
    this.#call();
    const total = this.#live(name)?.value ?? 0;
    if (total + amount > cap) return { added: false, total };
    return { added: true, total: this.#add(name, amount, expiresAt) };
  }
  #call(): void {
    this.calls++;
    if (this.down) throw new Error('store unreachable');
  }
  #live(name: string) {
    const item = this.items.get(name);
    return item && item.expiresAt > Date.now() ? item : undefined;
  }
  #add(name: string, amount: number, expiresAt: number): number {
    let item = this.#live(name);
    if (!item) {
      item = { value: 0, expiresAt };
      this.items.set(name, item);
    }
    item.value += amount;
    return item.value;
  }
}

/** Whether the call is refused for the cap (the clock moved on past the one second look a refusal takes). */
async function refused(p: Promise<unknown>): Promise<boolean> {
  const outcome = p.then(
    () => false,
    (err) => err instanceof RateLimitError && err.limit === 'concurrency',
  );
  await vi.advanceTimersByTimeAsync(250);
  return outcome;
}

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
  it('two instances share the cap; with the team full a freed slot goes back at once', async () => {
    const a1 = await a.enter('key', 3);
    await a.enter('key', 3);
    await b.enter('key', 3);
    expect(await refused(b.enter('key', 3))).toBe(true);
    expect(await refused(a.enter('key', 3))).toBe(true);
    a1();
    // The team was full: the other instance gets the slot now, not after a linger.
    await expect(b.enter('key', 3)).resolves.toBeTypeOf('function');
    expect(await refused(a.enter('key', 3))).toBe(true);
  });

  it('with room in the team a freed slot stays a moment for this instance, then goes back', async () => {
    const a1 = await a.enter('key', 3);
    a1();
    // Reused without a store call.
    const calls = store.calls;
    const again = await a.enter('key', 3);
    expect(store.calls).toBe(calls);
    again();
    expect(store.items.get([...store.items.keys()][0]!)?.value).toBe(1);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(store.items.get([...store.items.keys()][0]!)?.value).toBe(0);
  });

  it('calls made one after another through alternating instances are never refused under a cap of 1', async () => {
    for (let i = 0; i < 10; i++) {
      const leave = await (i % 2 === 0 ? a : b).enter('key', 1);
      leave();
    }
  });

  it('a slot another instance gives back while a call asks is found on the second look', async () => {
    const held = await a.enter('key', 1);
    const asking = b.enter('key', 1);
    await vi.advanceTimersByTimeAsync(20);
    held(); // the team was full: back at once, before b's second look
    await vi.advanceTimersByTimeAsync(250);
    await expect(asking).resolves.toBeTypeOf('function');
  });

  it('with the store down, calls waiting together are counted here at once, not one store timeout each', async () => {
    store.down = true;
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => a.enter('key', 4)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(store.calls).toBeLessThanOrEqual(2);
  });

  it('calls waiting together on one instance are asked for in one store call and refused together when full', async () => {
    const all = Promise.allSettled(Array.from({ length: 20 }, () => a.enter('key', 4)));
    await vi.advanceTimersByTimeAsync(500);
    const results = await all;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(16);
    // Not a store call per request (20, plus a give-back per refusal): a few, give-backs and the one
    // second look included.
    expect(store.calls).toBeLessThanOrEqual(8);
    expect([...store.items.values()].map((item) => item.value)).toEqual([4]);
  });

  it('calls waiting together get what is left of the cap, and the refused ones write nothing to take back', async () => {
    await b.enter('key', 4);
    await b.enter('key', 4);
    const all = Promise.allSettled(Array.from({ length: 5 }, () => a.enter('key', 4)));
    await vi.advanceTimersByTimeAsync(500);
    const results = await all;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(store.adds).toEqual([]);
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
