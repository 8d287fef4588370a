/**
 * Writes an Anthropic event stream to one response: backpressure respected, pings during upstream
 * silence, errors after the headers sent in-band, and a client that goes away aborts the upstream call.
 *
 * Frames are coalesced: everything written in one turn of the event loop (the events made from the
 * upstream bytes that arrived together, the headers before the first of them, the end of the response
 * after the last) leaves in one write(2) when that turn's I/O callbacks are done (setImmediate), as
 * one HTTP chunk. Nothing waits for later input: it costs one syscall per upstream read instead of
 * several per event (and a whole short answer is one).
 */
import type { ServerResponse } from 'node:http';
import type { ApiError } from '../../anthropic/errors.ts';
import { formatSseEvent } from '../../anthropic/sse.ts';
import type { StreamEvent } from '../../anthropic/types.ts';
import { responseGone } from './client-abort.ts';
import { type DrainOptions, drained } from './respond.ts';

export interface SseWriterOptions {
  /** Ping after this long without an event. */
  pingIntervalMs: number;
  /** Aborted when the client disconnects before the stream finished. */
  abort: AbortController;
  /** A client that takes nothing for this long is cut (respond.ts drained). */
  stall?: DrainOptions;
}

/** The ping event, formatted once. */
export const PING_FRAME = formatSseEvent({ type: 'ping' });

/** Above this many characters waiting, the batch is written at once instead of at the end of the turn. */
const BATCH_CHARS = 16 * 1024;

export class SseWriter {
  readonly #res: ServerResponse;
  readonly #options: SseWriterOptions;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  /** Frames written since the last flush, in order. */
  #pending = '';
  /** A flush at the end of this turn is scheduled. */
  #scheduled = false;
  /** The headers are set but have not gone out yet. */
  #headersPending = false;
  readonly #flushSoon = () => {
    this.#scheduled = false;
    this.#flush();
  };

  constructor(res: ServerResponse, options: SseWriterOptions) {
    this.#res = res;
    this.#options = options;
    res.on('close', () => {
      this.#stopPings();
      // writableEnded, not writableFinished: an HTTP/2 response whose stream the client reset reads as finished.
      if (!res.writableEnded) options.abort.abort(new Error('client disconnected'));
    });
  }

  /** True once the client is gone or the stream was ended. */
  get closed(): boolean {
    return this.#ended || responseGone(this.#res) || this.#res.writableEnded;
  }

  /** False while the client is not reading fast enough: wait for drained() before writing more. */
  get writable(): boolean {
    return !this.#res.writableNeedDrain;
  }

  /** Sets the headers; they leave with the frames written in this turn (at the latest, at its end). */
  open(headers: Record<string, string> = {}): void {
    this.#res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // No `connection` header: HTTP/1.1 keeps the connection by default (Node says so itself, and says
      // `close` while draining); on HTTP/2 the header is invalid (Node warned and dropped it).
      'x-accel-buffering': 'no',
    });
    this.#res.socket?.setNoDelay(true);
    this.#headersPending = true;
    this.#schedule();
    this.#armPing();
  }

  /**
   * Queues one formatted SSE frame (`event: …\ndata: …\n\n`) for this turn's write. Answers false
   * when the client is not keeping up: the caller then waits for drained() before writing more.
   */
  write(frame: string): boolean {
    if (this.closed) return true;
    this.#pending += frame;
    if (this.#pending.length >= BATCH_CHARS) {
      // A full batch is sent now (and tells whether the client keeps up).
      this.#flush();
      return this.writable;
    }
    this.#schedule();
    return true;
  }

  /** Resolves when the client has taken what was written (or left, or was cut for not reading). */
  drained(): Promise<void> {
    if (this.closed || !this.#res.writableNeedDrain) return Promise.resolve();
    return drained(this.#res, this.#options.abort.signal, this.#options.stall);
  }

  /** Writes one event; resolves when the socket can take more (or the client left). */
  send(event: StreamEvent): Promise<void> {
    return this.sendFrame(formatSseEvent(event));
  }

  /** Writes one already formatted SSE frame; resolves when the socket can take more. */
  async sendFrame(frame: string): Promise<void> {
    if (!this.write(frame)) await this.drained();
  }

  async sendAll(events: readonly StreamEvent[]): Promise<void> {
    for (const event of events) await this.send(event);
  }

  ping(): Promise<void> {
    return this.sendFrame(PING_FRAME);
  }

  /** After the headers an error can only be reported in the stream; then the stream ends. */
  async fail(error: ApiError): Promise<void> {
    const body = error.toJSON();
    await this.send({ type: 'error', error: body.error });
    this.end();
  }

  /** Ends the response, with what is still pending in the same write. */
  end(): void {
    this.#stopPings();
    if (this.closed) return;
    this.#ended = true;
    const pending = this.#pending;
    this.#pending = '';
    this.#headersPending = false;
    if (pending === '') this.#res.end();
    else this.#res.end(pending);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flushSoon);
  }

  /** Writes the pending frames (and the headers, if not sent yet) in one write. */
  #flush(): void {
    if (this.closed) {
      this.#pending = '';
      return;
    }
    const res = this.#res;
    if (this.#pending !== '') {
      const pending = this.#pending;
      this.#pending = '';
      this.#headersPending = false;
      // Corked around the write so that the chunk (size line, data, CRLF) and any headers leave in
      // one writev now, instead of at the end of the next turn (Node's own deferral).
      res.cork();
      res.write(pending);
      res.uncork();
      this.#armPing();
    } else if (this.#headersPending) {
      this.#headersPending = false;
      res.flushHeaders();
    }
  }

  /** One timer per stream, pushed back with refresh() on every write (no timer churn per event). */
  #armPing(): void {
    if (this.#timer) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      // Under backpressure the pipe is not silent, so skip the ping rather than queue it.
      if (this.closed) return;
      if (this.#res.writableNeedDrain) this.#armPing();
      else this.write(PING_FRAME);
    }, this.#options.pingIntervalMs);
  }

  #stopPings(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
