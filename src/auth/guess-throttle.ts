/**
 * Slows guessing of the master key, the one secret a person may have chosen: after `maxFailures` wrong
 * secrets from one address within `windowMs` (in the admin sign-in form or on any API route, one count),
 * that address may not use the master key (403 on the API, 429 in the form) until the window ends. The
 * same wrong secret again is no new guess: clients retry a refused key (Claude Code in Bedrock mode about
 * ten times a run), and one mistyped key must not bar its address. Bounded in memory.
 */
import { createHash } from 'node:crypto';

export interface GuessThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  failures: number;
  until: number;
  /** Fingerprints of the wrong secrets counted (at most `maxFailures`: the window ends at the last). */
  seen: Set<string>;
}

function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 16);
}

export class GuessThrottle {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  /** Addresses with wrong guesses, not (yet) barred. */
  readonly #counting = new Map<string, Window>();
  /**
   * Barred addresses, until when. Kept apart from the counting windows: when those are full, a spray of
   * one wrong guess from each of thousands of addresses evicts counting windows only, never a lockout.
   */
  readonly #barred = new Map<string, number>();

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
    return this.#counting.size > 0 || this.#barred.size > 0;
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const until = this.#barred.get(address);
    if (until === undefined) return 0;
    const left = until - this.#now();
    if (left <= 0) {
      this.#barred.delete(address);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  /** A wrong secret from `address`; given the secret, one already counted in this window is not again. */
  failed(address: string, secret?: string): void {
    const now = this.#now();
    if ((this.#barred.get(address) ?? 0) > now) return;
    let window = this.#counting.get(address);
    if (!window || window.until <= now) {
      // Full: the oldest window goes, not all of them.
      this.#counting.delete(address);
      if (this.#counting.size >= this.#maxAddresses)
        this.#counting.delete(this.#counting.keys().next().value!);
      window = { failures: 0, until: now + this.#windowMs, seen: new Set() };
      this.#counting.set(address, window);
    }
    if (secret !== undefined) {
      const seen = fingerprint(secret);
      if (window.seen.has(seen)) return;
      window.seen.add(seen);
    }
    window.failures++;
    if (window.failures < this.#max) return;
    this.#counting.delete(address);
    // Bounded too: making room here takes maxAddresses × maxFailures wrong guesses, and frees the
    // lockout barred longest ago.
    this.#barred.delete(address);
    if (this.#barred.size >= this.#maxAddresses) this.#barred.delete(this.#barred.keys().next().value!);
    this.#barred.set(address, window.until);
  }
}
