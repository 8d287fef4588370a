/**
 * Warnings for faults that repeat on every call while a shared store is down (the usage drain, the
 * team's rate, concurrency and budget counters): one per 10 s, saying how many were left out.
 */
import { briefError, type Logger } from '../http/logger.ts';

/** During a store outage a warning would be logged on every call: one per 10 s is enough. */
const OUTAGE_WARNING_MS = 10_000;

/**
 * A warning logged at most once per OUTAGE_WARNING_MS, with how many like it were left out since the
 * last one (a DynamoDB outage fails every counter of every call, each with a stack).
 */
export function outageWarning(
  log: Logger,
  message: string,
  /** How the error is logged: whole (`err`, with its stack) unless told. */
  describe: (err: unknown) => object = (err) => ({ err }),
): (err: unknown, fields?: object) => void {
  let lastWarned = 0;
  let skipped = 0;
  return (err, fields) => {
    const now = Date.now();
    if (now - lastWarned < OUTAGE_WARNING_MS) {
      skipped++;
      return;
    }
    lastWarned = now;
    log.warn({ ...fields, ...describe(err), ...(skipped > 0 ? { alsoFailed: skipped } : {}) }, message);
    skipped = 0;
  };
}

/**
 * A failed attempt on one upstream of a pool. The next upstream absorbs it, so the client sees nothing
 * and only this line says which upstream failed and what it answered (an expired role, a quota): an
 * outage warning per upstream and fault class (a handful of each), the error in brief.
 */
export function upstreamFaultWarning(log: Logger): (upstream: string, fault: string, err: unknown) => void {
  const byClass = new Map<string, (err: unknown, fields?: object) => void>();
  return (upstream, fault, err) => {
    const key = `${upstream}\0${fault}`;
    let warn = byClass.get(key);
    if (!warn) {
      warn = outageWarning(log, 'upstream attempt failed', briefError);
      byClass.set(key, warn);
    }
    warn(err, { upstream, fault });
  };
}
