/**
 * Usage reports: records grouped by key, model or day with their tokens and estimated cost. Pure, shared
 * by `abproxy usage` and the admin page; plus the records still waiting in a local spool.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageQuery, UsageRecord } from '../store/types.ts';
import { readSpoolFile } from './spool.ts';

export type GroupBy = 'model' | 'key' | 'day';

/** The stable `--json` shape of one group and of the total. */
export interface UsageRow {
  group: string;
  requests: number;
  /** Answers with status >= 400 (including 499: the client left, and 0: the gateway died). */
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
}

export interface UsageReport {
  since: string;
  until: string | null;
  key: string | null;
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
  };
}

function add(row: UsageRow, record: UsageRecord): void {
  row.requests++;
  if (record.status >= 400 || record.status === 0) row.errors++;
  if (record.status === 0 || record.interrupted) row.interrupted++;
  if (record.estimated) row.estimated++;
  row.input_tokens += record.inputTokens;
  row.output_tokens += record.outputTokens;
  row.cache_read_input_tokens += record.cacheReadInputTokens;
  row.cache_creation_input_tokens += record.cacheWriteInputTokens;
  row.cost_usd += record.costUsd ?? 0;
}

function groupOf(record: UsageRecord, by: GroupBy): string {
  switch (by) {
    case 'model':
      return record.model || '(none)';
    case 'key':
      return record.keyId;
    case 'day':
      return record.at.slice(0, 10);
    default: {
      const never: never = by;
      throw new Error(`unknown grouping ${String(never)}`);
    }
  }
}

/** Pure: records → report (cost rounded to a millionth of a dollar). */
export function summarize(records: readonly UsageRecord[], query: UsageQuery, by: GroupBy): UsageReport {
  const groups = new Map<string, UsageRow>();
  const total = emptyRow('total');
  for (const record of records) {
    const name = groupOf(record, by);
    let row = groups.get(name);
    if (!row) {
      row = emptyRow(name);
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
    by,
    groups: [...groups.values()].sort((a, b) => a.group.localeCompare(b.group)).map(round),
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
    (query.keyId === undefined || record.keyId === query.keyId)
  );
}
