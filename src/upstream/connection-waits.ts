/**
 * Calls that wait for an upstream connection are a capacity problem someone must see: each is counted
 * (abproxy_upstream_connection_waits_total) and the log says so, at most once a minute.
 */
import { capacityWarning } from '../metrics/capacity-warning.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { Logger } from '../server/http/logger.ts';
import type { ConnectionWait } from './bedrock.ts';

/** Counts calls that wait for an upstream connection, and says so in the log once a minute at most. */
export function connectionWaitReporter(
  log: Logger,
  metrics: () => Pick<GatewayMetrics, 'upstreamConnectionWaits'> | undefined,
  now?: () => number,
): (wait: ConnectionWait) => void {
  return capacityWarning<ConnectionWait>({
    log,
    counter: () => metrics()?.upstreamConnectionWaits,
    message:
      'Bedrock calls are waiting for a free upstream connection; raise ABPROXY_UPSTREAM_MAX_CONNECTIONS',
    sinceLastLog: 'waitsSinceLastLog',
    ...(now ? { now } : {}),
  });
}
