/**
 * Terminal output for the CLI commands. Nothing here imports ink: tables, progress and the serve
 * dashboard draw with ink only on a terminal (loaded through load.ts); otherwise tables print as the
 * stable plain text of table-format.ts and progress prints one line per step on stderr.
 */
import type { StatsSnapshot } from '../metrics/stats.ts';
import { loadViews } from './load.ts';
import { type Column, formatTable, type Row } from './table-format.ts';

export { LogTail } from './log-tail.ts';
export { type Column, formatCell, formatTable, type Row } from './table-format.ts';

export interface OutputMode {
  json?: boolean;
  plain?: boolean;
}

type Out = NodeJS.WriteStream;

/** Whether to draw with ink: a terminal that can take it, and no --json / --plain. */
export function richOutput(mode: OutputMode = {}, stream: Out = process.stdout, env = process.env): boolean {
  return stream.isTTY === true && !mode.json && !mode.plain && env.TERM !== 'dumb';
}

/** Draws a table with ink (call only when richOutput() is true; printTable chooses for you). */
export async function renderTable(
  columns: readonly Column[],
  rows: readonly Row[],
  stream: Out = process.stdout,
) {
  (await loadViews()).renderTableInk(columns, rows, stream);
}

/** A table for people: ink on a terminal, plain text otherwise (--json is the caller's to print). */
export async function printTable(
  columns: readonly Column[],
  rows: readonly Row[],
  mode: OutputMode = {},
  stream: Out = process.stdout,
): Promise<void> {
  if (richOutput(mode, stream)) await renderTable(columns, rows, stream);
  else stream.write(formatTable(columns, rows));
}

/** printTable, or the line `none` says when there are no rows (a list command's empty answer). */
export async function printList(
  columns: readonly Column[],
  rows: readonly Row[],
  none: string,
  mode: OutputMode = {},
  stream: Out = process.stdout,
): Promise<void> {
  if (rows.length === 0) stream.write(`${none}\n`);
  else await printTable(columns, rows, mode, stream);
}

export interface ProgressOptions<T> {
  /** stderr by default: stdout stays the command's result. */
  stream?: Out;
  /** false silences it (under --json); the default shows it. */
  enabled?: boolean;
  /** The final line on success; the label otherwise. */
  doneText?: (result: T) => string;
}

/**
 * Runs a long task with a spinner on a terminal (one line per step elsewhere). The task may report
 * steps through `step`; a failure marks the line and is rethrown.
 */
export async function withProgress<T>(
  label: string,
  task: (step: (text: string) => void) => Promise<T>,
  options: ProgressOptions<T> = {},
): Promise<T> {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false) return task(() => {});
  if (!richOutput({}, stream)) {
    stream.write(`${label}\n`);
    const result = await task((text) => stream.write(`${text}\n`));
    if (options.doneText) stream.write(`${options.doneText(result)}\n`);
    return result;
  }
  const progress = (await loadViews()).startProgressInk(label, stream);
  try {
    const result = await task((text) => progress.update(text));
    await progress.finish('done', options.doneText?.(result) ?? label);
    return result;
  } catch (err) {
    await progress.finish('failed', label);
    throw err;
  }
}

export interface DashboardOptions {
  url: string;
  read: () => StatsSnapshot;
  readLogs?: () => readonly string[];
  intervalMs?: number;
  stream?: Out;
}

/** The live serve dashboard on a terminal; stop() leaves its last frame on screen. */
export async function startDashboard(options: DashboardOptions): Promise<{ stop(): Promise<void> }> {
  const views = await loadViews();
  return views.startDashboardInk({
    url: options.url,
    read: options.read,
    readLogs: options.readLogs,
    intervalMs: options.intervalMs ?? 500,
    stdout: options.stream ?? process.stdout,
  });
}
