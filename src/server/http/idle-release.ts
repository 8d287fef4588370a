/**
 * Gives memory back once a burst is over. After thousands of concurrent streams V8's old generation has
 * grown to several times what stays alive, and its own memory reducer waits ~8 s of quiet, then runs
 * GCs that do not compact. When no request has been in flight for `quietMs` and the resident set has
 * grown by at least `minGrowthBytes` since the last release, one last-resort major GC (it compacts and
 * shrinks the heap; the sockets' native buffers are freed with their wrappers) runs. Measured on
 * bench/memory.ts after 2,000 slow streams: RSS 206–237 → 145–151 MB; ~50–100 ms once per burst, only while
 * nothing is in flight. The growth gate keeps a lightly used gateway (one request now and then) from
 * collecting after every request.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = () => void;

/**
 * V8's `gc` function: the global one when Node runs with --expose-gc, else taken from a fresh context
 * with the flag set only for that moment (no `gc` global for the gateway's code). Undefined if neither works.
 */
export function gcFunction(): Collect | undefined {
  const global = (globalThis as { gc?: (options?: object) => void }).gc;
  let gc = global;
  if (typeof gc !== 'function') {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as (options?: object) => void;
    } catch {
      return undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  if (typeof gc !== 'function') return undefined;
  const collect = gc;
  return () => collect({ type: 'major', flavor: 'last-resort' });
}

export interface IdleRelease {
  /** A request started (the first of a busy period): a pending release is cancelled. */
  busy(): void;
  /** The last request in flight finished: a release is due after `quietMs` unless one starts. */
  idle(): void;
  stop(): void;
}

export interface IdleReleaseOptions {
  /** Quiet time before releasing; 0 switches the release off. */
  quietMs: number;
  /** Release only when the resident set grew this much since the last release (or the start). */
  minGrowthBytes?: number;
  collect?: Collect;
  rss?: () => number;
  onRelease?: (info: { beforeBytes: number; afterBytes: number; ms: number }) => void;
}

export const DEFAULT_MIN_GROWTH_BYTES = 32 * 1024 * 1024;

export function idleRelease(options: IdleReleaseOptions): IdleRelease {
  const collect = options.quietMs > 0 ? (options.collect ?? gcFunction()) : undefined;
  if (!collect) return { busy() {}, idle() {}, stop() {} };
  const rss = options.rss ?? (() => process.memoryUsage.rss());
  const minGrowth = options.minGrowthBytes ?? DEFAULT_MIN_GROWTH_BYTES;
  let baseline = rss();
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    timer = undefined;
    const before = rss();
    // A resident set below the baseline (pages given back on their own) becomes the new baseline.
    if (before - baseline < minGrowth) {
      baseline = Math.min(baseline, before);
      return;
    }
    const started = performance.now();
    collect();
    baseline = rss();
    options.onRelease?.({ beforeBytes: before, afterBytes: baseline, ms: performance.now() - started });
  };
  return {
    busy() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    idle() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(release, options.quietMs).unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
