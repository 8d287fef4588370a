import type { GatewayMetrics } from '../../metrics/metrics.ts';
import type { Handler } from '../http/context.ts';

/** GET /metrics: the Prometheus text exposition of the gateway's registry. */
export function metricsHandler(metrics: GatewayMetrics): Handler {
  return async function metricsRoute(ctx) {
    const text = await metrics.registry.metrics();
    ctx.res.writeHead(200, {
      'content-type': metrics.registry.contentType,
      'content-length': Buffer.byteLength(text),
    });
    ctx.res.end(text);
  };
}

/** Scrapers rarely carry keys: public on loopback unless configured, key required elsewhere. */
export function metricsArePublic(metricsAuth: boolean | undefined, loopback: boolean): boolean {
  return metricsAuth === undefined ? loopback : !metricsAuth;
}
