/**
 * What the upstream pool tells the rest of the gateway about one client request — which upstream served
 * it and how many attempts failed before — without the handlers knowing a pool exists: the server opens
 * a trace per request, the request's abort signal (clientAbort, server/http/client-abort.ts) names it,
 * and the pool writes into the trace of the signal its call was made with. Keyed by the signal rather
 * than carried in an AsyncLocalStorage: the async context made every promise of a pooled request carry
 * it (measured: about 1% of a pooled request's CPU, bench/pool-cpu.ts --both-pool, within its noise).
 */

export interface UpstreamTrace {
  /** Name of the upstream that answered the last call. */
  served?: string;
  /** The Bedrock id that upstream called: its own region's inference profile (`eu.…` in eu-west-1). */
  called?: string;
  /** Attempts that failed on another upstream before one answered (or all gave up). */
  failedAttempts: number;
  /** Called as soon as an upstream answered, before any byte went to the client. */
  onServed?: (name: string) => void;
}

/**
 * On the signal itself, not in a WeakMap: V8's young-generation collections keep a WeakMap's values while
 * their keys live and copy them along, so every pooled request's trace (and the request it reaches through
 * onServed) was promoted to the old generation: 3× the bytes promoted per call, 4–5× the major GCs.
 */
const TRACE = Symbol('abproxy.upstreamTrace');

type TracedSignal = AbortSignal & { [TRACE]?: UpstreamTrace };

/** Every upstream call made with `signal` reports into `trace`. */
export function traceCallsWith(signal: AbortSignal, trace: UpstreamTrace): void {
  (signal as TracedSignal)[TRACE] = trace;
}

/** The trace of the request whose abort signal a call was made with, if any. */
export function upstreamTraceOf(signal: AbortSignal | undefined): UpstreamTrace | undefined {
  return (signal as TracedSignal | undefined)?.[TRACE];
}
