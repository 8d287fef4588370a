/**
 * A streamed answer's body taken straight from undici's dispatcher: what the event feed, the door's
 * pass-through and the Messages API stream read (FlowingBody), without the Readable that undici's
 * `request()` puts between — its buffer, its next-tick flow and its events for every chunk of every
 * stream. A chunk that arrives while the reader listens and nothing waits is handed over at once.
 *
 * Chunks that come before anyone listens (the first read often holds the headers and the first
 * events) wait in a queue, handed over on the next microtask once a reader is there. pause() pauses
 * undici's read of the socket, so a slow client holds Bedrock back; so does a queue nobody reads.
 */
import type { Dispatcher } from 'undici';
import type { FlowingBody } from './event-stream.ts';
import { readCapped } from './read-capped.ts';

/** Chunks queued unread before undici is asked to stop reading the socket. */
const QUEUE_LIMIT = 16;

export class DispatchedBody implements FlowingBody {
  readonly #controller: Dispatcher.DispatchController;
  readonly #queue: Buffer[] = [];
  #onData: ((chunk: Uint8Array) => void) | undefined;
  #onEnd: (() => void) | undefined;
  #onError: ((err: Error) => void) | undefined;
  /** undici has delivered the whole body. */
  #complete = false;
  #endDelivered = false;
  #error: Error | undefined;
  #errorDelivered = false;
  #destroyed = false;
  /** The reader asked for a pause (pause()); independent of a pause for an unread queue. */
  #paused = false;
  #socketPaused = false;
  #flushScheduled = false;
  /** An iterator waiting for the next chunk, the end or the error. */
  #wake: (() => void) | undefined;

  constructor(controller: Dispatcher.DispatchController) {
    this.#controller = controller;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get errored(): Error | null {
    return this.#error ?? null;
  }

  // ---- fed by the dispatch handler ----

  /** A chunk of the body from undici. */
  push(chunk: Buffer): void {
    if (this.#destroyed) return;
    if (this.#onData !== undefined && !this.#paused && this.#queue.length === 0) {
      this.#onData(chunk);
      return;
    }
    this.#queue.push(chunk);
    if (this.#queue.length >= QUEUE_LIMIT) this.#pauseSocket();
    this.#wakeReader();
  }

  /** undici delivered the last byte. */
  complete(): void {
    if (this.#destroyed) return;
    this.#complete = true;
    this.#deliver();
  }

  /** undici failed (the connection dropped, the call was aborted). */
  fail(err: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#error = err;
    this.#queue.length = 0;
    this.#deliver();
  }

  // ---- FlowingBody ----

  on(event: 'data', listener: (chunk: Uint8Array) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'data' | 'end' | 'error', listener: (arg: never) => void): this {
    if (event === 'data') this.#onData = listener as (chunk: Uint8Array) => void;
    else if (event === 'end') this.#onEnd = listener as () => void;
    else this.#onError = listener as (err: Error) => void;
    this.#scheduleFlush();
    return this;
  }

  removeAllListeners(event?: string): this {
    if (event === undefined || event === 'data') this.#onData = undefined;
    if (event === undefined || event === 'end') this.#onEnd = undefined;
    if (event === undefined || event === 'error') this.#onError = undefined;
    return this;
  }

  pause(): this {
    this.#paused = true;
    this.#pauseSocket();
    return this;
  }

  resume(): this {
    this.#paused = false;
    this.#scheduleFlush();
    return this;
  }

  /** Releases the body: the upstream call is aborted, nothing more is delivered. */
  destroy(err?: Error): this {
    if (this.#destroyed) return this;
    this.#destroyed = true;
    this.#error = err;
    this.#queue.length = 0;
    if (!this.#complete)
      this.#controller.abort(err ?? new Error('The response body was released before it was read'));
    if (err !== undefined) this.#deliver();
    else this.#wakeReader();
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    let finished = false;
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk !== undefined) {
          if (this.#socketPaused && !this.#paused && this.#queue.length < QUEUE_LIMIT / 2)
            this.#resumeSocket();
          yield chunk;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (this.#complete || this.#destroyed) {
          finished = true;
          return;
        }
        if (!this.#paused) this.#resumeSocket();
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      // A reader that stopped early (break, throw) releases the call.
      if (!finished) this.destroy();
    }
  }

  /** The whole body as text (a non-stream document), `max` bytes at the most (else `tooLarge()` is thrown). */
  async text(max: number, tooLarge: () => Error): Promise<string> {
    return (await readCapped(this, max, tooLarge)).toString('utf8');
  }

  // ---- delivery ----

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#deliver();
    });
  }

  /** Hands the queue, then the end or the error, to the listeners (as far as the reader lets it). */
  #deliver(): void {
    while (this.#queue.length > 0 && this.#onData !== undefined && !this.#paused) {
      this.#onData(this.#queue.shift()!);
    }
    if (this.#error !== undefined && !this.#errorDelivered && this.#onError !== undefined) {
      this.#errorDelivered = true;
      this.#onError(this.#error);
    } else if (
      this.#complete &&
      this.#queue.length === 0 &&
      !this.#endDelivered &&
      this.#onEnd !== undefined
    ) {
      this.#endDelivered = true;
      this.#onEnd();
    }
    if (!this.#paused && this.#onData !== undefined && this.#queue.length === 0) this.#resumeSocket();
    this.#wakeReader();
  }

  #wakeReader(): void {
    this.#wake?.();
  }

  #pauseSocket(): void {
    if (this.#socketPaused || this.#complete || this.#destroyed) return;
    this.#socketPaused = true;
    this.#controller.pause();
  }

  #resumeSocket(): void {
    if (!this.#socketPaused) return;
    this.#socketPaused = false;
    this.#controller.resume();
  }
}
