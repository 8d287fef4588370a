/**
 * Gives memory back once a burst is over. After thousands of concurrent streams V8's old generation has
 * grown to several times what stays alive and malloc holds the sockets' buffers; V8's own memory reducer
 * waits ~8 s of quiet, then runs GCs that do not compact. When at most `lowWater` requests have been in
 * flight for `quietMs`, at least `minInFlight` were in flight at once since the last release, and the
 * resident set grew by at least `minGrowthBytes`, one last-resort major GC runs (it compacts and shrinks
 * the heap; the sockets' native buffers are freed with their wrappers).
 * Why a low water and not zero: a team's gateway is rarely empty (a Claude Code session holds a stream
 * open for minutes), so a release waiting for nothing in flight may never come, and the next burst then
 * grows on top of the last one's garbage (bench/run.ts, two bursts of 2,000 with one stream between:
 * peak 269 MB). The few calls still running pause once, for the collection (~15–40 ms measured).
 * Measured (bench/memory.ts, after c=128 load and 2,000 slow streams): RSS 227–249 → 144–166 MB.
 * Before it, `closeIdle` (the upstream connections the burst left idle, src/upstream/idle-connections.ts)
 * runs, and the GC waits for those sockets to be closed, so it collects them too: with malloc's mmap
 * threshold at 32 KiB (bin/abproxy.js) 124–129 MB, where the gateway without closeIdle stays at
 * 132–133 MB (the 2,000 client connections the bench keeps open, ~15 KB each in Node, remain).
 * Why the burst gate: the process runs ~15–25% more CPU per request for seconds after such a GC
 * (measured in c=128 windows after each quiet second), so a gateway under steady moderate load, whose
 * resident set is its working set, is left alone; so is one serving a request now and then.
 */
type Collect = () => void;

/**
 * V8's `gc` as a last-resort collection, when the process has one (`serve` defines it at start,
 * src/cli/serve-tuning.ts, as --expose-gc would), else undefined.
 */
export function gcFunction(global: { gc?: unknown } = globalThis): Collect | undefined {
  const gc = global.gc;
  if (typeof gc !== 'function') return undefined;
  return () => (gc as (options: object) => void)({ type: 'major', flavor: 'last-resort' });
}

export interface IdleRelease {
  /** A request started; `inFlight` counts it. Above the low water, a pending release is cancelled. */
  started(inFlight: number): void;
  /**
   * A request finished; `inFlight` counts those still running. At the low water or below after a burst, a
   * release is due after `quietMs` unless the calls in flight rise above it meanwhile.
   */
  finished(inFlight: number): void;
  stop(): void;
}

export interface IdleReleaseOptions {
  /** Quiet time before releasing; 0 switches the release off. */
  quietMs: number;
  /** Release only when the resident set grew this much since the last release (or the start). */
  minGrowthBytes?: number;
  /** Release only after this many requests were in flight at once since the last release. */
  minInFlight?: number;
  /** Release once at most this many are in flight (the burst is over; those pause for the collection). */
  lowWater?: number;
  collect?: Collect;
  /** Run first: closes what the burst left open (idle upstream connections); returns how many closed. */
  closeIdle?: () => number;
  rss?: () => number;
  onRelease?: (info: { beforeBytes: number; afterBytes: number; ms: number; closed: number }) => void;
}

export const DEFAULT_MIN_GROWTH_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MIN_IN_FLIGHT = 256;
export const DEFAULT_LOW_WATER = 8;
/** Time for closed sockets to emit `close` (and their pools to drop them) before the GC runs. */
export const CLOSE_SETTLE_MS = 20;

export function idleRelease(options: IdleReleaseOptions): IdleRelease {
  const collect = options.quietMs > 0 ? (options.collect ?? gcFunction()) : undefined;
  if (!collect) return { started() {}, finished() {}, stop() {} };
  const rss = options.rss ?? (() => process.memoryUsage.rss());
  const minGrowth = options.minGrowthBytes ?? DEFAULT_MIN_GROWTH_BYTES;
  const minInFlight = options.minInFlight ?? DEFAULT_MIN_IN_FLIGHT;
  const lowWater = options.lowWater ?? DEFAULT_LOW_WATER;
  let baseline = rss();
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  /** A release ran while calls were in flight, so the burst's idle connections are still open. */
  let closeWhenIdle = false;
  const release = () => {
    timer = undefined;
    if (peak < minInFlight) return;
    const before = rss();
    // A resident set below the baseline (pages given back on their own) becomes the new baseline.
    if (before - baseline < minGrowth) {
      baseline = Math.min(baseline, before);
      // The burst left nothing to give back: no more timers until the next one.
      peak = 0;
      return;
    }
    // With calls still running the pool's idle connections are not known, and none is closed: they are
    // closed once the last call ends (finished(0)), their memory going with the next ordinary GC.
    const closed = options.closeIdle?.() ?? 0;
    if (closed === 0) {
      closeWhenIdle = options.closeIdle !== undefined;
      collectNow(before, 0);
    }
    // Cancelled like the release itself if a request starts meanwhile (the next quiet moment retries).
    else timer = setTimeout(() => collectNow(before, closed), CLOSE_SETTLE_MS).unref();
  };
  const collectNow = (before: number, closed: number) => {
    timer = undefined;
    const started = performance.now();
    collect();
    peak = 0;
    baseline = rss();
    options.onRelease?.({
      beforeBytes: before,
      afterBytes: baseline,
      ms: performance.now() - started,
      closed,
    });
  };
  return {
    started(inFlight) {
      if (inFlight > peak) peak = inFlight;
      if (timer && inFlight > lowWater) {
        clearTimeout(timer);
        timer = undefined;
      }
    },
    finished(inFlight) {
      if (inFlight === 0 && closeWhenIdle) {
        closeWhenIdle = false;
        options.closeIdle?.();
      }
      // Without a burst since the last release nothing could be released: no timer per quiet moment
      // (a gateway serving one call at a time goes quiet after every call). The quiet time counts from
      // the first moment at the low water, not from each call that ends below it.
      if (!timer && inFlight <= lowWater && peak >= minInFlight)
        timer = setTimeout(release, options.quietMs).unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
