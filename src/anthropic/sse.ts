/**
 * Server-sent event framing for Anthropic stream events: `event: <type>\ndata: <json>\n\n`.
 * Pure text; writing, pings and backpressure belong to the server's SSE writer.
 */
import type { StreamEvent } from './types.ts';

/** One SSE frame. The name goes on its own line, so CR or LF in it would forge extra fields. */
export function formatSse(name: string, data: unknown): string {
  if (name === '' || /[\r\n]/.test(name)) throw new Error(`invalid SSE event name: ${JSON.stringify(name)}`);
  // JSON.stringify escapes CR/LF inside strings, so the data always fits on one `data:` line.
  const json = JSON.stringify(data);
  if (json === undefined) throw new Error(`SSE event '${name}' has no JSON data`);
  return `event: ${name}\ndata: ${json}\n\n`;
}

export function formatSseEvent(event: StreamEvent): string {
  return formatSse(event.type, event);
}
