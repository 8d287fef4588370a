import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { UpstreamPool } from './pool.ts';
import { registerPoolMetrics } from './pool-metrics.ts';

const pool = {
  breakerStates: () => [
    { upstream: 'a', model: 'm', state: 'open' as const, blank: false },
    { upstream: 'a', model: 'made-up-by-a-client', state: 'closed' as const, blank: true },
    { upstream: 'a', model: 'n', state: 'closed' as const, blank: false },
  ],
} as unknown as UpstreamPool;
const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('registerPoolMetrics', () => {
  it('writes out attempts, latency and breakers at scrape time as prom-client would', async () => {
    const registry = new Registry();
    const observer = registerPoolMetrics(registry, pool);
    const calls: [string, 'ok' | 'throttled', number][] = [
      ['a', 'ok', 40],
      ['a', 'ok', 100],
      ['a', 'throttled', 3_000],
      ['b', 'ok', 45_000],
    ];
    for (const [upstream, outcome, ms] of calls) observer.attempt(upstream, outcome, ms);
    const text = await registry.metrics();
    expect(lines(text, 'abproxy_upstream_attempts_total{')).toEqual([
      'abproxy_upstream_attempts_total{upstream="a",outcome="ok"} 2',
      'abproxy_upstream_attempts_total{upstream="a",outcome="throttled"} 1',
      'abproxy_upstream_attempts_total{upstream="b",outcome="ok"} 1',
    ]);
    // Breakers that counted a fault only: a made-up model id (a client fault, never counted) is no series.
    expect(lines(text, 'abproxy_upstream_breaker_state{')).toEqual([
      'abproxy_upstream_breaker_state{upstream="a",model="m"} 2',
      'abproxy_upstream_breaker_state{upstream="a",model="n"} 0',
    ]);
    // The histogram reads exactly as prom-client's own Histogram given the same observations.
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'abproxy_upstream_attempt_seconds',
      help: 'Time to the answer headers (or the fault) per upstream',
      labelNames: ['upstream'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [reference],
    });
    for (const [upstream, , ms] of calls) histogram.observe({ upstream }, ms / 1000);
    const expected = await reference.metrics();
    expect(lines(text, 'abproxy_upstream_attempt_seconds')).toEqual(
      lines(expected, 'abproxy_upstream_attempt_seconds'),
    );
    expect(lines(text, '# TYPE abproxy_upstream_attempt_seconds')).toEqual([
      '# TYPE abproxy_upstream_attempt_seconds histogram',
    ]);
    // Scraping again reads the same totals (nothing is reset by a scrape).
    expect(await registry.metrics()).toBe(text);
  });
});
