import pino, { type Logger } from 'pino';
import type { LogLevel } from '../../config/config.ts';
import { terminalOutput } from '../../text/terminal-text.ts';
import { withoutCredentials } from '../../upstream/scrub.ts';

export type { Logger };

/**
 * A logged error as pino writes it, with any credential its message (so its stack) carries removed: an
 * upstream's error may echo the gateway's Bedrock key or SigV4 Authorization (scrub.ts), on any path.
 */
function scrubbedErr(err: Error): pino.SerializedError {
  const out = pino.stdSerializers.err(err);
  if (typeof out.message === 'string') out.message = withoutCredentials(out.message);
  if (typeof out.stack === 'string') out.stack = withoutCredentials(out.stack);
  return out;
}

/**
 * JSON logs on stderr (stdout belongs to the CLI's own output). Key-bearing headers are redacted
 * wherever a request's headers get logged; a logged error's message is scrubbed of credentials.
 * Client-chosen text in a line (a model name, a prompt with ABPROXY_LOG_BODIES) reaches the operator's
 * terminal: JSON escapes C0 controls but not C1 (an 8-bit CSI) nor bidi controls, so those are written
 * as their `\uXXXX` escapes, the same JSON value.
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
    {
      level,
      redact: { paths, censor: '[redacted]' },
      serializers: { err: scrubbedErr },
      hooks: { streamWrite: terminalOutput },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}

/**
 * An error as one log line's fields: `Name: message` and its code (a Node system error's `ECONNREFUSED`,
 * an AWS error's HTTP status), not the stack: what failed is for the warning, the stack for debug.
 */
export function briefError(err: unknown): { error: string; code?: string | number } {
  if (!(err instanceof Error)) return { error: String(err) };
  const { code, $metadata } = err as { code?: unknown; $metadata?: { httpStatusCode?: number } };
  // Happy-eyeballs connects fail with an AggregateError whose own message is empty.
  const inner = err instanceof AggregateError ? (err.errors[0] as Error | undefined) : undefined;
  const message = withoutCredentials(err.message || inner?.message || '(no message)');
  const status = $metadata?.httpStatusCode;
  return {
    error: `${err.name}: ${message}`,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : status ? { code: status } : {}),
  };
}

/** A warning about `err` on one line; its stack (the whole error) only when the logger is at debug. */
export function warnBriefly(
  log: Logger,
  fields: Record<string, unknown>,
  err: unknown,
  message: string,
): void {
  log.warn({ ...fields, ...briefError(err), ...(log.isLevelEnabled('debug') ? { err } : {}) }, message);
}
