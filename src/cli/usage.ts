/**
 * `abproxy usage [--key ID] [--session ID] [--agent ID] [--since 7d] [--until T]
 * [--by key|model|day|session|agent] [--format table|json|csv] [--json] [--plain]`: request counts,
 * tokens and estimated cost from the store (solo or team), plus records still waiting in this
 * machine's spool, so a report right after a crash or during a store outage is complete.
 * `--session S --by agent` is the cost of one Claude Code session split by its main agent and subagents.
 */
import type { Command } from 'commander';
import { parseDuration } from '../auth/duration.ts';
import { openStore } from '../store/open.ts';
import {
  AmbiguousKeyError,
  MASTER_KEY_ID,
  type Store,
  type UsageQuery,
  type UsageRecord,
} from '../store/types.ts';
import { terminalLine } from '../text/terminal-text.ts';
import { toCsv } from '../ui/csv.ts';
import type { Column, OutputMode, Row } from '../ui/index.ts';
import {
  GROUPINGS,
  type GroupBy,
  inQuery,
  spooledRecords,
  summarize,
  USAGE_COUNTS,
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
  session?: string;
  agent?: string;
  format?: string;
  json?: boolean;
  plain?: boolean;
}

export interface UsageIo {
  stdout: (line: string) => void;
  /** Writes text as it is (CSV's CRLF line ends); cells are defused before. Defaults to stdout. */
  raw?: (text: string) => void;
}

export const FORMATS = ['table', 'json', 'csv'] as const;
export type UsageFormat = (typeof FORMATS)[number];

/** `--format`, with `--json` as the alias of `--format json`. */
export function usageFormat(flags: Pick<UsageFlags, 'format' | 'json'>): UsageFormat {
  const format = flags.format ?? (flags.json ? 'json' : 'table');
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError('--format: expected table, json or csv', EXIT.usage);
  if (flags.json && format !== 'json')
    throw new CliError(`--json is --format json; it cannot go with --format ${format}`, EXIT.usage);
  return format as UsageFormat;
}

/**
 * An ISO 8601 date, with an optional time and offset. Date.parse alone guesses at anything: `7` (a
 * forgotten unit) is July 2001, `12345` the year 12345, and 2026-02-30 rolls over to March 2.
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** `7d`-style durations back from now, or an ISO date/time. */
export function parseTime(flag: string, text: string, now: number): string {
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now - ago).toISOString();
  const match = ISO_DATE.exec(text.trim());
  const ms = match ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(ms) || !match || !isCalendarDay(Number(match[1]), Number(match[2]), Number(match[3])))
    throw new CliError(
      `${flag}: expected a duration like 7d or 12h, or an ISO date (2026-05-01, 2026-05-01T12:00Z), got '${text}'`,
      EXIT.usage,
    );
  return new Date(ms).toISOString();
}

/**
 * The id whose usage `--key` asks for: a key's id, its prefix or its name (as `abproxy keys` shows them),
 * or a signed-in principal's id or email. Anything else was an empty report with exit 0, read as "spent
 * nothing" (`--key dave` for the key named dave); an id of the key_/prn_ form is taken as it is (a
 * deleted key's records stay), and so is `master` where no key has that name.
 */
async function usageKeyId(store: Store, ref: string, emails: Map<string, string>): Promise<string> {
  const wanted = ref.toLowerCase();
  const principal = [...emails].find(([id, email]) => email === wanted || id === ref)?.[0];
  if (principal) return principal;
  if (/^(key|prn)_/.test(ref)) return ref;
  const byRef = await store.getKey(ref).catch((err: unknown) => {
    if (err instanceof AmbiguousKeyError)
      throw new CliError(`--key: '${ref}' names several keys; give its id`, EXIT.usage);
    throw err;
  });
  if (byRef) return byRef.id;
  const named = (await store.listKeys()).filter((key) => key.name === ref);
  if (named.length === 1) return named[0]!.id;
  if (named.length > 1)
    throw new CliError(
      `--key: ${named.length} keys are named '${ref}'; give one's id (abproxy keys)`,
      EXIT.usage,
    );
  // The master key's (and an open loopback gateway's) calls are recorded under 'master', the group the
  // report shows them in.
  if (ref === MASTER_KEY_ID) return ref;
  throw new CliError(
    `--key: no key or signed-in user '${ref}' (give a key's id, prefix or name, or a user's email: abproxy keys, abproxy principals)`,
    EXIT.usage,
  );
}

