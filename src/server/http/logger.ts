import pino, { type Logger } from 'pino';
import type { LogLevel } from '../../config/config.ts';

export type { Logger };

/**
 * JSON logs on stderr (stdout belongs to the CLI's own output). Key-bearing headers are redacted
 * wherever a request's headers get logged.
 */
export function createLogger(
  level: LogLevel,
  apiKeyHeader = 'x-api-key',
  /** A file descriptor, or a stream (the serve dashboard keeps the last lines itself). */
  destination: number | pino.DestinationStream = 2,
): Logger {
  const headers = [...new Set(['x-api-key', 'authorization', apiKeyHeader.toLowerCase()])];
  const paths = headers.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]);
  return pino(
    { level, redact: { paths, censor: '[redacted]' } },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}
