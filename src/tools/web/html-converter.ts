/**
 * HTML → Markdown off the event loop. Readability and turndown are synchronous: on the gateway's own
 * thread, one hostile page (dense or deeply nested markup) stalled every request in flight for as long
 * as it took — ~0.5 s at the 256 kB cap even after html-to-markdown.ts's guards, and a caller may ask
 * for many pages at once. Here a worker thread reads the pages, one at a time, each under a deadline and
 * the worker under a heap cap: a page past either ends that worker (the next page gets a new one) and its
 * fetch fails as `url_not_accessible`. An idle worker goes away after a while, with the ~36 MB its
 * libraries hold.
 *
 * One worker, callers in turn, smallest page first: a big page costs up to ~0.5 s warm (and its DOM
 * ~100 MB, so a second worker would double the gateway's peak memory), while a small one takes
 * milliseconds. In arrival order one key's many slow pages held up every other key's fetches (11.4 s for a
 * small page behind 16, measured); callers (API keys) now take turns, and of a caller's pages the smallest
 * goes first. A page that has waited a deadline's time goes before those that have not, whatever its size, so
 * none waits for ever; overdue pages still take turns by caller.
 */
import { Worker } from 'node:worker_threads';
import type { HtmlAnswer, HtmlJob } from './html-worker.ts';
import { htmlWorkerEntry } from './html-worker-entry.ts';
import { WebToolError } from './types.ts';

export interface HtmlConverterOptions {
  /** Longest one page may take to read once its turn comes. */
  deadlineMs?: number;
  /** The worker's old-generation heap: a page whose DOM needs more fails instead of the gateway. */
  maxHeapMb?: number;
  /** How long an idle worker is kept for the next page. */
  idleMs?: number;
  /** Added to the first page's deadline while a new worker loads its libraries (~0.2 s here). */
  startMs?: number;
  /** How long a page may wait while smaller ones go first; past it, it goes next (default: the deadline). */
  maxWaitMs?: number;
}

export interface Converted {
  title?: string;
  markdown: string;
}

interface Pending {
  job: HtmlJob;
  /** Who asked (an API key's id): the unit that takes turns. */
  caller: string;
  /** When it was queued (performance.now()). */
  queuedAt: number;
  resolve(value: Converted): void;
  reject(err: unknown): void;
  /** Undoes the abort listener once the page is settled. */
  done(): void;
}

/**
 * The heap a reader of pages up to `maxBytes` is given. The page arrives whole (two bytes a character at
 * worst) and is copied a few times before it is cut to 256 kB, all before the DOM grows: those early
 * allocations must fit, because one allocation far past the cap aborts the whole process (Node stops a
 * worker cleanly only when its heap fills by small steps, as a DOM's does).
 */
export function readerHeapMb(maxBytes: number): number {
  return Math.max(256, 64 + Math.ceil((6 * maxBytes) / 2 ** 20));
}

const notReadable = (reason: string) =>
  new WebToolError('url_not_accessible', `the page could not be read: ${reason}`);

