/**
 * Calls that wait for an upstream connection are a capacity problem someone must see: each is counted
 * (abproxy_upstream_connection_waits_total) and the log says so, at most once a minute.
 */
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { Logger } from '../server/http/logger.ts';
import type { ConnectionWait } from './bedrock.ts';

/** How often at most a wait for an upstream connection is logged (each wait is counted). */
const CONNECTION_WAIT_LOG_MS = 60_000;

/** Counts calls that wait for an upstream connection, and says so in the log once a minute at most. */
export function connectionWaitReporter(
  log: Logger,
  metrics: () => Pick<GatewayMetrics, 'upstreamConnectionWaits'> | undefined,
  now: () => number = () => performance.now(),
): (wait: ConnectionWait) => void {
  let lastLog = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (wait) => {
    metrics()?.upstreamConnectionWaits.inc();
    unlogged++;
    const at = now();
    if (at - lastLog < CONNECTION_WAIT_LOG_MS) return;
    lastLog = at;
    log.warn(
      { ...wait, waitsSinceLastLog: unlogged },
      'Bedrock calls are waiting for a free upstream connection; raise ABPROXY_UPSTREAM_MAX_CONNECTIONS',
    );
    unlogged = 0;
  };
}
