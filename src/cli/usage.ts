/**
 * `abproxy usage [--key ID] [--since 7d] [--until T] [--by model|key|day] [--json|--plain]`: request counts,
 * tokens and estimated cost from the store (solo or team), plus records still waiting in this
 * machine's spool, so a report right after a crash or during a store outage is complete.
 */
import type { Command } from 'commander';
import { parseDuration } from '../auth/duration.ts';
import { openStore } from '../store/open.ts';
import type { UsageQuery, UsageRecord } from '../store/types.ts';
import type { Column, OutputMode, Row } from '../ui/index.ts';
import { terminalLine } from '../ui/terminal-text.ts';
import {
  type GroupBy,
  inQuery,
  spooledRecords,
  summarize,
  type UsageReport,
  type UsageRow,
} from '../usage/report.ts';
import { spoolDir } from '../usage/spool-dir.ts';
import { CliError, EXIT } from './errors.ts';
import { addStoreOptions, adminConfig, explainAwsError, type StoreFlags } from './store-options.ts';

export type { GroupBy, UsageReport, UsageRow };
export { spooledRecords, summarize };

interface UsageFlags extends StoreFlags {
  key?: string;
  since?: string;
  until?: string;
  by?: string;
  json?: boolean;
  plain?: boolean;
}

export interface UsageIo {
  stdout: (line: string) => void;
}

/** `7d`-style durations back from now, or an ISO date/time. */
export function parseTime(flag: string, text: string, now: number): string {
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now - ago).toISOString();
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new CliError(`${flag}: expected a duration like 7d or 12h, or an ISO date`, EXIT.usage);
  return new Date(ms).toISOString();
}

export async function collectUsage(flags: UsageFlags, now = Date.now()): Promise<UsageReport> {
  const by = (flags.by ?? 'key') as GroupBy;
  if (!['model', 'key', 'day'].includes(by))
    throw new CliError('--by: expected model, key or day', EXIT.usage);
  const query: UsageQuery = { since: parseTime('--since', flags.since ?? '30d', now) };
  if (flags.until) query.until = parseTime('--until', flags.until, now);
  const config = adminConfig(flags);
  const store = await openStore(config);
  let stored: UsageRecord[];
  // Signed-in people spend under their principal id; show (and accept) their emails too.
  let emails = new Map<string, string>();
  try {
    emails = new Map((await store.listPrincipals().catch(() => [])).map((p) => [p.id, p.email]));
    if (flags.key) {
      const wanted = flags.key.toLowerCase();
      query.keyId = [...emails].find(([, email]) => email === wanted)?.[0] ?? flags.key;
    }
    stored = await store.listUsage(query);
  } catch (err) {
    explainAwsError(err, config);
  } finally {
    await store.close();
  }
  const byId = new Map(stored.map((record) => [record.id, record]));
  for (const record of spooledRecords(spoolDir(config))) {
    if (!byId.has(record.id) && inQuery(record, query)) byId.set(record.id, record);
  }
  const report = summarize([...byId.values()], query, by);
  const principals = Object.fromEntries(
    [...new Set([...byId.values()].map((record) => record.keyId))]
      .filter((id) => emails.has(id))
      .map((id) => [id, emails.get(id)!]),
  );
  if (Object.keys(principals).length > 0) report.principals = principals;
  return report;
}

/** What `usage` shows, first column named after the grouping: stable plain columns, numbers right-aligned. */
export function usageColumns(by: GroupBy): Column[] {
  const number = (key: keyof UsageRow, header: string): Column => ({ key, header, align: 'right' });
  return [
    { key: 'group', header: by.toUpperCase() },
    number('requests', 'REQUESTS'),
    number('errors', 'ERRORS'),
    number('interrupted', 'INTERRUPTED'),
    number('estimated', 'ESTIMATED'),
    number('input_tokens', 'INPUT'),
    number('output_tokens', 'OUTPUT'),
    number('cache_read_input_tokens', 'CACHE READ'),
    number('cache_creation_input_tokens', 'CACHE WRITE'),
    { key: 'cost_usd', header: 'COST USD', align: 'right', format: (v) => Number(v).toFixed(4) },
  ];
}

/** The report for people: a title line, then one row per group and the total (ink table on a terminal). */
export async function printUsage(
  report: UsageReport,
  mode: OutputMode = {},
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  out.write(
    `${terminalLine(`usage since ${report.since}${report.until ? ` until ${report.until}` : ''}${report.key ? ` for ${report.key}` : ''}`)}\n`,
  );
  const { printTable } = await import('../ui/index.ts');
  const named = (row: UsageRow) =>
    report.by === 'key' && report.principals?.[row.group]
      ? { ...row, group: `${row.group} (${report.principals[row.group]})` }
      : row;
  await printTable(
    usageColumns(report.by),
    [...report.groups.map(named), report.total] as unknown as Row[],
    mode,
    out,
  );
}

export function registerUsage(program: Command, io: UsageIo): void {
  addStoreOptions(
    program
      .command('usage')
      .description('requests, tokens and estimated cost per key, model or day')
      .option('--key <id>', 'only this key (or signed-in principal: prn_… id or email)')
      .option('--since <when>', 'start: a duration back from now (7d, 12h) or an ISO date', '30d')
      .option('--until <when>', 'end (exclusive): a duration back from now or an ISO date')
      .option('--by <group>', 'group by model, key or day', 'key')
      .option('--json', 'print JSON')
      .option('--plain', 'plain text even on a terminal'),
  ).action(async (flags: UsageFlags) => {
    const report = await collectUsage(flags);
    if (flags.json) io.stdout(JSON.stringify(report, null, 2));
    else await printUsage(report, { plain: flags.plain });
  });
}
