import { describe, expect, it } from 'vitest';
import type { KeyRecord, UsageRecord } from '../store/types.ts';
import { MAX_SERIES, usageView } from './usage-view.ts';

const record = (keyId: string, at: string, model: string, costUsd: number): UsageRecord => ({
  id: `${keyId}-${at}-${model}`,
  keyId,
  at,
  model,
  serviceTier: 'default',
  inputTokens: 10,
  outputTokens: 5,
  cacheReadInputTokens: 0,
  cacheWriteInputTokens: 1,
  latencyMs: 1,
  status: 200,
  requestId: 'req',
  costUsd,
});

const key = (id: string, budgetUsd?: number, revokedAt?: string): KeyRecord => ({
  id,
  hash: id,
  prefix: id,
  name: `name-${id}`,
  limits: budgetUsd === undefined ? {} : { budgetUsd },
  createdAt: '2026-01-01T00:00:00.000Z',
  revokedAt,
});

describe('usageView', () => {
  const now = Date.parse('2026-03-02T12:00:00.000Z');
  const records = [
    record('key_a', '2026-02-20T10:00:00.000Z', 'm1', 1),
    record('key_a', '2026-03-01T10:00:00.000Z', 'm1', 2),
    record('key_b', '2026-03-02T10:00:00.000Z', 'm2', 0.5),
  ];

  it('charts each day of the window per key (cost) and per model (tokens), with zeros between', () => {
    const view = usageView(records, [], '2026-02-28T12:00:00.000Z', now);
    expect(view.cost_by_key_per_day).toEqual({
      days: ['2026-02-28', '2026-03-01', '2026-03-02'],
      groups: { key_a: [0, 2, 0], key_b: [0, 0, 0.5] },
    });
    expect(view.tokens_by_model_per_day.groups).toEqual({ m1: [0, 16, 0], m2: [0, 0, 16] });
    expect(view.by_key.groups.map((g) => [g.group, g.requests, g.cost_usd])).toEqual([
      ['key_a', 1, 2],
      ['key_b', 1, 0.5],
    ]);
  });

  it('a model named __proto__ (or constructor) is one more group, and nothing leaks into Object.prototype', () => {
    const hostile = [
      record('key_a', '2026-03-01T10:00:00.000Z', '__proto__', 1),
      record('key_a', '2026-03-02T10:00:00.000Z', 'constructor', 1),
      record('key_a', '2026-03-02T11:00:00.000Z', 'hasOwnProperty', 1),
    ];
    const view = usageView(hostile, [], '2026-02-28T12:00:00.000Z', now);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>)['1']).toBeUndefined();
    const groups = view.tokens_by_model_per_day.groups;
    expect(Object.keys(groups).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(Object.getOwnPropertyDescriptor(groups, '__proto__')?.value).toEqual([0, 16, 0]);
    // What the page receives parses back to the same three series.
    expect(Object.keys(JSON.parse(JSON.stringify(view)).tokens_by_model_per_day.groups).sort()).toEqual([
      '__proto__',
      'constructor',
      'hasOwnProperty',
    ]);
  });

  it('charts at most MAX_SERIES series: the largest, and the rest summed as (others)', () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      record('key_a', '2026-03-01T10:00:00.000Z', `model-${i}`, i === 7 ? 100 : 1),
    );
    const view = usageView(many, [], '2026-02-28T12:00:00.000Z', now);
    const groups = view.tokens_by_model_per_day.groups;
    expect(Object.keys(groups)).toHaveLength(MAX_SERIES);
    expect(groups['(others)']).toEqual([0, (500 - (MAX_SERIES - 1)) * 16, 0]);
    const costs = usageView(many, [], '2026-02-28T12:00:00.000Z', now).cost_by_key_per_day.groups;
    expect(costs).toEqual({ key_a: [0, 599, 0] });
    // Totals are kept: what the chart drops into (others) still adds up.
    const sum = Object.values(groups).reduce((a, v) => a + v[1]!, 0);
    expect(sum).toBe(500 * 16);
  });

  it('sums this calendar month per live key against its budget, whatever the window', () => {
    const view = usageView(
      records,
      [key('key_a', 10), key('key_b'), key('key_c', 1, '2026-03-01')],
      '2026-03-02T00:00:00.000Z',
      now,
    );
    expect(view.spend).toEqual([
      { key_id: 'key_a', name: 'name-key_a', month: '2026-03', spent_usd: 2, budget_usd: 10 },
      { key_id: 'key_b', name: 'name-key_b', month: '2026-03', spent_usd: 0.5, budget_usd: null },
    ]);
  });
});

describe('usageView by session and agent', () => {
  const now = Date.parse('2026-03-02T12:00:00.000Z');
  const records = [
    { ...record('key_a', '2026-03-01T10:00:00.000Z', 'm1', 1), sessionId: 'S1' },
    { ...record('key_a', '2026-03-01T10:01:00.000Z', 'm1', 2), sessionId: 'S1', agentId: 'a1' },
    { ...record('key_a', '2026-03-01T10:02:00.000Z', 'm1', 4), sessionId: 'S2' },
  ];

  it('adds the report only when asked', () => {
    expect(usageView(records, [], '2026-02-28T00:00:00.000Z', now)).not.toHaveProperty('report');
    const view = usageView(records, [], '2026-02-28T00:00:00.000Z', now, { by: 'session' });
    expect(view.report?.groups.map((g) => [g.group, g.cost_usd])).toEqual([
      ['S1', 3],
      ['S2', 4],
    ]);
  });

  it('splits one session by agent', () => {
    const view = usageView(records, [], '2026-02-28T00:00:00.000Z', now, { by: 'agent', sessionId: 'S1' });
    expect(view.report?.session).toBe('S1');
    expect(view.report?.groups.map((g) => [g.group, g.parent, g.cost_usd])).toEqual([
      ['(main)', null, 1],
      ['a1', '(main)', 2],
    ]);
  });
});
