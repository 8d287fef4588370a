import { type Take, type WindowLimiter, windowStart } from './types.ts';

interface Counter {
  start: number;
  end: number;
  used: number;
}

/** In-process counters (solo mode, or one instance). Windows past are dropped on the next touch. */
export class LocalLimiter implements WindowLimiter {
  readonly #counters = new Map<string, Counter>();
  #sweptAt = Number.NEGATIVE_INFINITY;

  async take(counter: string, amount: number, limit: number, windowMs: number, now: number): Promise<Take> {
    return this.takeSync(counter, amount, limit, windowMs, now);
  }

  takeSync(counter: string, amount: number, limit: number, windowMs: number, now: number): Take {
    const start = windowStart(now, windowMs);
    let state = this.#counters.get(counter);
    if (!state || state.start !== start) {
      state = { start, end: start + windowMs, used: 0 };
      this.#counters.set(counter, state);
      // Past windows are dropped once per new window when many counters exist (not per new counter).
      if (this.#counters.size > 10_000 && start > this.#sweptAt) {
        this.#sweptAt = start;
        this.#sweep(now);
      }
    }
    const resetAt = start + windowMs;
    if (state.used + amount > limit)
      return { ok: false, remaining: Math.max(0, limit - state.used), resetAt };
    state.used += amount;
    return { ok: true, remaining: limit - state.used, resetAt };
  }

  adjust(counter: string, delta: number, _limit: number, _windowMs: number, start: number): void {
    const state = this.#counters.get(counter);
    if (state && state.start === start) state.used = Math.max(0, state.used + delta);
  }

  #sweep(now: number): void {
    for (const [key, state] of this.#counters) if (state.end <= now) this.#counters.delete(key);
  }
}
