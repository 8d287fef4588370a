/**
 * What the admin page charts, from usage records (pure): totals by key and model (the `abproxy usage`
 * report), cost per day split by key and tokens per day split by model, and this month's spend per key.
 */
import type { KeyRecord, UsageRecord } from '../store/types.ts';
import {
  clientLabel,
  type GroupBy,
  inQuery,
  NONE,
  OTHERS,
  summarize,
  USAGE_COUNTS,
  type UsageReport,
  type UsageRow,
} from '../usage/report.ts';

export interface DailySeries {
  /** `YYYY-MM-DD`, every day of the window, oldest first. */
  days: string[];
  /** One value per day for each group. */
  groups: Record<string, number[]>;
}

export interface KeySpend {
  key_id: string;
  name: string | null;
  month: string;
  spent_usd: number;
  budget_usd: number | null;
}

export interface UsageView {
  since: string;
  by_key: UsageReport;
  by_model: UsageReport;
  by_day: UsageReport;
  cost_by_key_per_day: DailySeries;
  tokens_by_model_per_day: DailySeries;
  spend: KeySpend[];
  /** `?by=` (and `?session=`): the `abproxy usage --by … --format json` report of the window. */
  report?: UsageReport;
}

/** The API's `?by=key|model|day|session|agent` and `?session=ID`. */
export interface UsageViewOptions {
  by?: GroupBy;
  sessionId?: string;
}

function daysFrom(since: string, now: number): string[] {
  const days: string[] = [];
  const start = new Date(`${since.slice(0, 10)}T00:00:00.000Z`).getTime();
  for (let t = start; t <= now; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

function series(
  records: readonly UsageRecord[],
  days: string[],
  groupOf: (r: UsageRecord) => string,
  amountOf: (r: UsageRecord) => number,
): DailySeries {
  const index = new Map(days.map((day, i) => [day, i]));
  // A Map, not an object: group names are clients' strings, and a model named `__proto__` would
  // otherwise have written into Object.prototype, breaking every object in the process.
  const groups = new Map<string, number[]>();
  for (const record of records) {
    const i = index.get(record.at.slice(0, 10));
    if (i === undefined) continue;
    const group = groupOf(record);
    let values = groups.get(group);
    if (!values) {
      values = days.map(() => 0);
      groups.set(group, values);
    }
    values[i]! += amountOf(record);
  }
  const shown = largest(groups, days.length);
  for (const values of shown.values()) {
    for (let i = 0; i < values.length; i++) values[i] = Math.round(values[i]! * 1e6) / 1e6;
  }
  // fromEntries defines own properties: `__proto__` is a plain key of the JSON, not a prototype.
  return { days, groups: Object.fromEntries(shown) };
}

/** Series a chart shows; the rest are summed into one: a client can make thousands of model names. */
export const MAX_SERIES = 12;

function largest(groups: Map<string, number[]>, days: number): Map<string, number[]> {
  if (groups.size <= MAX_SERIES) return groups;
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const ranked = [...groups].sort((a, b) => total(b[1]) - total(a[1]));
  const shown = new Map(ranked.slice(0, MAX_SERIES - 1));
  const others = Array.from({ length: days }, () => 0);
  for (const [, values] of ranked.slice(MAX_SERIES - 1))
    for (let i = 0; i < days; i++) others[i]! += values[i]!;
  shown.set(OTHERS, others);
  return shown;
}

const tokensOf = (row: UsageRow) =>
  row.input_tokens + row.output_tokens + row.cache_read_input_tokens + row.cache_creation_input_tokens;

/**
 * At most MAX_SERIES table rows, as the charts: the groups with the most tokens (then requests), in
 * their order, and the rest summed as one (others) row last, so the rows still add up to the total.
 * Model names are clients' strings: one sending a new made-up name per request would make the table
 * as long as its requests.
 */
export function largestRows(rows: readonly UsageRow[]): UsageRow[] {
  if (rows.length <= MAX_SERIES) return [...rows];
  const ranked = [...rows].sort((a, b) => tokensOf(b) - tokensOf(a) || b.requests - a.requests);
  const shown = new Set(ranked.slice(0, MAX_SERIES - 1));
  const others: UsageRow = { ...ranked[MAX_SERIES - 1]!, group: OTHERS };
  for (const row of ranked.slice(MAX_SERIES)) {
    for (const field of USAGE_COUNTS) others[field] += row[field];
  }
  others.cost_usd = Math.round(others.cost_usd * 1e6) / 1e6;
  return [...rows.filter((row) => shown.has(row)), others];
}

const boundedReport = (report: UsageReport): UsageReport => ({
  ...report,
  groups: largestRows(report.groups),
});

export function monthStart(now: number): string {
  const date = new Date(now);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)).toISOString();
}

/** `records` must cover both `since` and the current month. */
export function usageView(
  records: readonly UsageRecord[],
  keys: readonly KeyRecord[],
  since: string,
  now: number,
  options: UsageViewOptions = {},
): UsageView {
  const inWindow = records.filter((r) => r.at >= since);
  const query = { since };
  const days = daysFrom(since, now);
  const month = monthStart(now);
  const spent = new Map<string, number>();
  for (const r of records)
    if (r.at >= month) spent.set(r.keyId, (spent.get(r.keyId) ?? 0) + (r.costUsd ?? 0));
  const view: UsageView = {
    since,
    by_key: summarize(inWindow, query, 'key'),
    by_model: boundedReport(summarize(inWindow, query, 'model')),
    by_day: summarize(inWindow, query, 'day'),
    cost_by_key_per_day: series(
      inWindow,
      days,
      (r) => r.keyId,
      (r) => r.costUsd ?? 0,
    ),
    tokens_by_model_per_day: series(
      inWindow,
      days,
      (r) => (r.model ? clientLabel(r.model) : NONE),
      (r) => r.inputTokens + r.outputTokens + r.cacheReadInputTokens + r.cacheWriteInputTokens,
    ),
    spend: keys
      .filter((k) => !k.revokedAt)
      .map((k) => ({
        key_id: k.id,
        name: k.name ?? null,
        month: month.slice(0, 7),
        spent_usd: Math.round((spent.get(k.id) ?? 0) * 1e6) / 1e6,
        budget_usd: k.limits.budgetUsd ?? null,
      })),
  };
  if (options.by) {
    const scoped = { ...query, ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}) };
    view.report = summarize(
      inWindow.filter((r) => inQuery(r, scoped)),
      scoped,
      options.by,
    );
  }
  return view;
}
