/**
 * "Does this parser stay linear on hostile input?" without absolute times: the time for a 1 MB input is
 * compared with the time for a 1 KB input of the same shape. Linear code gives a ratio near 1,000;
 * quadratic code near 1,000,000. The bound sits far from both, so a loaded machine cannot flip it.
 */
import { expect } from 'vitest';

export const SMALL = 1024;
export const LARGE = 1024 * 1024;
/** 30× the size ratio: generous for GC and JIT noise, still 30× below a quadratic ratio. */
export const MAX_RATIO = (LARGE / SMALL) * 30;

/** Milliseconds per call, repeated until at least `minMs` passed (tiny inputs run in microseconds). */
function perCall(run: () => unknown, minMs: number): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    run();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / calls;
}

/**
 * Asserts that `run(input(LARGE))` costs at most MAX_RATIO times `run(input(SMALL))`. `input(n)` builds
 * an input of about n characters; exceptions from `run` count as a normal (refusing) outcome.
 */
export function expectLinear<T>(input: (size: number) => T, run: (value: T) => unknown): void {
  const attempt = (value: T) => () => {
    try {
      run(value);
    } catch {
      // A refusal is an answer too; only the time matters here.
    }
  };
  const small = attempt(input(SMALL));
  const large = attempt(input(LARGE));
  perCall(small, 20); // warm-up (JIT)
  const smallMs = perCall(small, 50);
  const largeMs = Math.min(perCall(large, 0), perCall(large, 0));
  expect(largeMs / smallMs, `1 MB: ${largeMs.toFixed(2)} ms, 1 KB: ${smallMs.toFixed(4)} ms`).toBeLessThan(
    MAX_RATIO,
  );
}
