/**
 * `application/vnd.amazon.eventstream` decoding: bytes in any chunking → whole messages with their
 * string headers and payload. Each message is framed as
 *   total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32
 * (big-endian); both CRCs are checked and a partial frame left at the end is an error, as the SDK's
 * codec (@smithy/core/event-streams) does. Written out because it runs for every event of every
 * stream: a synchronous decoder (no generator layer and no promise per frame between the socket and
 * the consumer), CRC32 by zlib, and only string headers kept. The stream pump listens to it in push
 * mode (eventFeed: each body chunk's events in one call, flow control by pausing the body); other
 * consumers iterate (decodeEventStream).
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

/**
 * A body that is not a well-formed event stream (a torn or corrupt frame, a proxy's HTML page answering
 * a stream call, garbage after a valid frame): the upstream's fault, not the gateway's. Named so the
 * fault table (aws-errors.ts) tells it as such (502 api_error, retryable) instead of an internal error.
 */
export function malformedStream(detail: string): Error {
  return upstreamAnswerMalformed(`Bedrock's event stream could not be read: ${detail}`);
}

/** A 2xx whole answer that is not Bedrock's document (a proxy's HTML page, a cut body), told the same way. */
export function malformedAnswer(what: string): Error {
  return upstreamAnswerMalformed(`Bedrock answered 2xx with ${what}`);
}

function upstreamAnswerMalformed(message: string): Error {
  const err = new Error(message);
  err.name = 'UpstreamAnswerMalformed';
  return err;
}

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
    if (size === undefined) throw malformedStream(`unrecognized header type tag ${type}`);
    if (size >= 0) {
      at += size;
      continue;
    }
    const length = frame.readUInt16BE(at);
    if (type === STRING_TYPE) headers[name] = frame.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
  }
  if (at !== end) throw malformedStream('malformed headers');
  return headers;
}

/** One whole frame (its length already checked) → the message; throws on a checksum mismatch. */
function decodeFrame(frame: Buffer): EventStreamMessage {
  const headersLength = frame.readUInt32BE(4);
  const preludeCrc = frame.readUInt32BE(8);
  if (crc32(frame.subarray(0, 8)) !== preludeCrc) {
    throw malformedStream('the prelude checksum of a message does not match its CRC32');
  }
  const crcAt = frame.length - CRC_BYTES;
  if (crc32(frame.subarray(0, crcAt)) !== frame.readUInt32BE(crcAt)) {
    throw malformedStream('the message checksum of a message does not match its CRC32');
  }
  const headersEnd = PRELUDE_BYTES + headersLength;
  if (headersEnd > crcAt) throw malformedStream('headers overrun their message');
  let headers: Record<string, string>;
  try {
    headers = parseHeaders(frame, PRELUDE_BYTES, headersEnd);
  } catch (err) {
    // A length that points past the headers makes Buffer reads throw a RangeError.
    throw err instanceof RangeError ? malformedStream('malformed headers') : err;
  }
  return {
    headers,
    payload: frame.subarray(headersEnd, crcAt),
  };
}

const asBuffer = (chunk: Uint8Array) =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/**
 * The framing as a synchronous state machine: body chunks in (any split), whole messages out through
 * `each` (with the frame's own bytes), in order. Throws on a corrupt frame; finish() throws when a
 * partial frame is left. Linear in the bytes whatever the chunking: the pieces of a frame are joined
 * once, when it is whole (a large frame in small chunks is not copied again on every chunk).
 */
export class EventStreamDecoder {
  /** Bytes after the last whole frame, in the pieces they came in. */
  #pieces: Buffer[] = [];
  #waiting = 0;
  /** The length of the frame being gathered, once its prelude is in. */
  #total: number | undefined;

  /** Bytes of a frame not complete yet. */
  get pendingBytes(): number {
    return this.#waiting;
  }

