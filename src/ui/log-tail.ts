/**
 * A pino destination that keeps the last few log lines as short text, so the serve dashboard can show
 * warnings without them scribbling over its frame.
 */

import { terminalLine } from '../text/terminal-text.ts';
import { formatClock } from './format.ts';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

export class LogTail {
  readonly #max: number;
  #lines: string[] = [];
  #snapshot: readonly string[] = [];

  constructor(max = 5) {
    this.#max = max;
  }

  /** pino writes one JSON line per call. */
  write(chunk: string): boolean {
    for (const text of chunk.split('\n')) {
      if (text.trim() !== '') this.#lines.push(summarize(text));
    }
    if (this.#lines.length > this.#max) this.#lines = this.#lines.slice(-this.#max);
    this.#snapshot = [...this.#lines];
    return true;
  }

  /** Newest last; the same array until a new line arrives (cheap to poll). */
  lines = (): readonly string[] => this.#snapshot;
}

function summarize(line: string): string {
  try {
    const entry = JSON.parse(line) as {
      level?: number;
      time?: number;
      msg?: string;
      err?: { message?: string };
    };
    const level = LEVELS[entry.level ?? 30] ?? String(entry.level);
    const detail = entry.err?.message ? `: ${entry.err.message}` : '';
    return terminalLine(`${formatClock(entry.time ?? Date.now())} ${level} ${entry.msg ?? ''}${detail}`);
  } catch {
    return terminalLine(line);
  }
}
