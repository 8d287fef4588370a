import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../store/types.ts';
import { inQuery, MAIN_AGENT, NONE, summarize } from './report.ts';

let n = 0;
function record(overrides: Partial<UsageRecord>): UsageRecord {
  n++;
  return {
    id: `r${n}`,
    keyId: 'key_a',
    at: `2026-05-10T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
    model: 'claude-sonnet-4-5',
    serviceTier: 'default',
    inputTokens: 100,
    outputTokens: 10,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    latencyMs: 50,
    status: 200,
    requestId: `req_${n}`,
    costUsd: 0.001,
    ...overrides,
  };
}

const query = { since: '2026-05-01T00:00:00.000Z' };
// Session S1: the main agent twice, a subagent that starts a nested one; session S2: main only; a
// plain SDK call without Claude Code headers.
const records = [
  record({ sessionId: 'S1' }),
  record({ sessionId: 'S1', agentId: 'a-sub' }),
  record({ sessionId: 'S1', agentId: 'a-nested', parentAgentId: 'a-sub', outputTokens: 40 }),
  record({ sessionId: 'S1', agentId: 'a-sub', costUsd: 0.002 }),
  record({ sessionId: 'S1' }),
  record({ sessionId: 'S2', inputTokens: 7 }),
  record({}),
];

describe('summarize by session and agent', () => {
  it('splits spend by Claude Code session, with the rest under (none)', () => {
    const report = summarize(records, query, 'session');
    expect(report.groups.map((g) => [g.group, g.requests, g.cost_usd])).toEqual([
      [NONE, 1, 0.001],
      ['S1', 5, 0.006],
      ['S2', 1, 0.001],
    ]);
    expect(report.total.requests).toBe(7);
  });

  it('splits a session by agent: the main agent first, then subagents with their parent', () => {
    const scoped = { ...query, sessionId: 'S1' };
    const report = summarize(
      records.filter((r) => inQuery(r, scoped)),
      scoped,
      'agent',
    );
    expect(report.session).toBe('S1');
    expect(
      report.groups.map((g) => [g.group, g.parent, g.session, g.requests, g.output_tokens, g.cost_usd]),
    ).toEqual([
      [MAIN_AGENT, null, 'S1', 2, 20, 0.002],
      ['a-sub', MAIN_AGENT, 'S1', 2, 20, 0.003],
      ['a-nested', 'a-sub', 'S1', 1, 40, 0.001],
    ]);
    expect(report.total).toMatchObject({ requests: 5, output_tokens: 80, cost_usd: 0.006 });
  });

  it('keeps each session its own main agent when not filtered', () => {
    const report = summarize(records, query, 'agent');
    expect(report.groups.map((g) => [g.session, g.group])).toEqual([
      [NONE, NONE],
      ['S1', MAIN_AGENT],
      ['S1', 'a-sub'],
      ['S1', 'a-nested'],
      ['S2', MAIN_AGENT],
    ]);
  });

  it('filters by agent', () => {
    const scoped = { ...query, agentId: 'a-sub' };
    expect(records.filter((r) => inQuery(r, scoped))).toHaveLength(2);
  });

  it('other groupings carry no agent fields', () => {
    const report = summarize(records, query, 'model');
    expect(report.groups[0]).not.toHaveProperty('parent');
    expect(report.groups[0]).not.toHaveProperty('session');
    expect(report.session).toBeNull();
  });
});

describe('summarize by request', () => {
  it('one row per record, oldest first, with its attribution and trace id', () => {
    const traced = record({
      at: '2026-05-10T09:00:00.000Z',
      sessionId: 'S9',
      agentId: 'a-x',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      userId: 'u1',
      status: 429,
    });
    const report = summarize([records[0]!, traced], query, 'request');
    expect(report.groups).toHaveLength(2);
    expect(report.groups[0]).toMatchObject({
      group: traced.requestId,
      at: traced.at,
      key: 'key_a',
      model: 'claude-sonnet-4-5',
      session: 'S9',
      agent: 'a-x',
      parent: MAIN_AGENT,
      user_id: 'u1',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      status: 429,
      requests: 1,
      errors: 1,
    });
    expect(report.groups[1]).toMatchObject({ session: 'S1', agent: null, parent: null, trace_id: null });
  });
});

describe('errors', () => {
  it('count a stream Bedrock broke mid-way (status 200, interrupted), as the live dashboard does', () => {
    const report = summarize(
      [
        record({}),
        record({ stream: true, interrupted: true, estimated: true }), // modelStreamErrorException mid-way
        record({ stream: true, status: 499, interrupted: true }), // the client left
        record({ status: 429, inputTokens: 0, outputTokens: 0 }),
        record({ status: 0 }), // the gateway died mid-request
      ],
      query,
      'model',
    );
    expect(report.total).toMatchObject({ requests: 5, errors: 4, interrupted: 3 });
  });
});

describe('client ids spelled like the report’s own labels', () => {
  it('neither join those groups nor pass for them: they are shown quoted', () => {
    const spoofed = [
      record({}),
      record({ sessionId: '(none)' }),
      record({ sessionId: 'S9', agentId: '(main)' }),
      record({ sessionId: 'S9' }),
      record({ model: 'total' }),
      record({ model: '"total"' }),
    ];
    const bySession = summarize(spoofed, query, 'session');
    expect(bySession.groups.map((g) => [g.group, g.requests])).toEqual([
      ['"(none)"', 1],
      [NONE, 3],
      ['S9', 2],
    ]);
    const byAgent = summarize(
      spoofed.filter((r) => r.sessionId === 'S9'),
      query,
      'agent',
    );
    // The real main agent stays first and alone; the agent that called itself `(main)` is a subagent.
    expect(byAgent.groups.map((g) => [g.group, g.parent, g.requests])).toEqual([
      [MAIN_AGENT, null, 1],
      ['"(main)"', MAIN_AGENT, 1],
    ]);
    const byModel = summarize(spoofed, query, 'model').groups.map((g) => g.group);
    expect(byModel).toContain('"total"');
    expect(byModel).toContain('"\\"total\\""');
    expect(byModel).not.toContain('total');
  });
});
