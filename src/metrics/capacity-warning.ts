/**
 * A capacity limit someone must see (calls waiting for an upstream connection, request bodies refused
 * over their budget): each event is counted in its Prometheus counter, and the log says so at most once
 * a minute, with how many events came since its last line — never a line per event under load.
 */

/** How often at most such a limit is logged (each event is counted). */
export const CAPACITY_LOG_MS = 60_000;

export interface CapacityWarningOptions {
  log: { warn(fields: object, message: string): void };
  /** The event's counter (read on each event: metrics may be made after the reporter). */
  counter: () => { inc(): void } | undefined;
  message: string;
  /** The log field that counts the events since the last line (`waitsSinceLastLog`, …). */
  sinceLastLog: string;
  now?: () => number;
}

export function capacityWarning<Fields extends object>({
  log,
  counter,
  message,
  sinceLastLog,
  now = () => performance.now(),
}: CapacityWarningOptions): (fields: Fields) => void {
  let lastLog = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (fields) => {
    counter()?.inc();
    unlogged++;
    const at = now();
    if (at - lastLog < CAPACITY_LOG_MS) return;
    lastLog = at;
    log.warn({ ...fields, [sinceLastLog]: unlogged }, message);
    unlogged = 0;
  };
}
