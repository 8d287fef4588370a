/**
 * Slows guessing of the master key, the one secret a person may have chosen: after `maxFailures` wrong
 * secrets from one address within `windowMs` (in the admin sign-in form or on any API route, one count),
 * that address may not use the master key (429) until the window ends. Bounded in memory.
 */
export interface GuessThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  failures: number;
  until: number;
}

export class GuessThrottle {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor({
    maxFailures = 10,
    windowMs = 600_000,
    maxAddresses = 10_000,
    now = Date.now,
  }: GuessThrottleOptions = {}) {
    this.#max = maxFailures;
    this.#windowMs = windowMs;
    this.#maxAddresses = maxAddresses;
    this.#now = now;
  }

  /** Whether any address has wrong guesses on record (the hot path asks this before finding its address). */
  get counting(): boolean {
    return this.#windows.size > 0;
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const window = this.#windows.get(address);
    if (!window) return 0;
    const left = window.until - this.#now();
    if (left <= 0) {
      this.#windows.delete(address);
      return 0;
    }
    return window.failures >= this.#max ? Math.ceil(left / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.#now();
    let window = this.#windows.get(address);
    if (!window || window.until <= now) {
      // Full: the oldest window goes, not all of them (a spray from many addresses would otherwise free
      // every address it had locked out).
      this.#windows.delete(address);
      if (this.#windows.size >= this.#maxAddresses) this.#windows.delete(this.#windows.keys().next().value!);
      window = { failures: 0, until: now + this.#windowMs };
      this.#windows.set(address, window);
    }
    window.failures++;
  }
}
