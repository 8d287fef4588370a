/**
 * The door's eventstream pass-through, frame by frame: Bedrock's answer bytes in whatever chunking they
 * arrive (from Bedrock, or a proxy in front of it) → only whole frames out, each also handed to
 * `onFrame` (the usage watcher). A partial frame waits for its rest, so a client never receives a torn
 * frame: a body that ends inside a frame (end()), a prelude claiming an impossible length, or a frame
 * whose checksums fail throws an `UpstreamAnswerMalformed` error (the fault table's row), and the door
 * ends the stream with an exception frame instead. Linear in the bytes whatever the chunking: a frame's
 * pieces are joined once, when it is whole.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import type { StreamFrame } from './usage.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Smallest frame (prelude and message CRC, no headers, no payload). */
const MIN_FRAME_BYTES = 16;
/** Largest eventstream message Bedrock sends (the format's limit); a larger prelude is corrupt. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

function malformed(message: string): Error {
  const err = new Error(message);
  err.name = 'UpstreamAnswerMalformed';
  return err;
}

const asBuffer = (chunk: Uint8Array) =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

export class WholeFrames {
  /** Bytes after the last whole frame, in the pieces they came in (joined once a frame is whole). */
  #pieces: Buffer[] = [];
  #waiting = 0;
  /** The length of the frame being gathered, once its prelude is in. */
  #total: number | undefined;
  readonly #onFrame: (frame: StreamFrame) => void;
  /** A corrupt frame found after whole ones: thrown by the next call. */
  #failure: Error | undefined;

  constructor(onFrame: (frame: StreamFrame) => void) {
    this.#onFrame = onFrame;
  }

  /**
   * One chunk of the body in → the whole frames it completes, as one buffer (undefined: none yet).
   * Throws on a corrupt frame: at once when no whole frame comes before it in this chunk, else on the
   * next call (the frames before it are returned first).
   */
  push(chunk: Uint8Array): Buffer | undefined {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return undefined;
    this.#pieces.push(asBuffer(chunk));
    this.#waiting += chunk.length;
    let ready = 0;
    try {
      for (;;) {
        if (this.#total === undefined) {
          if (this.#waiting - ready < 4) break;
          const total = this.#join().readUInt32BE(ready);
          if (total < MIN_FRAME_BYTES || total > MAX_FRAME_BYTES) {
            throw malformed(`Bedrock's event stream is corrupt: a frame claims a length of ${total} bytes`);
          }
          this.#total = total;
        }
        if (this.#waiting - ready < this.#total) break;
        this.#decode(this.#join().subarray(ready, ready + this.#total));
        ready += this.#total;
        this.#total = undefined;
      }
    } catch (err) {
      this.#failure = err as Error;
      const bytes = this.#pieces[0]!;
      this.#pieces = [];
      this.#waiting = 0;
      if (ready === 0) throw err;
      return bytes.subarray(0, ready); // joined: a frame was whole
    }
    if (ready === 0) return undefined;
    const bytes = this.#pieces[0]!; // joined: a frame was whole
    const rest = bytes.subarray(ready);
    // A copy of the rest: a view would keep the whole chunk alive while the next frame is gathered.
    this.#pieces = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#waiting = rest.length;
    return bytes.subarray(0, ready);
  }

  /** The body ended: throws when it stopped inside a frame (a cut answer). */
  end(): void {
    if (this.#failure) throw this.#failure;
    if (this.#waiting > 0) {
      throw malformed(
        `Bedrock's event stream ended inside a frame (${this.#waiting} of ${this.#total ?? 'at least 4'} bytes arrived)`,
      );
    }
  }

  #decode(frame: Buffer): void {
    let message: ReturnType<typeof codec.decode>;
    try {
      message = codec.decode(frame);
    } catch (err) {
      throw malformed(`Bedrock's event stream is corrupt: ${(err as Error).message}`.slice(0, 512));
    }
    const eventType = message.headers[':event-type'];
    this.#onFrame({
      eventType: eventType?.type === 'string' ? eventType.value : undefined,
      payload: message.body,
    });
  }

  #join(): Buffer {
    if (this.#pieces.length !== 1) this.#pieces = [Buffer.concat(this.#pieces, this.#waiting)];
    return this.#pieces[0]!;
  }
}
