/**
 * Usage reports: records grouped by key, model, day, Claude Code session or agent with their tokens and
 * estimated cost. Pure, shared by `abproxy usage` and the admin page; plus the records still waiting in
 * a local spool.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageQuery, UsageRecord } from '../store/types.ts';
import { readSpoolFile } from './spool.ts';

export const GROUPINGS = ['key', 'model', 'day', 'session', 'agent', 'request'] as const;
export type GroupBy = (typeof GROUPINGS)[number];

/** The agent group of a Claude Code session's main agent (it sends no agent id). */
export const MAIN_AGENT = '(main)';
/** The group of records without the grouped-by value (no model, no Claude Code session). */
export const NONE = '(none)';
/** The label of the total row in tables. */
export const TOTAL = 'total';
/** The admin page's charts: the series past the largest few, summed. */
export const OTHERS = '(others)';

const RESERVED = new Set([MAIN_AGENT, NONE, TOTAL, OTHERS]);
/**
 * A client-chosen value (model, session, agent id) as a group label: one spelled like a label the report
 * writes itself is shown quoted, so it neither joins that group (a session named `(none)` hiding among
 * the calls without one) nor passes for it (a model named `total`). A quoted value is quoted again.
 */
export function clientLabel(value: string): string {
  return RESERVED.has(value) || value.startsWith('"') ? JSON.stringify(value) : value;
}

/** The stable `--json` shape of one group and of the total. */
export interface UsageRow {
  group: string;
  /** `--by agent`: the agent's session (`(none)` without one); `--by request`: the session or null. */
  session?: string | null;
  /** `--by agent|request`: the agent that started this one: `(main)` for the main agent's subagents, null for the main agent. */
  parent?: string | null;
  /** `--by request` (one row per usage record, `group` is its request id): when, who, what, and the trace. */
  at?: string;
  key?: string;
  model?: string;
  agent?: string | null;
  /** `--by request`: the door the request came in by: `anthropic` (/v1/messages) or `bedrock` (/model/…). */
  door?: 'anthropic' | 'bedrock';
  user_id?: string | null;
  trace_id?: string | null;
  status?: number;
  requests: number;
  /** Answers with status >= 400 (including 499: the client left, and 0: the gateway died) and streams that failed mid-way. */
  errors: number;
  /**
   * Requests that did not reach their end: streams cut short (the client hung up, or it failed
   * mid-way), billed for what was forwarded; and status 0, the gateway died during the request (kill -9,
   * crash) and its spool kept the start: Bedrock may or may not have received the call, tokens are what
   * was known (the input estimate is not used).
   */
  interrupted: number;
  /** Requests whose token counts are the gateway's estimate rather than Bedrock's (cut streams). */
  estimated: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  cost_usd: number;
  /** Web searches and fetches the gateway's server-tools loop ran (Anthropic's `server_tool_use`). */
  web_search_requests: number;
  web_fetch_requests: number;
}

/** The counts of a usage row, in the JSON's order: what a CSV row holds after its text columns, what (others) sums. */
export const USAGE_COUNTS = [
  'requests',
  'errors',
  'interrupted',
  'estimated',
  'input_tokens',
  'output_tokens',
  'cache_read_input_tokens',
  'cache_creation_input_tokens',
  'cost_usd',
  'web_search_requests',
  'web_fetch_requests',
] as const satisfies readonly (keyof UsageRow)[];

export interface UsageReport {
  since: string;
  until: string | null;
  key: string | null;
  /** The `--session` and `--agent` filters (null when absent). */
  session: string | null;
  agent: string | null;
  by: GroupBy;
  groups: UsageRow[];
  total: UsageRow;
  /** Emails of the signed-in principals (`prn_…` usage keys) that appear in the report. */
  principals?: Record<string, string>;
}

function emptyRow(group: string): UsageRow {
  return {
    group,
    requests: 0,
    errors: 0,
    interrupted: 0,
    estimated: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    cost_usd: 0,
    web_search_requests: 0,
    web_fetch_requests: 0,
  };
}

function add(row: UsageRow, record: UsageRecord): void {
  row.requests++;
  // A stream that broke after its 200 went out is a failure too (the live dashboard counts it so).
  if (record.status >= 400 || record.status === 0 || record.interrupted) row.errors++;
  if (record.status === 0 || record.interrupted) row.interrupted++;
  if (record.estimated) row.estimated++;
  row.input_tokens += record.inputTokens;
  row.output_tokens += record.outputTokens;
  row.cache_read_input_tokens += record.cacheReadInputTokens;
  row.cache_creation_input_tokens += record.cacheWriteInputTokens;
  row.cost_usd += record.costUsd ?? 0;
  row.web_search_requests += record.webSearchRequests ?? 0;
  row.web_fetch_requests += record.webFetchRequests ?? 0;
}

