/**
 * A key's cap on model calls in flight at once (`concurrentRequests`): what keeps one developer's
 * runaway agent swarm, or a script opening thousands of slow streams, from taking every upstream
 * connection and the body budget from everyone else. Counted in this process: a count shared between
 * instances would need a lease per call to survive a crash, and a cap per instance already bounds
 * what one key can hold of each instance (N instances let a key hold N times the cap; the README says so).
 */
import { RateLimitError } from './rate-limits.ts';

/** Seconds a refused call is told to wait: calls in flight end in seconds, not a window. */
const RETRY_AFTER_SECONDS = '1';

export class InFlightLimits {
  /** Calls in flight per key id, for keys with a cap only; a key leaves the map at zero. */
  readonly #inFlight = new Map<string, number>();

  /**
   * Takes a slot for one call of `keyId` under its `limit`, or throws a 429 RateLimitError with
   * retry-after. The returned function gives the slot back; calling it again does nothing.
   */
  enter(keyId: string, limit: number): () => void {
    const current = this.#inFlight.get(keyId) ?? 0;
    if (current >= limit) {
      throw new RateLimitError(
        'concurrency',
        `This API key already has ${current} requests in flight, its limit of concurrent requests; retry when one of them ends.`,
        { 'retry-after': RETRY_AFTER_SECONDS },
      );
    }
    this.#inFlight.set(keyId, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(keyId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(keyId, left);
      else this.#inFlight.delete(keyId);
    };
  }

  /** Calls of `keyId` in flight now (tests, the admin page). */
  inFlight(keyId: string): number {
    return this.#inFlight.get(keyId) ?? 0;
  }
}
