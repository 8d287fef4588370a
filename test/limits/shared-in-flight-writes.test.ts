/**
 * Team mode's cap on calls in flight against DynamoDB Local: what a refusal costs in store writes. A
 * client looping on 429s (or anyone with one valid key) must not turn refusals into a write flood.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/limits/rate-limits.ts';
import { SharedInFlight, type SlotCounterStore } from '../../src/limits/shared-in-flight.ts';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';

const PREFIX = 'inflightwrites';

let local: DynamoLocal;
let store: DynamoStore;

beforeAll(async () => {
  local = await startDynamoLocal();
  await setupTables(local.client(), tableSchemas(PREFIX));
  store = new DynamoStore({ tablePrefix: PREFIX, region: 'us-east-1', client: local.client() });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await local?.stop();
});

/** The real store, with every counter write it is asked for counted. */
function counted(inner: DynamoStore) {
  const writes = { total: 0, takeBacks: 0 };
  const wrapped: SlotCounterStore = {
    addToCounter(name, amount, expiresAt) {
      writes.total++;
      if (amount < 0) writes.takeBacks++;
      return inner.addToCounter(name, amount, expiresAt);
    },
    addToCounterUpTo(name, amount, cap, expiresAt) {
      writes.total++;
      return inner.addToCounterUpTo(name, amount, cap, expiresAt);
    },
  };
  return { writes, store: wrapped };
}

describe('SharedInFlight on DynamoDB Local', () => {
  it('a refused call costs one write per look and nothing to take back; a freed slot is usable at once elsewhere', async () => {
    // One epoch for the whole test: a counter moving to the next would write, and could let a call in.
    const start = Date.now();
    const now = () => start;
    const a = new SharedInFlight({ store, now });
    const onB = counted(store);
    const b = new SharedInFlight({ store: onB.store, now });
    try {
      const held = await a.enter('key_writes', 1);
      let refused = 0;
      for (let i = 0; i < 50; i++) {
        await b.enter('key_writes', 1).then(
          () => undefined,
          (err) => {
            if (err instanceof RateLimitError && err.limit === 'concurrency') refused++;
            else throw err;
          },
        );
      }
      expect(refused).toBe(50);
      // One write for the first look and one for the look again, per refusal (was 4: an add and a take-back each).
      expect(onB.writes.total).toBeLessThanOrEqual(100);
      expect(onB.writes.takeBacks).toBe(0);

      held(); // the team was full: back at once
      const onBNow = await b.enter('key_writes', 1);
      await expect(a.enter('key_writes', 1)).rejects.toBeInstanceOf(RateLimitError);
      onBNow();
    } finally {
      a.close();
      b.close();
    }
  }, 60_000);
});
