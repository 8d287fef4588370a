/**
 * `application/vnd.amazon.eventstream` decoding: bytes in any chunking → whole messages with their
 * string headers and payload. Frame layout: total length (4), headers length (4), prelude CRC32 (4),
 * headers, payload, message CRC32 (4). Both CRCs are checked; a partial frame left at the end is an error.
 */
import { crc32 } from 'node:zlib';

export interface EventStreamMessage {
  /** String-valued headers (`:message-type`, `:event-type`, `:exception-type`, …); others are skipped. */
  headers: Record<string, string>;
  payload: Buffer;
}

const PRELUDE = 12;
const MIN_FRAME = PRELUDE + 4;

/** Fixed sizes of the non-string header value types (0 true, 1 false, 2 byte … 9 uuid). */
const FIXED_SIZE = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];

function parseHeaders(buf: Buffer, start: number, end: number): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = start;
  while (at < end) {
    const nameLength = buf[at]!;
    const name = buf.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = buf[at++]!;
    if (type === 6 || type === 7) {
      const length = buf.readUInt16BE(at);
      if (type === 7) headers[name] = buf.toString('utf8', at + 2, at + 2 + length);
      at += 2 + length;
    } else {
      const size = FIXED_SIZE[type];
      if (size === undefined) throw new Error(`event stream: unknown header value type ${type}`);
      at += size;
    }
  }
  if (at !== end) throw new Error('event stream: headers overrun their declared length');
  return headers;
}

export class EventStreamDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns every message they complete. */
  push(chunk: Uint8Array): EventStreamMessage[] {
    let buf: Buffer =
      this.#pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.#pending, chunk]);
    const messages: EventStreamMessage[] = [];
    while (buf.length >= PRELUDE) {
      const total = buf.readUInt32BE(0);
      if (total < MIN_FRAME) throw new Error(`event stream: impossible frame length ${total}`);
      if (buf.length < total) break;
      const headersLength = buf.readUInt32BE(4);
      if (crc32(buf.subarray(0, 8)) !== buf.readUInt32BE(8))
        throw new Error('event stream: prelude CRC mismatch');
      if (crc32(buf.subarray(0, total - 4)) !== buf.readUInt32BE(total - 4))
        throw new Error('event stream: message CRC mismatch');
      const headersEnd = PRELUDE + headersLength;
      if (headersEnd > total - 4) throw new Error('event stream: headers longer than the frame');
      messages.push({
        headers: parseHeaders(buf, PRELUDE, headersEnd),
        payload: buf.subarray(headersEnd, total - 4),
      });
      buf = buf.subarray(total);
    }
    // Copy the remainder so a large chunk is not kept alive by a few trailing bytes.
    this.#pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return messages;
  }

  /** Call at end of input: throws when a partial frame is left over. */
  end(): void {
    if (this.#pending.length > 0)
      throw new Error(`event stream ended inside a frame (${this.#pending.length} bytes left over)`);
  }
}
