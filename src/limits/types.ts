/**
 * Rate limits count in fixed windows aligned to the epoch (a minute for per-key limits, the configured
 * RATE_LIMIT_WINDOW for the seed's limit). Fixed windows are what a counter item per key and window in
 * DynamoDB can share across instances; they also give clients an exact reset time.
 */

export interface Take {
  ok: boolean;
  /** Allowance left in this window after the take (an estimate in team mode). */
  remaining: number;
  /** Epoch ms when the window ends and the allowance refills. */
  resetAt: number;
}

/** Counts amounts against a limit per counter and window; local or shared between instances. */
export interface WindowLimiter {
  /** Takes `amount` if it fits in the window's allowance; nothing is taken when it does not. */
  take(counter: string, amount: number, limit: number, windowMs: number, now: number): Promise<Take>;
  /** Settles after the fact: positive adds usage (may overshoot), negative gives some back. */
  adjust(counter: string, delta: number, limit: number, windowMs: number, windowStart: number): void;
}

export function windowStart(now: number, windowMs: number): number {
  return now - (now % windowMs);
}
