/**
 * Labelled counters and histograms for the hot path: a call adds to plain numbers, and the series are
 * written out when /metrics is scraped. prom-client's own labelled `inc`/`observe` validate the labels
 * and hash them (sorting the names) on every call, and a request makes about ten such calls.
 *
 * They register in a prom-client Registry like any metric (its `get()` is read at scrape time), and
 * read exactly as prom-client's Counter and Histogram would (tallies.test.ts compares the text).
 */
import type { Counter, Registry } from 'prom-client';

/** What a registry reads from a metric at scrape time. */
interface Scraped {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { metricName?: string; labels: Record<string, string | number>; value: number }[];
}

type LabelValues<L extends string> = Partial<Record<L, string | number>>;

interface Series<L extends string> {
  labels: LabelValues<L>;
}

abstract class Tally<L extends string, S extends Series<L>> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  readonly #labelNames: readonly L[];
  protected readonly series = new Map<string, S>();

  constructor(registry: Registry, options: { name: string; help: string; labelNames: readonly L[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    // The registry only reads name, help, type, get() and reset(): the shape of prom-client's metrics.
    registry.registerMetric(this as unknown as Counter);
  }

  /** The series of these label values, made on first use (its labels copied, as prom-client keeps them). */
  protected seriesOf(labels: LabelValues<L>, create: (labels: LabelValues<L>) => S): S {
    const names = this.#labelNames;
    let key = `${labels[names[0]!] ?? ''}`;
    for (let i = 1; i < names.length; i++) key += `\u0000${labels[names[i]!] ?? ''}`;
    let series = this.series.get(key);
    if (!series) {
      series = create({ ...labels });
      this.series.set(key, series);
    }
    return series;
  }

  abstract reset(): void;
}

interface CounterSeries<L extends string> extends Series<L> {
  value: number;
}

export class TallyCounter<L extends string> extends Tally<L, CounterSeries<L>> {
  readonly type = 'counter' as const;

  inc(labels: LabelValues<L>, amount = 1): void {
    this.seriesOf(labels, (copy) => ({ labels: copy, value: 0 })).value += amount;
  }

  reset(): void {
    this.series.clear();
  }

  async get(): Promise<Scraped> {
    const values = [...this.series.values()].map((s) => ({
      labels: s.labels as Record<string, string | number>,
      value: s.value,
    }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

interface HistogramSeries<L extends string> extends Series<L> {
  /** Observations per bucket (not cumulative), the last one +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

export class TallyHistogram<L extends string> extends Tally<L, HistogramSeries<L>> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: readonly L[]; buckets: readonly number[] },
  ) {
    super(registry, options);
    this.#bounds = options.buckets;
  }

  observe(labels: LabelValues<L>, value: number): void {
    const series = this.seriesOf(labels, (copy) => ({
      labels: copy,
      buckets: new Array<number>(this.#bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
    }));
    let i = 0;
    while (i < this.#bounds.length && value > this.#bounds[i]!) i++;
    series.buckets[i]!++;
    series.sum += value;
    series.count++;
  }

  reset(): void {
    this.series.clear();
  }

  async get(): Promise<Scraped> {
    const name = this.name;
    const values: Scraped['values'] = [];
    for (const series of this.series.values()) {
      const labels = series.labels as Record<string, string | number>;
      let cumulative = 0;
      [...this.#bounds, '+Inf' as const].forEach((le, i) => {
        cumulative += series.buckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${name}_count`, labels, value: series.count });
    }
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
