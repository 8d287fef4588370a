/**
 * Prometheus metrics of an upstream pool: attempts per upstream by outcome (`ok` or the fault class),
 * attempt latency, and the breaker state per upstream × model read at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolObserver, UpstreamPool } from './pool.ts';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function registerPoolMetrics(registry: Registry, pool: UpstreamPool): PoolObserver {
  const registers = [registry];
  const attempts = new Counter({
    name: 'abproxy_upstream_attempts_total',
    help: 'Bedrock calls per upstream by outcome: ok, throttled, overloaded, server, network, timeout, client',
    labelNames: ['upstream', 'outcome'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'abproxy_upstream_attempt_seconds',
    help: 'Time to the answer headers (or the fault) per upstream',
    labelNames: ['upstream'] as const,
    buckets: BUCKETS,
    registers,
  });
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
  // The labelled children are looked up once per upstream and outcome, not hashed on every call.
  const children = new Map<
    string,
    { attempts: Map<string, { inc(): void }>; latency: { observe(v: number): void } }
  >();
  return {
    attempt(upstream, outcome, ms) {
      let child = children.get(upstream);
      if (!child) {
        child = { attempts: new Map(), latency: latency.labels({ upstream }) };
        children.set(upstream, child);
      }
      let counter = child.attempts.get(outcome);
      if (!counter) {
        counter = attempts.labels({ upstream, outcome });
        child.attempts.set(outcome, counter);
      }
      counter.inc();
      child.latency.observe(ms / 1000);
    },
  };
}
