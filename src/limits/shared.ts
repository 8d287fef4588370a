/**
 * Limits shared by every instance through a counter per (counter, window) in the store. An instance
 * does not ask the store per request: it leases a chunk of the window's allowance with one conditional
 * increment (the store never grants past the limit, so the team as a whole cannot overshoot) and
 * spends the lease locally. Chunks shrink as the window fills, so allowance stranded in other
 * instances' leases when the limit is reached stays small (about one small chunk per instance).
 */
import { LocalLimiter } from './local.ts';
import { type Take, type WindowLimiter, windowStart } from './types.ts';

export interface LeaseResult {
  /** How much of `want` the store granted (0 when the window is full). */
  granted: number;
  /** The window's total granted across instances after this call. */
  total: number;
}

/** The store side: atomic, conditional counters with expiry (DynamoDB UpdateItem with a condition). */
export interface LeaseStore {
  /** Adds up to `want` to the counter without passing `limit`; grants what fits. */
  leaseLimit(
    counter: string,
    windowStart: number,
    want: number,
    limit: number,
    expiresAtSec: number,
  ): Promise<LeaseResult>;
  /** Adds usage beyond what was leased (settling real tokens over the estimate); never refused. */
  addLimitUsage(counter: string, windowStart: number, amount: number, expiresAtSec: number): Promise<void>;
}

interface Lease {
  end: number;
  /** Granted to this instance in the window. */
  granted: number;
  /** Spent of the grant. */
  used: number;
  /** Last total the store reported for the whole team. */
  teamTotal: number;
  pending: Promise<void> | undefined;
}

export interface SharedLimiterOptions {
  store: LeaseStore;
  /** Largest lease as a share of the limit (default 1/20 = 5%). */
  chunkShare?: number;
  onError?: (err: unknown) => void;
}

/** Lease size: a share of the limit, shrinking with what is left in the window, at least what is asked. */
export function chunkSize(limit: number, teamTotal: number, amount: number, share: number): number {
  const left = Math.max(0, limit - teamTotal);
  const chunk = Math.min(Math.ceil(limit * share), Math.ceil(left / 8));
  return Math.max(amount, chunk, 1);
}

export class SharedLimiter implements WindowLimiter {
  readonly #store: LeaseStore;
  readonly #share: number;
  readonly #onError: SharedLimiterOptions['onError'];
  readonly #leases = new Map<string, Lease>();
  readonly #fallback = new LocalLimiter();
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: SharedLimiterOptions) {
    this.#store = options.store;
    this.#share = options.chunkShare ?? 0.05;
    this.#onError = options.onError;
  }

  async take(counter: string, amount: number, limit: number, windowMs: number, now: number): Promise<Take> {
    const start = windowStart(now, windowMs);
    const resetAt = start + windowMs;
    for (;;) {
      const lease = this.#lease(counter, start, windowMs);
      if (lease.used + amount <= lease.granted) {
        lease.used += amount;
        return { ok: true, remaining: this.#remaining(lease, limit), resetAt };
      }
      // The team used the whole window: no store call can grant more until it ends.
      if (lease.teamTotal >= limit) return { ok: false, remaining: 0, resetAt };
      // One lease request per counter at a time; concurrent takes wait for it and try again.
      if (lease.pending) {
        await lease.pending;
        continue;
      }
      const want = chunkSize(limit, lease.teamTotal, amount - (lease.granted - lease.used), this.#share);
      let granted = 0;
      let failed = false;
      lease.pending = this.#store
        .leaseLimit(counter, start, want, limit, Math.ceil((resetAt + windowMs) / 1000))
        .then((result) => {
          granted = result.granted;
          lease.granted += result.granted;
          lease.teamTotal = result.total;
        })
        .catch((err) => {
          failed = true;
          this.#onError?.(err);
        })
        .finally(() => {
          lease.pending = undefined;
        });
      await lease.pending;
      // Store unreachable: keep serving, limited per instance, rather than refuse everyone.
      if (failed) return this.#fallback.takeSync(counter, amount, limit, windowMs, now);
      if (granted === 0 && lease.used + amount > lease.granted) {
        return { ok: false, remaining: 0, resetAt };
      }
    }
  }

  adjust(counter: string, delta: number, _limit: number, windowMs: number, start: number): void {
    const lease = this.#leases.get(`${counter}|${start}`);
    if (!lease) return;
    // Tokens given back stay in this instance's lease for its next requests in the window.
    lease.used = Math.max(0, lease.used + delta);
    const over = lease.used - lease.granted;
    if (over > 0) {
      lease.granted += over;
      lease.teamTotal += over;
      const expiresAt = Math.ceil((start + 2 * windowMs) / 1000);
      this.#store.addLimitUsage(counter, start, over, expiresAt).catch((err) => this.#onError?.(err));
    }
  }

  #lease(counter: string, start: number, windowMs: number): Lease {
    const key = `${counter}|${start}`;
    let lease = this.#leases.get(key);
    if (!lease) {
      lease = { end: start + windowMs, granted: 0, used: 0, teamTotal: 0, pending: undefined };
      this.#leases.set(key, lease);
      // Leases of past windows are worthless; drop them once per new window, not per new counter.
      if (start > this.#sweptAt) {
        this.#sweptAt = start;
        for (const [old, value] of this.#leases) if (value.end <= start) this.#leases.delete(old);
      }
    }
    return lease;
  }

  #remaining(lease: Lease, limit: number): number {
    return Math.max(0, limit - lease.teamTotal + (lease.granted - lease.used));
  }
}
