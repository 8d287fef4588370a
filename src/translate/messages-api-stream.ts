/**
 * Bedrock's Anthropic Messages API stream (plain SSE, the bytes as they arrive) → the client's SSE.
 * Frames go through as Bedrock sent them; only two kinds are read, for what the gateway must know:
 * - message_start: usage (input and cache counts) and `message.model`, renamed to the name the client
 *   asked for (Bedrock echoes its own id), so this one frame is re-serialized;
 * - message_delta: the final usage and stop reason; forwarded unchanged unless its stop reason is one
 *   of Bedrock's own (guardrails) or its usage is missing, which the SDKs need.
 * Content deltas are counted (not parsed) for the estimate of a cut stream, like the invoke path.
 * An `event: error` is thrown with its Anthropic type, so the one fault table (upstream/aws-errors.ts)
 * maps it like any other failure. A stream that ends before message_stop is an error.
 */
import { ApiError } from '../anthropic/errors.ts';
import { formatSse } from '../anthropic/sse.ts';
import type { Usage } from '../anthropic/types.ts';
import { createInvokeStream, type InvokeStream } from './invoke-stream.ts';
import type { FormattedEvent, StreamTranslator } from './stream-translator.ts';

type Json = Record<string, unknown>;

const DELTA_HEAD = 'event: content_block_delta\ndata: ';

/**
 * Largest SSE frame read (16 MiB, Bedrock's eventstream message limit): no Claude frame comes near it,
 * and an upstream that never ends a frame is refused here rather than buffered without end.
 */
export const MAX_SSE_FRAME_CHARS = 16 * 1024 * 1024;

/** The `event:` name and the `data:` text of one SSE frame (without its blank line). */
function parseFrame(frame: string): { type: string | undefined; data: string } {
  let type: string | undefined;
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  return { type, data: data.join('\n') };
}

/** The error an `event: error` frame reports, thrown for the fault table to map. */
export function streamError(data: string): Error {
  let error: { type?: unknown; message?: unknown } = {};
  try {
    const parsed = JSON.parse(data) as { error?: typeof error };
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) error = parsed.error;
  } catch {}
  const type = typeof error.type === 'string' ? error.type : 'api_error';
  const message = typeof error.message === 'string' && error.message !== '' ? error.message : type;
  return Object.assign(new Error(message), { anthropicType: type, $fault: 'server' });
}

export class MessagesApiStreamTranslator implements StreamTranslator<Uint8Array> {
  readonly #events: InvokeStream;
  readonly #decoder = new TextDecoder();
  /** Text after the last frame end, in the pieces it came in, and their length. */
  #pieces: string[] = [];
  #waiting = 0;
  /** The last character received (a frame end may straddle two chunks). */
  #lastChar = '';
  /** A CR that ended the last chunk (the next may start with its LF). */
  #pendingCr = '';
  #stopped = false;
  /** An `event: error` seen: thrown once the frames before it went out. */
  #failure: Error | undefined;

  constructor(options: { model: string }) {
    this.#events = createInvokeStream(options);
  }

  start(): FormattedEvent[] {
    return [];
  }

  push(chunk: Uint8Array): FormattedEvent[] {
    if (this.#failure) throw this.#failure;
    let fresh = this.#pendingCr + this.#decoder.decode(chunk, { stream: true });
    // A CR ending the chunk may be the first half of a CRLF: it waits for the next chunk.
    this.#pendingCr = fresh.endsWith('\r') ? '\r' : '';
    if (this.#pendingCr) fresh = fresh.slice(0, -1);
    if (fresh.includes('\r')) fresh = fresh.replace(/\r\n?/g, '\n');
    // Only the new text (with the last character before it) can hold a frame end not seen before; until
    // one comes, the pieces wait unjoined (joining them each time is quadratic in a frame sent in bits).
    const endsHere = fresh.includes('\n\n') || (fresh.startsWith('\n') && this.#lastChar === '\n');
    const before = this.#waiting;
    if (fresh !== '') this.#lastChar = fresh.at(-1)!;
    this.#waiting += fresh.length;
    if (!endsHere) {
      this.#pieces.push(fresh);
      this.#checkWaiting();
      return [];
    }
    const text = this.#pieces.join('') + fresh;
    const out: FormattedEvent[] = [];
    let start = 0;
    for (
      let end = text.indexOf('\n\n', Math.max(0, before - 1));
      end !== -1;
      end = text.indexOf('\n\n', start)
    ) {
      // The frames before an error in the same chunk still reach the client; the error follows.
      if (this.#failure) break;
      const event = this.#frame(text.slice(start, end + 2));
      if (event) out.push(event);
      start = end + 2;
    }
    const rest = text.slice(start);
    this.#pieces = [rest];
    this.#waiting = rest.length;
    this.#checkWaiting();
    return out;
  }

  #checkWaiting(): void {
    if (this.#waiting > MAX_SSE_FRAME_CHARS) {
      throw new ApiError(
        'api_error',
        `Bedrock sent an SSE frame longer than ${MAX_SSE_FRAME_CHARS} characters`,
      );
    }
  }

  end(): FormattedEvent[] {
    if (this.#failure) throw this.#failure;
    const rest = `${this.#pieces.join('')}${this.#pendingCr ? '\n' : ''}${this.#decoder.decode().replace(/\r\n?/g, '\n')}`;
    this.#pendingCr = '';
    this.#pieces = [];
    this.#waiting = 0;
    const out: FormattedEvent[] = [];
    if (rest.trim() !== '') {
      const event = this.#frame(`${rest.replace(/\n*$/, '')}\n\n`);
      if (event) out.push(event);
    }
    if (!this.#stopped) throw new ApiError('api_error', 'Bedrock ended the stream before message_stop');
    return out;
  }

  usage(): Usage {
    return this.#events.usage();
  }

  get usageIsEstimated(): boolean {
    return this.#events.usageIsEstimated;
  }

  #frame(frame: string): FormattedEvent | undefined {
    // Nearly every frame, in the form Bedrock (like Anthropic) writes it: no line split.
    if (frame.startsWith(DELTA_HEAD) && frame.indexOf('\n', DELTA_HEAD.length) === frame.length - 2) {
      this.#events.passedThrough(frame.slice(DELTA_HEAD.length, -2));
      return { type: 'content_block_delta', frame };
    }
    const { type: named, data } = parseFrame(frame);
    if (data === '' && named === undefined) return undefined; // a comment or keep-alive line
    // Nearly every frame: forwarded as received, its text only counted.
    if (named === 'content_block_delta') {
      this.#events.passedThrough(data);
      return { type: 'content_block_delta', frame };
    }
    if (named === 'error') {
      this.#failure = streamError(data);
      return undefined;
    }
    const type = (named ?? 'unknown') as FormattedEvent['type'];
    switch (named) {
      case 'message_start': {
        const event = this.#events.push(JSON.parse(data) as Json);
        return { type, frame: formatSse(type, event) };
      }
      case 'message_delta': {
        const event = JSON.parse(data) as Json;
        const before = (event.delta as Json | undefined)?.stop_reason;
        const hadUsage = typeof event.usage === 'object' && event.usage !== null;
        this.#events.push(event);
        const changed = !hadUsage || (event.delta as Json | undefined)?.stop_reason !== before;
        return { type, frame: changed ? formatSse(type, event) : frame };
      }
      case 'message_stop':
        this.#stopped = true;
        return { type, frame };
      default:
        return { type, frame };
    }
  }
}
