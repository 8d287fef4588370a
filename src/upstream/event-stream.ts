/**
 * `application/vnd.amazon.eventstream` decoding by the SDK's own codec (@smithy/core/event-streams):
 * bytes in any chunking → whole messages with their string headers and payload. The library frames
 * the bytes, checks both CRCs and parses the typed headers; a partial frame left at the end is an error.
 */
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

export interface EventStreamMessage {
  /** String-valued headers (`:message-type`, `:event-type`, `:exception-type`, …); others are skipped. */
  headers: Record<string, string>;
  payload: Buffer;
}

/** Stateless when used through decode(): one codec serves every stream. */
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * The messages of one event-stream body, in order, each passed through `map` (a message it maps to
 * undefined is skipped; mapping here rather than in another generator saves a promise per frame);
 * throws on a corrupt or truncated frame, or when `map` throws. A consumer
 * that stops early (break, or a throw in its loop) releases the body: getChunkedStream never calls the
 * source's return(), which would leave the HTTP response unread and its connection held.
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
  try {
    for await (const frame of getChunkedStream({ [Symbol.asyncIterator]: () => source })) {
      const message = codec.decode(frame);
      const headers: Record<string, string> = {};
      for (const name in message.headers) {
        const header = message.headers[name]!;
        if (header.type === 'string') headers[name] = header.value;
      }
      const { buffer, byteOffset, byteLength } = message.body;
      const decoded: EventStreamMessage = { headers, payload: Buffer.from(buffer, byteOffset, byteLength) };
      if (map === undefined) yield decoded;
      else {
        const item = map(decoded);
        if (item !== undefined) yield item;
      }
    }
  } finally {
    await source.return?.();
  }
}
