/**
 * `application/vnd.amazon.eventstream` decoding: bytes in any chunking → whole messages with their
 * string headers and payload. Each message is framed as
 *   total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32
 * (big-endian); both CRCs are checked and a partial frame left at the end is an error, as the SDK's
 * codec (@smithy/core/event-streams) does. Written out because it runs for every event of every
 * stream: framing in the same loop as the body (no generator layer and no promise per frame between
 * the socket and the consumer), CRC32 by zlib, and only string headers kept.
 */
import zlib from 'node:zlib';

/** CRC32 (IEEE), native since Node 22.2; a table-driven one before that. */
const crc32: (data: Uint8Array) => number =
  zlib.crc32 ??
  (() => {
    const table = new Uint32Array(256).map((_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });
    return (data: Uint8Array) => {
      let crc = 0xffffffff;
      for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
      return (crc ^ 0xffffffff) >>> 0;
    };
  })();

export interface EventStreamMessage {
  /** String-valued headers (`:message-type`, `:event-type`, `:exception-type`, …); others are skipped. */
  headers: Record<string, string>;
  payload: Buffer;
}

/** Total length, headers length, prelude CRC. */
const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const MIN_MESSAGE_BYTES = PRELUDE_BYTES + CRC_BYTES;
/** The format's own limit (16 MiB): a larger length is a corrupt stream, not a message to wait for. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Bytes after the type tag of each header value type (0-9), -1 for a u16 length then that many bytes. */
const FIXED_VALUE_BYTES = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];
const STRING_TYPE = 7;

function parseHeaders(frame: Buffer, start: number, end: number): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = start;
  while (at < end) {
    const nameLength = frame[at]!;
    const name = frame.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = frame[at++]!;
    const size = FIXED_VALUE_BYTES[type];
    if (size === undefined) throw new Error(`Unrecognized event stream header type tag: ${type}`);
    if (size >= 0) {
      at += size;
      continue;
    }
    const length = frame.readUInt16BE(at);
    if (type === STRING_TYPE) headers[name] = frame.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
  }
  if (at !== end) throw new Error('Malformed event stream headers');
  return headers;
}

/** One whole frame (its length already checked) → the message; throws on a checksum mismatch. */
function decodeFrame(frame: Buffer): EventStreamMessage {
  const headersLength = frame.readUInt32BE(4);
  const preludeCrc = frame.readUInt32BE(8);
  if (crc32(frame.subarray(0, 8)) !== preludeCrc) {
    throw new Error('The prelude checksum of an event stream message does not match its CRC32');
  }
  const crcAt = frame.length - CRC_BYTES;
  if (crc32(frame.subarray(0, crcAt)) !== frame.readUInt32BE(crcAt)) {
    throw new Error('The message checksum of an event stream message does not match its CRC32');
  }
  const headersEnd = PRELUDE_BYTES + headersLength;
  if (headersEnd > crcAt) throw new Error('Malformed event stream message: headers overrun');
  return {
    headers: parseHeaders(frame, PRELUDE_BYTES, headersEnd),
    payload: frame.subarray(headersEnd, crcAt),
  };
}

const asBuffer = (chunk: Uint8Array) =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/**
 * The messages of one event-stream body, in order, each passed through `map` (a message it maps to
 * undefined is skipped; mapping here rather than in another generator saves a promise per frame);
 * throws on a corrupt or truncated frame, or when `map` throws. A consumer that stops early (break,
 * or a throw in its loop) releases the body (its return() is called), so the HTTP response is not
 * left unread with its connection held.
 */
export function decodeEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<EventStreamMessage>;
export function decodeEventStream<T>(
  body: AsyncIterable<Uint8Array>,
  map: (message: EventStreamMessage) => T | undefined,
): AsyncGenerator<T>;
export async function* decodeEventStream<T>(
  body: AsyncIterable<Uint8Array>,
  map?: (message: EventStreamMessage) => T | undefined,
): AsyncGenerator<T | EventStreamMessage> {
  const source = body[Symbol.asyncIterator]();
  /** Bytes of a frame not complete yet. */
  let rest: Buffer | undefined;
  try {
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      const chunk = asBuffer(next.value);
      const bytes = rest ? Buffer.concat([rest, chunk]) : chunk;
      let at = 0;
      while (bytes.length - at >= 4) {
        const total = bytes.readUInt32BE(at);
        if (total < MIN_MESSAGE_BYTES || total > MAX_MESSAGE_BYTES) {
          throw new Error(`Invalid event stream message length: ${total}`);
        }
        if (bytes.length - at < total) break;
        const message = decodeFrame(bytes.subarray(at, at + total));
        at += total;
        if (map === undefined) yield message;
        else {
          const item = map(message);
          if (item !== undefined) yield item;
        }
      }
      // A copy: a view would keep the whole chunk alive while the rest of the frame is awaited.
      rest = at < bytes.length ? Buffer.from(bytes.subarray(at)) : undefined;
    }
    if (rest) throw new Error('Truncated event message received.');
  } finally {
    await source.return?.();
  }
}