function agentOf(record: UsageRecord): string {
  if (record.agentId != null) return clientLabel(record.agentId);
  return record.sessionId ? MAIN_AGENT : NONE;
}

function sessionOf(record: UsageRecord): string {
  return record.sessionId != null ? clientLabel(record.sessionId) : NONE;
}

function parentOf(record: UsageRecord): string | null {
  if (!record.agentId) return null;
  return record.parentAgentId != null ? clientLabel(record.parentAgentId) : MAIN_AGENT;
}

function groupOf(record: UsageRecord, by: GroupBy): string {
  switch (by) {
    case 'model':
      return record.model ? clientLabel(record.model) : NONE;
    case 'key':
      return record.keyId;
    case 'day':
      return record.at.slice(0, 10);
    case 'session':
      return sessionOf(record);
    case 'agent':
      // Agent ids are unique, but every session has its own main agent.
      return `${sessionOf(record)}\u0000${agentOf(record)}`;
    case 'request':
      return record.id;
    default: {
      const never: never = by;
      throw new Error(`unknown grouping ${String(never)}`);
    }
  }
}

/** A new row for the group a record falls in (agent rows carry their session and parent). */
function rowFor(record: UsageRecord, by: GroupBy, name: string): UsageRow {
  const parent = parentOf(record);
  if (by === 'agent') return { ...emptyRow(agentOf(record)), session: sessionOf(record), parent };
  if (by !== 'request') return emptyRow(name);
  return {
    ...emptyRow(record.requestId),
    at: record.at,
    key: record.keyId,
    model: clientLabel(record.model),
    door: record.door ?? 'anthropic',
    session: record.sessionId != null ? clientLabel(record.sessionId) : null,
    agent: record.agentId != null ? clientLabel(record.agentId) : null,
    parent,
    user_id: record.userId ?? null,
    trace_id: record.traceId ?? null,
    status: record.status,
  };
}

/** Agents: by session, the main agent first, then in the order they first spent. Others: by name. */
function ordered(rows: Map<string, UsageRow>, by: GroupBy): UsageRow[] {
  const all = [...rows.values()];
  if (by === 'request') return all.sort((a, b) => a.at!.localeCompare(b.at!));
  if (by !== 'agent') return all.sort((a, b) => a.group.localeCompare(b.group));
  const firstSeen = new Map(all.map((row, i) => [row, i]));
  const rank = (row: UsageRow) => (row.group === MAIN_AGENT ? 0 : 1);
  return all.sort(
    (a, b) =>
      String(a.session).localeCompare(String(b.session)) ||
      rank(a) - rank(b) ||
      firstSeen.get(a)! - firstSeen.get(b)!,
  );
}

/** Pure: records → report (cost rounded to a millionth of a dollar). Records in time order. */
export function summarize(records: readonly UsageRecord[], query: UsageQuery, by: GroupBy): UsageReport {
  const groups = new Map<string, UsageRow>();
  const total = emptyRow(TOTAL);
  for (const record of records) {
    const name = groupOf(record, by);
    let row = groups.get(name);
    if (!row) {
      row = rowFor(record, by, name);
      groups.set(name, row);
    }
    add(row, record);
    add(total, record);
  }
  const round = (row: UsageRow) => ({ ...row, cost_usd: Math.round(row.cost_usd * 1e6) / 1e6 });
  return {
    since: query.since,
    until: query.until ?? null,
    key: query.keyId ?? null,
    session: query.sessionId ?? null,
    agent: query.agentId ?? null,
    by,
    groups: ordered(groups, by).map(round),
    total: round(total),
  };
}

/** Finished records in local spool files that the store may not have yet. */
export function spooledRecords(dir: string): UsageRecord[] {
  if (!existsSync(dir)) return [];
  const records: UsageRecord[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    try {
      for (const line of readSpoolFile(join(dir, name))) if (line.phase === 'done') records.push(line.record);
    } catch {
      // deleted by the drainer while we looked: its records are in the store
    }
  }
  return records;
}

export function inQuery(record: UsageRecord, query: UsageQuery): boolean {
  return (
    record.at >= query.since &&
    (query.until === undefined || record.at < query.until) &&
    (query.keyId === undefined || record.keyId === query.keyId) &&
    (query.sessionId === undefined || record.sessionId === query.sessionId) &&
    (query.agentId === undefined || record.agentId === query.agentId)
  );
}
