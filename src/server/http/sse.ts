/**
 * Writes an Anthropic event stream to one response: headers flushed at once, one write per event,
 * backpressure respected, pings during upstream silence, errors after the headers sent in-band, and a
 * client that goes away aborts the upstream call.
 */
import type { ServerResponse } from 'node:http';
import type { ApiError } from '../../anthropic/errors.ts';
import { formatSseEvent } from '../../anthropic/sse.ts';
import type { StreamEvent } from '../../anthropic/types.ts';

export interface SseWriterOptions {
  /** Ping after this long without an event. */
  pingIntervalMs: number;
  /** Aborted when the client disconnects before the stream finished. */
  abort: AbortController;
}

export class SseWriter {
  readonly #res: ServerResponse;
  readonly #options: SseWriterOptions;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #held = false;

  constructor(res: ServerResponse, options: SseWriterOptions) {
    this.#res = res;
    this.#options = options;
    res.on('close', () => {
      this.#stopPings();
      if (!res.writableFinished) options.abort.abort(new Error('client disconnected'));
    });
  }

  /** True once the client is gone or the stream was ended. */
  get closed(): boolean {
    return this.#ended || this.#res.destroyed || this.#res.writableEnded;
  }

  /** Sends the headers (held with the first frames when hold() was called before). */
  open(headers: Record<string, string> = {}): void {
    this.#res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.#res.flushHeaders();
    this.#res.socket?.setNoDelay(true);
    this.#armPing();
  }

  /**
   * Holds the frames written from now on (the socket is corked) so that the events made from one
   * upstream event reach the client in one write(2) and one TCP segment; release() sends them.
   */
  hold(): void {
    if (this.#held || this.closed) return;
    this.#held = true;
    this.#res.cork();
  }

  /** Sends what hold() kept back. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#res.uncork();
  }

  /** Writes one event; resolves when the socket can take more (or the client left). */
  send(event: StreamEvent): Promise<void> {
    return this.sendFrame(formatSseEvent(event));
  }

  /** Writes one already formatted SSE frame (`event: …\ndata: …\n\n`). */
  async sendFrame(frame: string): Promise<void> {
    if (this.closed) return;
    this.#armPing();
    if (this.#res.write(frame)) return;
    if (this.#held) {
      // A full buffer is sent now rather than waited on (a corked socket never drains).
      this.release();
      if (!this.#res.writableNeedDrain) return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#res.off('drain', done);
        this.#res.off('close', done);
        resolve();
      };
      this.#res.on('drain', done);
      this.#res.on('close', done);
    });
  }

  async sendAll(events: readonly StreamEvent[]): Promise<void> {
    for (const event of events) await this.send(event);
  }

  ping(): Promise<void> {
    return this.send({ type: 'ping' });
  }

  /** After the headers an error can only be reported in the stream; then the stream ends. */
  async fail(error: ApiError): Promise<void> {
    const body = error.toJSON();
    await this.send({ type: 'error', error: body.error });
    this.end();
  }

  end(): void {
    this.#stopPings();
    if (this.closed) return;
    this.#ended = true;
    this.#res.end();
    this.release();
  }

  /** One timer per stream, pushed back with refresh() on every event (no timer churn per event). */
  #armPing(): void {
    if (this.#timer) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      // Under backpressure the pipe is not silent, so skip the ping rather than queue it.
      if (this.closed) return;
      if (this.#res.writableNeedDrain) this.#armPing();
      else void this.ping();
    }, this.#options.pingIntervalMs);
  }

  #stopPings(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
