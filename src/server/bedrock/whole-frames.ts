/**
 * The door's eventstream pass-through, frame by frame: Bedrock's answer bytes in whatever chunking they
 * arrive (from Bedrock, or a proxy in front of it) → only whole frames out, each also handed to
 * `onFrame` (the usage watcher). The framing is the upstream decoder's (EventStreamDecoder: linear in the
 * bytes, both checksums checked); a partial frame waits for its rest, so a client never receives a torn
 * frame. A body that ends inside a frame (end()), a prelude claiming an impossible length, or a frame
 * whose checksums fail throws an `UpstreamAnswerMalformed` error (the fault table's row), and the door
 * ends the stream with an exception frame instead. An exception frame echoing a credential is re-encoded
 * without it (scrub.ts), as the other paths' error messages are.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { EventStreamDecoder, type EventStreamMessage } from '../../upstream/event-stream.ts';
import { withoutCredentials } from '../../upstream/scrub.ts';
import type { StreamFrame } from './usage.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * An exception or error frame whose payload echoes a credential (an endpoint repeating the gateway's
 * Authorization), re-encoded without it; undefined for every other frame (events pass untouched).
 */
function scrubbedFrame(message: EventStreamMessage): Buffer | undefined {
  if (message.headers[':message-type'] === 'event') return undefined;
  const payload = message.payload.toString('utf8');
  const clean = withoutCredentials(payload);
  if (clean === payload) return undefined;
  const headers: Record<string, { type: 'string'; value: string }> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = { type: 'string', value };
  return Buffer.from(codec.encode({ headers, body: fromUtf8(clean) }));
}

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
    // The frames of one push are consecutive views of the same bytes: returned as one view, unless a
    // frame had to be rewritten (then the runs around it and the new frame are joined).
    let first: Buffer | undefined;
    let length = 0;
    let parts: Buffer[] | undefined;
    const run = () => first && Buffer.from(first.buffer, first.byteOffset, length);
    try {
      this.#decoder.push(chunk, (message, frame) => {
        const rewritten = scrubbedFrame(message);
        if (rewritten) {
          parts ??= [];
          const before = run();
          if (before) parts.push(before);
          parts.push(rewritten);
          first = undefined;
          length = 0;
        } else {
          first ??= frame;
          length += frame.length;
        }
        this.#onFrame({
          eventType: message.headers[':event-type'],
          messageType: message.headers[':message-type'],
          payload: message.payload,
        });
      });
    } catch (err) {
      this.#failure = malformed(`Bedrock's event stream is corrupt: ${(err as Error).message}`.slice(0, 512));
      if (first === undefined && parts === undefined) throw this.#failure;
    }
    if (parts === undefined) return run();
    const last = run();
    if (last) parts.push(last);
    return Buffer.concat(parts);
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
