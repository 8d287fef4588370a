/**
 * A circuit breaker for one upstream × model: `threshold` faults in a row open it for at least
 * `openMs` (longer when the upstream said `retry-after`); once that has passed one probe call is let
 * through (half-open): its success closes the breaker, its fault opens it again for twice as long.
 * Open upstreams are skipped, so a dead region costs one failed attempt per cool-down, not one per call.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Faults in a row that open the breaker. */
  threshold: number;
  /** Shortest time open. */
  openMs: number;
  /** Longest time open after repeated failed probes. */
  maxOpenMs: number;
  now?: () => number;
}

export class Breaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #faults = 0;
  #openUntil = 0;
  #openMs: number;
  #probing = false;
  /** The fault that opened the breaker was throttling (for the all-throttled 429). */
  #throttled = false;
  /** What the upstream answered to the last fault counted (what a call it skips is told). */
  #cause: unknown;
  /** That fault is one no retry cures (the upstream refused the gateway's AWS keys). */
  #permanent = false;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#openMs = options.openMs;
  }

  get state(): BreakerState {
    if (this.#faults < this.#options.threshold) return 'closed';
    return this.#now() < this.#openUntil ? 'open' : 'half-open';
  }

  /** When an open breaker lets its probe through (epoch ms); 0 when not open. */
  get openUntil(): number {
    return this.state === 'open' ? this.#openUntil : 0;
  }

  get throttled(): boolean {
    return this.#throttled;
  }

  get cause(): unknown {
    return this.#cause;
  }

  /** The last fault when it was one no retry cures (its error, to answer again); else undefined. */
  get permanentFault(): unknown {
    return this.#permanent ? this.#cause : undefined;
  }

  /** Holds nothing a new breaker would not (no fault counted, no probe out): safe to forget. */
  get blank(): boolean {
    return this.#faults === 0 && !this.#probing;
  }

  /** Whether admit() would let a call through now, without taking the probe slot. */
  get admits(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half-open' && !this.#probing);
  }

  /** Whether a call may go through now; in half-open this takes the one probe slot. */
  admit(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  success(): void {
    this.#faults = 0;
    this.#probing = false;
    this.#throttled = false;
    this.#cause = undefined;
    this.#permanent = false;
    this.#openMs = this.#options.openMs;
  }

  /**
   * A fault of the upstream's; `retryAfterMs` is the upstream's own hint, when it gave one; `cause` its
   * error; `permanent` when a retry cannot cure it (the breaker still opens: a probe sees when it is fixed).
   */
  failure(retryAfterMs: number | undefined, throttled: boolean, cause?: unknown, permanent = false): void {
    const wasProbe = this.#probing;
    this.#probing = false;
    this.#faults++;
    this.#throttled = throttled;
    this.#cause = cause;
    this.#permanent = permanent;
    if (this.#faults < this.#options.threshold) return;
    if (wasProbe) this.#openMs = Math.min(this.#openMs * 2, this.#options.maxOpenMs);
    this.#openUntil = this.#now() + Math.max(this.#openMs, retryAfterMs ?? 0);
  }

  /** A call that ended without telling anything about the upstream (client left): frees the probe slot. */
  release(): void {
    this.#probing = false;
  }
}
