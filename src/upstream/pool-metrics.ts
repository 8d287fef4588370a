/**
 * Prometheus metrics of an upstream pool: attempts per upstream by outcome (`ok` or the fault class),
 * attempt latency, and the breaker state per upstream × model read at scrape time.
 *
 * An attempt only adds to plain numbers (tallies, written out when scraped): every call makes one.
 */
import { Gauge, type Registry } from 'prom-client';
import { TallyCounter, TallyHistogram } from '../metrics/tallies.ts';
import type { PoolObserver, UpstreamPool } from './pool.ts';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export function registerPoolMetrics(registry: Registry, pool: UpstreamPool): PoolObserver {
  const attempts = new TallyCounter(registry, {
    name: 'abproxy_upstream_attempts_total',
    help: 'Bedrock calls per upstream by outcome: ok, throttled, overloaded, server, network, credentials, timeout, client',
    labelNames: ['upstream', 'outcome'],
  });
  const latency = new TallyHistogram(registry, {
    name: 'abproxy_upstream_attempt_seconds',
    help: 'Time to the answer headers (or the fault) per upstream',
    labelNames: ['upstream'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  new Gauge({
    name: 'abproxy_upstream_breaker_state',
    help: 'Circuit breaker per upstream and model that has counted a fault: 0 closed, 1 half-open, 2 open (a model with no series has none)',
    labelNames: ['upstream', 'model'] as const,
    registers: [registry],
    collect() {
      this.reset();
      // Only breakers holding a fault: a model id is whatever a client typed, and each made-up one
      // (refused by Bedrock as a client fault, which no breaker counts) would be a series of its own.
      for (const b of pool.breakerStates())
        if (!b.blank || b.state !== 'closed')
          this.set({ upstream: b.upstream, model: b.model }, BREAKER_VALUE[b.state]);
    },
  });
  return {
    attempt(upstream, outcome, ms) {
      attempts.inc({ upstream, outcome });
      latency.observe({ upstream }, ms / 1000);
    },
  };
}
