/**
 * What the upstream pool tells the rest of the gateway about one client request — which upstream served
 * it and how many attempts failed before — without the handlers knowing a pool exists: the server opens
 * a trace per request and the pool writes into the one of the call it is serving.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface UpstreamTrace {
  /** Name of the upstream that answered the last call. */
  served?: string;
  /** Attempts that failed on another upstream before one answered (or all gave up). */
  failedAttempts: number;
  /** Called as soon as an upstream answered, before any byte went to the client. */
  onServed?: (name: string) => void;
}

const storage = new AsyncLocalStorage<UpstreamTrace>();

export function withUpstreamTrace<T>(trace: UpstreamTrace, run: () => T): T {
  return storage.run(trace, run);
}

export function currentUpstreamTrace(): UpstreamTrace | undefined {
  return storage.getStore();
}
