/**
 * A key's cap on model calls in flight at once (`concurrentRequests`): what keeps one developer's
 * runaway agent swarm, or a script opening thousands of slow streams, from taking every upstream
 * connection and the body budget from everyone else. Solo mode counts here, in process; team mode
 * shares one count between instances (shared-in-flight.ts).
 */
import { RateLimitError } from './rate-limits.ts';

/** Seconds a refused call is told to wait: calls in flight end in seconds, not a window. */
const RETRY_AFTER_SECONDS = '1';

/** The 429 for one call past a key's cap. */
export function concurrencyRefusal(limit: number): RateLimitError {
  return new RateLimitError(
    'concurrency',
    `This API key already has ${limit} requests in flight, its limit of concurrent requests; retry when one of them ends.`,
    { 'retry-after': RETRY_AFTER_SECONDS },
  );
}

/** Takes a slot for a call of a key under its cap (throws the 429), or gives back a function that frees it. */
export interface InFlightCounter {
  enter(keyId: string, limit: number): (() => void) | Promise<() => void>;
}

/** The count in this process: solo mode (exact), and team mode's fallback while the store is down. */
export class InFlightLimits implements InFlightCounter {
  /** Calls in flight per key id, for keys with a cap only; a key leaves the map at zero. */
  readonly #inFlight = new Map<string, number>();

  /**
   * Takes a slot for one call of `keyId` under its `limit`, or throws a 429 RateLimitError with
   * retry-after. The returned function gives the slot back; calling it again does nothing.
   */
  enter(keyId: string, limit: number): () => void {
    const current = this.#inFlight.get(keyId) ?? 0;
    if (current >= limit) throw concurrencyRefusal(limit);
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