  push(data: Uint8Array, each: (message: EventStreamMessage, frame: Buffer) => void): void {
    if (data.length === 0) return;
    this.#pieces.push(asBuffer(data));
    this.#waiting += data.length;
    let at = 0;
    for (;;) {
      if (this.#total === undefined) {
        if (this.#waiting - at < 4) break;
        const total = this.#joined().readUInt32BE(at);
        if (total < MIN_MESSAGE_BYTES || total > MAX_MESSAGE_BYTES) {
          throw malformedStream(`invalid message length ${total}`);
        }
        this.#total = total;
      }
      if (this.#waiting - at < this.#total) break;
      const frame = this.#joined().subarray(at, at + this.#total);
      at += this.#total;
      this.#total = undefined;
      each(decodeFrame(frame), frame);
    }
    if (at === 0) return;
    const rest = this.#joined().subarray(at);
    // A copy: a view would keep the whole chunk alive while the rest of the frame is awaited.
    this.#pieces = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#waiting = rest.length;
  }

  /** The body ended: throws when it stopped inside a frame. */
  finish(): void {
    if (this.#waiting > 0) throw malformedStream('the body ended inside a message');
  }

  #joined(): Buffer {
    if (this.#pieces.length !== 1) this.#pieces = [Buffer.concat(this.#pieces, this.#waiting)];
    return this.#pieces[0]!;
  }
}

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
  const decoder = new EventStreamDecoder();
  const ready: (T | EventStreamMessage)[] = [];
  const collect = (message: EventStreamMessage) => {
    const item = map === undefined ? message : map(message);
    if (item !== undefined) ready.push(item);
  };
  try {
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      let failure: unknown;
      try {
        decoder.push(next.value, collect);
      } catch (err) {
        failure = err;
      }
      // The messages before a bad one still go out first.
      for (let i = 0; i < ready.length; i++) yield ready[i]!;
      ready.length = 0;
      if (failure !== undefined) throw failure;
    }
    decoder.finish();
  } finally {
    await source.return?.();
  }
}

// ---- push mode ----

/** Receives a stream's events in push mode (EventFeed.listen). */
export interface EventListener<T> {
  /** The events decoded from one body chunk (never empty), in order. */
  events(batch: T[]): void;
  /** The body ended after a whole last frame. */
  end(): void;
  /** A corrupt or truncated body, a failure of the connection, or `map` threw (after the events before it). */
  error(err: unknown): void;
}

export interface EventFeedControl {
  /** Stops the events until resume() (the body is no longer read: backpressure reaches Bedrock). */
  pause(): void;
  resume(): void;
  /** Stops listening and releases the body (no further callback). */
  cancel(): void;
}

/**
 * Upstream events that can be iterated, or pushed: listen() hands over the events of each body chunk
 * in one synchronous call, with no promise per event or per chunk (the stream pump's fast path). Use
 * one or the other, once.
 */
export interface EventFeed<T> extends AsyncIterable<T> {
  listen(listener: EventListener<T>): EventFeedControl;
}

/** A body as Node streams give it: readable events and flow control (undici's response body). */
export interface FlowingBody extends AsyncIterable<Uint8Array> {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(err?: Error): unknown;
  readonly destroyed: boolean;
  readonly errored?: Error | null;
}

export function isEventFeed<T>(stream: AsyncIterable<T>): stream is EventFeed<T> {
  return typeof (stream as Partial<EventFeed<T>>).listen === 'function';
}

/** The events of an event-stream body, as an EventFeed: iterable (decodeEventStream) or pushed. */
export function eventFeed<T>(
  body: FlowingBody,
  map: (message: EventStreamMessage) => T | undefined,
): EventFeed<T> {
  return {
    [Symbol.asyncIterator]: () => decodeEventStream(body, map),
    listen(listener) {
      const decoder = new EventStreamDecoder();
      let batch: T[] = [];
      let done = false;
      const collect = (message: EventStreamMessage) => {
        const item = map(message);
        if (item !== undefined) batch.push(item);
      };
      const stop = () => {
        done = true;
        body.removeAllListeners('data');
        body.removeAllListeners('end');
      };
      const fail = (err: unknown) => {
        if (done) return;
        stop();
        listener.error(err);
      };
      body.on('data', (chunk) => {
        if (done) return;
        let failure: unknown;
        try {
          decoder.push(chunk, collect);
        } catch (err) {
          failure = err;
        }
        if (batch.length > 0) {
          const events = batch;
          batch = [];
          listener.events(events);
        }
        if (failure !== undefined) {
          fail(failure);
          body.destroy();
        }
      });
      body.on('end', () => {
        if (done) return;
        try {
          decoder.finish();
        } catch (err) {
          fail(err);
          return;
        }
        stop();
        listener.end();
      });
      body.on('error', fail);
      // Released before anyone listened (the call was aborted meanwhile): its 'error' is gone, so say it.
      if (body.destroyed) {
        queueMicrotask(() =>
          fail(body.errored ?? new Error('The response body was released before it was read')),
        );
      }
      return {
        pause: () => body.pause(),
        resume: () => body.resume(),
        cancel: () => {
          if (done) return;
          stop();
          body.destroy();
        },
      };
    },
  };
}

async function* iterateUntilDone<T>(
  events: AsyncIterable<T>,
  done: (failure?: StreamFailure) => void,
): AsyncGenerator<T> {
  let failure: StreamFailure | undefined;
  try {
    yield* events;
  } catch (err) {
    failure = { err };
    throw err;
  } finally {
    done(failure);
  }
}

/** How a stream failed (an object, so that even `throw undefined` reads as a failure). */
export interface StreamFailure {
  err: unknown;
}

/**
 * The same events; `done` runs once when the stream ends, fails (with the error) or is abandoned (a
 * loop that stops, or cancel() in push mode). An EventFeed stays one, so a wrapper (the pool's load
 * count, an attempt's span) does not cost the stream pump its push mode.
 */
export function untilDone<T>(
  events: AsyncIterable<T>,
  done: (failure?: StreamFailure) => void,
): AsyncIterable<T> {
  if (!isEventFeed(events)) return iterateUntilDone(events, done);
  let ran = false;
  const once = (failure?: StreamFailure) => {
    if (ran) return;
    ran = true;
    done(failure);
  };
  const feed: EventFeed<T> = {
    [Symbol.asyncIterator]: () => iterateUntilDone(events, once),
    listen(listener) {
      const control = events.listen({
        events: (batch) => listener.events(batch),
        end: () => {
          once();
          listener.end();
        },
        error: (err) => {
          once({ err });
          listener.error(err);
        },
      });
      return {
        pause: () => control.pause(),
        resume: () => control.resume(),
        cancel: () => {
          control.cancel();
          once();
        },
      };
    },
  };
  return feed;
}
