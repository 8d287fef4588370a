/** A gateway logger whose lines a test reads back, parsed (pass it as startServer's `logger`). */
import type { LogLevel } from '../../src/config/config.ts';
import { createLogger, type Logger } from '../../src/server/http/logger.ts';

export type LogLine = Record<string, unknown> & { level: number; msg: string };

export function capturedLog(level: LogLevel = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger(level, 'x-api-key', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as LogLine);
    },
  });
  return { logger, lines };
}
