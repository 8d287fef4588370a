import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TallyCounter, TallyHistogram } from './tallies.ts';

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5];
const observations: [Record<'model' | 'stream', string>, number][] = [
  [{ model: 'sonnet', stream: 'true' }, 0.04],
  [{ model: 'sonnet', stream: 'true' }, 0.3],
  [{ model: 'sonnet', stream: 'false' }, 0.1],
  [{ model: 'qwen', stream: 'true' }, 7],
  [{ model: 'sonnet', stream: 'true' }, 1],
];

describe('tallies', () => {
  it('read exactly as prom-client Counter and Histogram given the same calls, scrape after scrape', async () => {
    const ours = new Registry();
    const counter = new TallyCounter(ours, { name: 't_total', help: 'h', labelNames: ['model', 'stream'] });
    const histogram = new TallyHistogram(ours, {
      name: 't_seconds',
      help: 'h2',
      labelNames: ['model', 'stream'],
      buckets: BUCKETS,
    });
    const reference = new Registry();
    const refCounter = new Counter({
      name: 't_total',
      help: 'h',
      labelNames: ['model', 'stream'],
      registers: [reference],
    });
    const refHistogram = new Histogram({
      name: 't_seconds',
      help: 'h2',
      labelNames: ['model', 'stream'],
      buckets: BUCKETS,
      registers: [reference],
    });
    for (const [labels, value] of observations) {
      counter.inc(labels, value * 10);
      refCounter.inc(labels, value * 10);
      counter.inc(labels);
      refCounter.inc(labels);
      histogram.observe(labels, value);
      refHistogram.observe(labels, value);
    }
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('t_seconds_bucket{le="0.25",model="sonnet",stream="true"} 1');
    expect(await ours.metrics()).toBe(text);
    ours.resetMetrics();
    reference.resetMetrics();
    expect(await ours.metrics()).toBe(await reference.metrics());
  });
});
