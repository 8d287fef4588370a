/**
 * The door's eventstream pass-through, frame by frame: Bedrock's answer bytes in whatever chunking they
 * arrive (from Bedrock, or a proxy in front of it) → only whole frames out, each also handed to
 * `onFrame` (the usage watcher). The framing is the upstream decoder's (EventStreamDecoder: linear in the
 * bytes, both checksums checked); a partial frame waits for its rest, so a client never receives a torn
 * frame. A body that ends inside a frame (end()), a prelude claiming an impossible length, or a frame
 * whose checksums fail throws an `UpstreamAnswerMalformed` error (the fault table's row), and the door
 * ends the stream with an exception frame instead.
 */
import { EventStreamDecoder } from '../../upstream/event-stream.ts';
import type { StreamFrame } from './usage.ts';

function malformed(message: string): Error {
  const err = new Error(message);
  err.name = 'UpstreamAnswerMalformed';
  return err;
}

export class WholeFrames {
  readonly #decoder = new EventStreamDecoder();
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
    // The frames of one push are consecutive views of the same bytes: returned as one view.
    let first: Buffer | undefined;
    let length = 0;
    try {
      this.#decoder.push(chunk, (message, frame) => {
        first ??= frame;
        length += frame.length;
        this.#onFrame({ eventType: message.headers[':event-type'], payload: message.payload });
      });
    } catch (err) {
      this.#failure = malformed(`Bedrock's event stream is corrupt: ${(err as Error).message}`.slice(0, 512));
      if (first === undefined) throw this.#failure;
    }
    return first && Buffer.from(first.buffer, first.byteOffset, length);
  }

  /** The body ended: throws when it stopped inside a frame (a cut answer). */
  end(): void {
    if (this.#failure) throw this.#failure;
    const pending = this.#decoder.pendingBytes;
    if (pending > 0) {
      throw malformed(`Bedrock's event stream ended inside a frame (${pending} bytes of it arrived)`);
    }
  }
}
