/**
 * The part of `serve`'s runtime tuning (bin/abproxy.js) applied inside the process rather than as
 * command-line flags: the old generation's growing factor and the `gc` function of the idle memory
 * release. Both are V8 flags, and any V8 flag but the heap sizes changes V8's flag hash: Node's own
 * modules then no longer match the code cache built into the binary, nor ours the compile cache on disk,
 * and every module is compiled from source (measured: `import('node:http')` 30 → 60–70 ms, `serve`
 * ready ~40 ms later). So `serve` starts with the default flags and sets these once it listens; only
 * modules loaded after that (the first request's, for a first TLS connection) are compiled without a
 * code cache. An operator's own choice (a flag in the command line or NODE_OPTIONS) is kept.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** V8's old generation grows to 1.5× what survived the last full collection (its default: up to 4×). */
export const HEAP_GROWING_FLAG = '--heap-growing-percent=50';

/** The Node flags the operator chose: this process's command line and NODE_OPTIONS. */
export function chosenNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return [...execArgv, env.NODE_OPTIONS ?? ''].join(' ');
}

/**
 * V8's `gc` taken at run time: --expose-gc installs it in contexts made while the flag is on, so one is
 * made and the flag set back at once (which also restores V8's flag hash, so nothing compiled later
 * misses its code cache). The context stays alive with the function it returned.
 */
export function takeGc(): (options?: object) => void {
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as (options?: object) => void;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Defines `globalThis.gc` as --expose-gc would (the idle memory release looks for it), unless there is
 * one or the operator chose an expose-gc flag; the real one is taken on the first call (after a burst),
 * so a gateway that never needs it never makes its context.
 */
export function exposeGc(chosen: string = chosenNodeFlags(), global: { gc?: unknown } = globalThis): boolean {
  if (typeof global.gc === 'function' || chosen.includes('expose-gc')) return false;
  let gc: ((options?: object) => void) | undefined;
  global.gc = (options?: object) => {
    gc ??= takeGc();
    gc(options);
  };
  return true;
}

/** Sets the old generation's growing factor unless the operator chose one. */
export function tuneOldGeneration(
  chosen: string = chosenNodeFlags(),
  setFlags: (flags: string) => void = v8.setFlagsFromString,
): boolean {
  if (chosen.includes('heap-growing')) return false;
  setFlags(HEAP_GROWING_FLAG);
  return true;
}
