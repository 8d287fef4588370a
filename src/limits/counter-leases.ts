import { randomUUID } from 'node:crypto';
import type { Store } from '../store/types.ts';
import type { LeaseStore } from './shared.ts';

/**
 * Leases on the store's atomic counter. Increments are serialised by the store, so granting each
 * caller only the part of its increment below the limit hands out at most `limit` in total, with no
 * conditional write and one round trip per lease. The counter itself may pass the limit; only grants
 * count. Each add has its op id: one made but answered too late is not counted again by its retry
 * (a window's lease counted twice refused the key's next calls of that window).
 */
export function counterLeases(store: Pick<Store, 'addToCounter'>): LeaseStore {
  const name = (counter: string, start: number) => `rate:${counter}:${start}`;
  return {
    async leaseLimit(counter, windowStart, want, limit, expiresAtSec) {
      const total = await store.addToCounter(
        name(counter, windowStart),
        want,
        expiresAtSec * 1000,
        randomUUID(),
      );
      const before = total - want;
      const granted = Math.max(0, Math.min(want, limit - before));
      return { granted, total: Math.min(total, limit) };
    },
    async addLimitUsage(counter, windowStart, amount, expiresAtSec) {
      await store.addToCounter(name(counter, windowStart), amount, expiresAtSec * 1000, randomUUID());
    },
  };
}