export async function collectUsage(flags: UsageFlags, now = Date.now()): Promise<UsageReport> {
  // `--key "$KEY_ID"` with the variable unset: a report of every key would pass for that one key's.
  for (const flag of ['key', 'session', 'agent'] as const) {
    if (flags[flag] !== undefined && flags[flag].trim() === '')
      throw new CliError(`--${flag}: empty; give an id (or leave the flag out for all)`, EXIT.usage);
  }
  const by = (flags.by ?? 'key') as GroupBy;
  if (!GROUPINGS.includes(by)) throw new CliError(`--by: expected ${GROUPINGS.join(', ')}`, EXIT.usage);
  const query: UsageQuery = { since: parseTime('--since', flags.since ?? '30d', now) };
  if (flags.until) query.until = parseTime('--until', flags.until, now);
  // An empty window is a slip (`--until 2026-05-01` alone, after the default --since 30d), not a report of nothing.
  if (query.until !== undefined && Date.parse(query.until) <= Date.parse(query.since)) {
    throw new CliError(
      `--until (${query.until}) must be after --since (${query.since}; it defaults to 30d back)`,
      EXIT.usage,
    );
  }
  if (flags.session !== undefined) query.sessionId = flags.session;
  if (flags.agent !== undefined) query.agentId = flags.agent;
  const config = adminConfig(flags);
  const store = await openStore(config);
  let stored: UsageRecord[];
  // Signed-in people spend under their principal id; show (and accept) their emails too.
  let emails = new Map<string, string>();
  try {
    emails = new Map((await store.listPrincipals().catch(() => [])).map((p) => [p.id, p.email]));
    if (flags.key) query.keyId = await usageKeyId(store, flags.key, emails);
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
export function usageColumns(by: GroupBy, oneSession = false, webTools = false): Column[] {
  const number = (key: keyof UsageRow, header: string): Column => ({ key, header, align: 'right' });
  const text = (key: keyof UsageRow, header: string): Column => ({
    key,
    header,
    format: (v) => (v === null || v === undefined ? '' : String(v)),
  });
  const session = oneSession ? [] : [text('session', 'SESSION')];
  const extra: Record<GroupBy, Column[]> = {
    key: [],
    model: [],
    day: [],
    session: [],
    agent: [text('parent', 'PARENT'), ...session],
    request: [
      text('at', 'AT'),
      text('door', 'DOOR'),
      text('status', 'STATUS'),
      ...session,
      text('agent', 'AGENT'),
      text('trace_id', 'TRACE ID'),
    ],
  };
  return [
    { key: 'group', header: by.toUpperCase() },
    ...extra[by],
    number('requests', 'REQUESTS'),
    number('errors', 'ERRORS'),
    number('interrupted', 'INTERRUPTED'),
    number('estimated', 'ESTIMATED'),
    number('input_tokens', 'INPUT'),
    number('output_tokens', 'OUTPUT'),
    number('cache_read_input_tokens', 'CACHE READ'),
    number('cache_creation_input_tokens', 'CACHE WRITE'),
    // Only when the period had any: most gateways never run the web tools.
    ...(webTools
      ? [number('web_search_requests', 'WEB SEARCHES'), number('web_fetch_requests', 'WEB FETCHES')]
      : []),
    { key: 'cost_usd', header: 'COST USD', align: 'right', format: (v) => Number(v).toFixed(4) },
  ];
}

/** The text columns a grouping adds after its first, in CSV (JSON has them all). */
const CSV_EXTRA: Partial<Record<GroupBy, readonly (keyof UsageRow)[]>> = {
  agent: ['parent', 'session'],
  request: ['at', 'key', 'model', 'door', 'status', 'session', 'agent', 'parent', 'trace_id', 'user_id'],
};

/**
 * The report as CSV: a header row named like the JSON fields (the first column after the grouping),
 * one row per group, no total row (a spreadsheet sums). Client-chosen cells lose their control and
 * bidi characters first, so the file is as safe on a terminal as in a spreadsheet.
 */
export function usageCsv(report: UsageReport): string {
  const extra = CSV_EXTRA[report.by] ?? [];
  const header = [report.by, ...extra, ...USAGE_COUNTS];
  const cell = (value: string | number | null | undefined) =>
    typeof value === 'string' ? terminalLine(value) : value;
  const rows = report.groups.map((row) => [
    cell(row.group),
    ...extra.map((key) => cell(row[key])),
    ...USAGE_COUNTS.map((key) => row[key]),
  ]);
  return toCsv(header, rows);
}

/** The report for people: a title line, then one row per group and the total (ink table on a terminal). */
export async function printUsage(
  report: UsageReport,
  mode: OutputMode = {},
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const scope = [
    report.until ? ` until ${report.until}` : '',
    report.key ? ` for ${report.key}` : '',
    report.session ? ` in session ${report.session}` : '',
    report.agent ? ` by agent ${report.agent}` : '',
  ].join('');
  out.write(`${terminalLine(`usage since ${report.since}${scope}`)}\n`);
  const { printTable } = await import('../ui/index.ts');
  const named = (row: UsageRow) =>
    report.by === 'key' && report.principals?.[row.group]
      ? { ...row, group: `${row.group} (${report.principals[row.group]})` }
      : row;
  await printTable(
    usageColumns(
      report.by,
      report.session !== null,
      report.total.web_search_requests > 0 || report.total.web_fetch_requests > 0,
    ),
    [...report.groups.map(named), report.total] as unknown as Row[],
    mode,
    out,
  );
}

export function registerUsage(program: Command, io: UsageIo): void {
  addStoreOptions(
    program
      .command('usage')
      .description('requests, tokens and estimated cost per key, model, day, Claude Code session or agent')
      .option(
        '--key <key>',
        'only this key (its id, prefix or name; master: the master key) or signed-in user (prn_… id or email)',
      )
      .option('--session <id>', 'only this Claude Code session (x-claude-code-session-id)')
      .option('--agent <id>', 'only this Claude Code subagent (x-claude-code-agent-id)')
      .option('--since <when>', 'start: a duration back from now (7d, 12h) or an ISO date', '30d')
      .option('--until <when>', 'end (exclusive): a duration back from now or an ISO date')
      .option('--by <group>', `group by ${GROUPINGS.join(', ')}`, 'key')
      .option('--format <format>', `output format: ${FORMATS.join(', ')} (default table)`)
      .option('--json', 'print JSON (same as --format json)')
      .option('--plain', 'plain text even on a terminal'),
  ).action(async (flags: UsageFlags) => {
    const format = usageFormat(flags);
    const report = await collectUsage(flags);
    if (format === 'json') io.stdout(JSON.stringify(report, null, 2));
    else if (format === 'csv') (io.raw ?? io.stdout)(usageCsv(report));
    else await printUsage(report, { plain: flags.plain });
  });
}
