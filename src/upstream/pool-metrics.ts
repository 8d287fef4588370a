/**
 * Prometheus metrics of an upstream pool: attempts per upstream by outcome (`ok` or the fault class),
 * attempt latency, and the breaker state per upstream × model read at scrape time.
 *
 * An attempt only adds to plain numbers (every call makes one; prom-client's labelled `inc`/`observe`
 * validate and hash the labels each time); the counter and the histogram are written out when scraped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PoolObserver, UpstreamPool } from './pool.ts';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface PerUpstream {
  outcomes: Map<string, number>;
  /** Observations per bucket (not cumulative), the last one +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

export function registerPoolMetrics(registry: Registry, pool: UpstreamPool): PoolObserver {
  const registers = [registry];
  const seen = new Map<string, PerUpstream>();
  new Counter({
    name: 'abproxy_upstream_attempts_total',
    help: 'Bedrock calls per upstream by outcome: ok, throttled, overloaded, server, network, timeout, client',
    labelNames: ['upstream', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const [upstream, u] of seen)
        for (const [outcome, n] of u.outcomes) this.inc({ upstream, outcome }, n);
    },
  });
  registry.registerMetric(latencyHistogram(seen) as unknown as Counter);
  new Gauge({
    name: 'abproxy_upstream_breaker_state',
    help: 'Circuit breaker per upstream and model: 0 closed, 1 half-open, 2 open',
    labelNames: ['upstream', 'model'] as const,
    registers,
    collect() {
      this.reset();
      for (const b of pool.breakerStates())
        this.set({ upstream: b.upstream, model: b.model }, BREAKER_VALUE[b.state]);
    },
  });
  return {
    attempt(upstream, outcome, ms) {
      let u = seen.get(upstream);
      if (!u) {
        u = { outcomes: new Map(), buckets: new Array(BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
        seen.set(upstream, u);
      }
      u.outcomes.set(outcome, (u.outcomes.get(outcome) ?? 0) + 1);
      const seconds = ms / 1000;
      let i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
      u.buckets[i]!++;
      u.sum += seconds;
      u.count++;
    },
  };
}

/** The attempt-latency histogram as prom-client's registry reads a metric (`get()` at scrape time). */
function latencyHistogram(seen: Map<string, PerUpstream>) {
  const name = 'abproxy_upstream_attempt_seconds';
  const help = 'Time to the answer headers (or the fault) per upstream';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {
      for (const u of seen.values()) {
        u.buckets.fill(0);
        u.sum = 0;
        u.count = 0;
      }
    },
    async get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [upstream, u] of seen) {
        let cumulative = 0;
        [...BUCKETS, '+Inf' as const].forEach((le, i) => {
          cumulative += u.buckets[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { le, upstream }, value: cumulative });
        });
        values.push({ metricName: `${name}_sum`, labels: { upstream }, value: u.sum });
        values.push({ metricName: `${name}_count`, labels: { upstream }, value: u.count });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}