export class HtmlConverter {
  readonly #deadlineMs: number;
  readonly #maxHeapMb: number;
  readonly #idleMs: number;
  readonly #startMs: number;
  readonly #maxWaitMs: number;
  #worker: Worker | undefined;
  #workerReady = false;
  readonly #queue: Pending[] = [];
  /** Callers with a page waiting or being read that were served before: the turn of their last page. */
  readonly #lastTurn = new Map<string, number>();
  #turns = 0;
  #current: { pending: Pending; timer: NodeJS.Timeout } | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(options: HtmlConverterOptions = {}) {
    this.#deadlineMs = options.deadlineMs ?? 10_000;
    this.#maxHeapMb = options.maxHeapMb ?? 256;
    this.#idleMs = options.idleMs ?? 60_000;
    this.#startMs = options.startMs ?? 10_000;
    this.#maxWaitMs = options.maxWaitMs ?? this.#deadlineMs;
  }

  /**
   * The page's main content as Markdown, and its title; `signal` (the client leaving) gives it up.
   * `caller` (an API key's id) takes turns with the other callers that have pages waiting.
   */
  convert(page: string, url?: string, signal?: AbortSignal, caller = ''): Promise<Converted> {
    signal?.throwIfAborted();
    return new Promise<Converted>((resolve, reject) => {
      const onAbort = () => this.#abandon(pending, signal?.reason);
      const pending: Pending = {
        job: url === undefined ? { page } : { page, url },
        caller,
        queuedAt: performance.now(),
        resolve,
        reject,
        done: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(pending);
      this.#next();
    });
  }

  /** Ends the worker and fails the pages still waiting (shutdown, tests). */
  close(): void {
    const error = new WebToolError('unavailable', 'the gateway is shutting down');
    // The queue first: settling the page being read starts the next one.
    for (const pending of this.#queue.splice(0)) {
      pending.done();
      pending.reject(error);
    }
    this.#lastTurn.clear();
    this.#settle({ ok: false, error });
    clearTimeout(this.#idle);
    this.#stopWorker();
  }

  #next(): void {
    if (this.#current) return;
    const pending = this.#take();
    if (!pending) {
      if (this.#worker) {
        this.#worker.unref();
        clearTimeout(this.#idle);
        this.#idle = setTimeout(() => this.#stopWorker(), this.#idleMs);
        this.#idle.unref();
      }
      return;
    }
    clearTimeout(this.#idle);
    let worker: Worker;
    try {
      worker = this.#workerNow();
    } catch (err) {
      // A worker that cannot even start (a broken install): this page fails, the next one tries again.
      pending.done();
      pending.reject(notReadable(`its reader did not start: ${(err as Error).message}`));
      this.#next();
      return;
    }
    // Held while a page is read: the answer must be able to arrive.
    worker.ref();
    const allowed = this.#deadlineMs + (this.#workerReady ? 0 : this.#startMs);
    const timer = setTimeout(() => {
      this.#stopWorker();
      this.#settle({
        ok: false,
        error: notReadable(`it took longer than ${this.#deadlineMs / 1000} s to read`),
      });
    }, allowed);
    this.#current = { pending, timer };
    worker.postMessage(pending.job);
  }

  /**
   * The next page to read: of the caller whose last turn is longest ago (a caller not served since its
   * pages began waiting goes first), its smallest page. Pages that waited `maxWaitMs` go before the others,
   * still by caller, a caller's oldest first: a stream of smaller pages or of new callers holds no page for
   * ever, and one caller's flood of slow pages (each overdue behind the one before) does not go in arrival
   * order ahead of every other caller's page.
   */
  #take(): Pending | undefined {
    const queue = this.#queue;
    const oldest = queue[0];
    if (oldest === undefined) return undefined;
    const now = performance.now();
    const overdue = (pending: Pending) => now - pending.queuedAt >= this.#maxWaitMs;
    const candidates = overdue(oldest) ? queue.filter(overdue) : queue;
    let next = oldest;
    let nextTurn = this.#lastTurn.get(next.caller) ?? -1;
    for (const pending of candidates) {
      const turn = this.#lastTurn.get(pending.caller) ?? -1;
      const smallerOfSame =
        candidates === queue &&
        pending.caller === next.caller &&
        pending.job.page.length < next.job.page.length;
      if (turn < nextTurn || smallerOfSame) {
        next = pending;
        nextTurn = turn;
      }
    }
    queue.splice(queue.indexOf(next), 1);
    this.#lastTurn.set(next.caller, ++this.#turns);
    return next;
  }

  /** A caller with no page waiting or being read keeps no turn: the map holds only the queue's callers. */
  #forgetIdle(caller: string): void {
    if (this.#current?.pending.caller === caller) return;
    if (!this.#queue.some((pending) => pending.caller === caller)) this.#lastTurn.delete(caller);
  }

  /** Settles the page being read (once) and starts the next. */
  #settle(outcome: { ok: true; value: Converted } | { ok: false; error: unknown }): void {
    const current = this.#current;
    if (!current) return;
    this.#current = undefined;
    this.#forgetIdle(current.pending.caller);
    clearTimeout(current.timer);
    current.pending.done();
    if (outcome.ok) current.pending.resolve(outcome.value);
    else current.pending.reject(outcome.error);
    this.#next();
  }

  /** The client left: a waiting page leaves the queue; the page being read ends its worker. */
  #abandon(pending: Pending, reason: unknown): void {
    if (this.#current?.pending === pending) {
      this.#stopWorker();
      this.#settle({ ok: false, error: reason });
      return;
    }
    const at = this.#queue.indexOf(pending);
    if (at >= 0) this.#queue.splice(at, 1);
    this.#forgetIdle(pending.caller);
    pending.done();
    pending.reject(reason);
  }

  #workerNow(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(htmlWorkerEntry(), {
      resourceLimits: { maxOldGenerationSizeMb: this.#maxHeapMb },
      // The worker prints nothing of its own; a library's console noise stays out of the gateway's log.
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    worker.on('message', (answer: HtmlAnswer) => {
      if (worker !== this.#worker) return;
      if ('ready' in answer) this.#workerReady = true;
      else if (answer.ok) {
        const { ok: _ok, ...value } = answer;
        this.#settle({ ok: true, value });
      } else this.#settle({ ok: false, error: notReadable(answer.message) });
    });
    worker.on('error', (err: NodeJS.ErrnoException) => {
      if (worker !== this.#worker) return;
      this.#worker = undefined;
      const reason =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `it needs more than ${this.#maxHeapMb} MB to read`
          : err.message;
      this.#settle({ ok: false, error: notReadable(reason) });
    });
    worker.on('exit', () => {
      if (worker !== this.#worker) return;
      this.#worker = undefined;
      this.#settle({ ok: false, error: notReadable('its reader stopped') });
    });
    this.#worker = worker;
    this.#workerReady = false;
    return worker;
  }

  #stopWorker(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
  }
}
