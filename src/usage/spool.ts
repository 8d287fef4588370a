/**
 * The durable local spool between a finished request and the store.
 *
 * Each request has two lines: an `open` line just before Bedrock is called and a `done` line when the
 * answer ends. What a kill -9 of the gateway can lose, exactly (once write() returns the kernel owns the
 * bytes; no fsync on this path):
 * - the durability point is begin(): its `open` line is written synchronously before it returns, so
 *   before the upstream call leaves — Bedrock never receives a call the spool does not know about. A
 *   request cut by the kill is recovered from its `open` line as status 0. With `openLinesAt: 'send'`
 *   the point moves to beforeSend(), which the undici transport's sendHeaders hook calls before any
 *   request's first byte leaves: the calls begun in one loop turn share one write(2);
 * - `done` lines are batched: written together with the next `open` line, or at the end of the current
 *   event-loop turn (setImmediate), whichever comes first — one write(2) for many records under load.
 *   An answered request is therefore always in the spool (its `open` line was written before the call
 *   went out); a kill in the same loop turn as its answer leaves it as that `open` line (status 0)
 *   instead of its final counts.
 * A drainer moves `done` records to the store in batches, off the hot path, retrying with backoff while
 * the store is down (records wait on disk, however long the outage).
 * Files are segments: the current one is rotated (fdatasync, close) at every drain tick and deleted once
 * every record in it is in the store, so a machine crash (not a process crash) can lose at most the
 * last drain interval. Segments of a dead process (its pid gone) are adopted at start, or at the first
 * drain after it is gone (a process killed just before we started may not have been reaped yet).
 * A record the store refuses for good (UsageRejectedError: too large, invalid) must not hold up the
 * queue: it goes to a dead-letter file beside the segments (0600, one JSON line per record with the
 * reason) and the drain moves on; the others of its batch are stored.
 * Memory stays bounded however long the outage: past `maxQueued` records waiting for the store, a finished
 * record is kept on disk only (its `done` line) and read back from its segment as the queue empties.
 */

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  close,
  closeSync,
  fchmodSync,
  fdatasync,
  fdatasyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../config/private-files.ts';
import { UsageRejectedError } from '../store/types.ts';
import type { UsageRecord, UsageSink } from './types.ts';

interface Segment {
  path: string;
  fd: number | undefined;
  lines: number;
  /** Records whose line is in this file and that the store does not have yet. */
  pending: number;
}

interface Queued {
  record: UsageRecord;
  segments: Segment[];
}

type Line = { phase: 'open' | 'done'; record: UsageRecord };

/** Where the records kept on disk only start in a segment: every `done` line from there on is one. */
interface Spilled {
  segment: Segment;
  from: number;
}

export interface SpoolOptions {
  dir: string;
  sink: UsageSink;
  /** How often the drainer runs (and the current segment rotates). */
  drainIntervalMs?: number;
  /** The retry backoff doubles up to this while the store fails. */
  retryMaxMs?: number;
  batchSize?: number;
  /**
   * Records held in memory for the store at most (~1.3 KB each); past that, during an outage, they wait
   * on disk only and are read back from their segments as the store takes the others.
   */
  maxQueued?: number;
  onDrainError?: (err: unknown, depth: number) => void;
  /** A record the store refused for good was set aside in the dead-letter file. */
  onDeadLetter?: (record: UsageRecord, err: UsageRejectedError, file: string) => void;
  /**
   * `begin` (default): begin() writes its `open` line at once. `send`: the caller promises to call
   * beforeSend() synchronously before any upstream request's first byte leaves (the undici transport's
   * sendHeaders hook), so the `open` lines of every call begun since the last write go out in one
   * write(2), with the same guarantee: Bedrock never receives a call the spool does not know about.
   */
  openLinesAt?: 'begin' | 'send';
}

const FILE = /^usage-(\d+)-([0-9a-f]+)-(\d+)\.jsonl$/;
/** Records the store refused for good; not a segment (never adopted or drained). */
export const DEAD_LETTER_FILE = 'dead-letter.jsonl';
/** Spool files hold usage (who called what, when): only the gateway's user reads them. */
const FILE_MODE = PRIVATE_FILE_MODE;

/** Opens a spool file for appending with mode 0600 whatever the umask (chmod after create). */
function openPrivate(path: string): number {
  const fd = openSync(path, 'a', FILE_MODE);
  fchmodSync(fd, FILE_MODE);
  return fd;
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lines of a spool file; a torn last line (machine crash mid-write) is skipped. */
export function readSpoolFile(path: string): Line[] {
  const lines: Line[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    const line = parseLine(text);
    if (line) lines.push(line);
  }
  return lines;
}

function parseLine(text: string): Line | undefined {
  if (text === '') return undefined;
  try {
    const line = JSON.parse(text) as Line;
    if ((line.phase === 'open' || line.phase === 'done') && typeof line.record?.id === 'string') return line;
  } catch {
    // torn write
  }
  return undefined;
}

export class UsageSpool {
  readonly #dir: string;
  readonly #sink: UsageSink;
  readonly #interval: number;
  readonly #retryMax: number;
  readonly #batchSize: number;
  readonly #onError: SpoolOptions['onDrainError'];
  readonly #onDeadLetter: SpoolOptions['onDeadLetter'];
  readonly #boot = randomBytes(4).toString('hex');
  #seq = 0;
  #current: Segment | undefined;
  /** Lines of the current segment not written yet (`done` lines waiting for the batch write). */
  #unwritten = '';
  #writeScheduled: NodeJS.Immediate | undefined;
  readonly #openLinesAt: 'begin' | 'send';
  readonly #segments = new Set<Segment>();
  readonly #opens = new Map<string, Segment>();
  #queue: Queued[] = [];
  readonly #maxQueued: number;
  /**
   * Segments holding records that are on disk only (spilled past `maxQueued`, or adopted), oldest first;
   * while there are any, finished records join them, so each segment's `done` lines from `from` on are theirs.
   */
  #spilled: Spilled[] = [];
  #spilledCount = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #draining: Promise<void> | undefined;
  #closed = false;
  /**
   * Pids whose spool files were left alone because the process looked alive (another instance on this
   * home, or one killed but not yet reaped): looked at again at every drain, adopted once they are gone.
   */
  readonly #livingOwners = new Set<number>();

  constructor(options: SpoolOptions) {
    this.#dir = options.dir;
    this.#sink = options.sink;
    this.#interval = options.drainIntervalMs ?? 1000;
    this.#retryMax = options.retryMaxMs ?? 30_000;
    this.#batchSize = options.batchSize ?? 200;
    this.#maxQueued = options.maxQueued ?? 5_000;
    this.#onError = options.onDrainError;
    this.#onDeadLetter = options.onDeadLetter;
    this.#openLinesAt = options.openLinesAt ?? 'begin';
    this.#delay = this.#interval;
    makePrivateDir(this.#dir);
    this.#adoptOrphans();
    this.#schedule(0);
  }

  /** Records written here and not yet in the store. */
  depth(): number {
    return this.#queue.length + this.#inFlight + this.#spilledCount;
  }

  /** Records held in memory for the store (at most `maxQueued` plus a batch in flight). */
  inMemory(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Writes the record as it stands if the gateway died now (call just before the upstream call). */
  begin(record: UsageRecord): void {
    const segment = this.#append('open', record);
    // The durability point: on disk (with any batched `done` lines) before the upstream call leaves —
    // now, or in beforeSend() (openLinesAt: 'send'), which runs before that.
    if (this.#openLinesAt === 'begin') this.#write();
    else this.#scheduleWrite();
    segment.pending++;
    this.#opens.set(record.id, segment);
  }

  /** An upstream request is about to send its first byte: every line begun so far goes to disk now. */
  beforeSend(): void {
    this.#write();
  }

  /** Queues the final record for the store; its line is written in this loop turn's batch. */
  finish(record: UsageRecord): void {
    const segment = this.#append('done', record);
    this.#scheduleWrite();
    segment.pending++;
    const segments = [segment];
    const open = this.#opens.get(record.id);
    if (open) {
      this.#opens.delete(record.id);
      segments.push(open);
    }
    if (this.#spilled.length > 0 || this.#queue.length >= this.#maxQueued) this.#spill(segment, open);
    else this.#queue.push({ record, segments });
  }

  /**
   * Keeps the record just appended to `segment` on disk only. Its `done` line stands for it from now on
   * (as in an adoption), so its hold on the segment of its `open` line is let go once that line is written.
   */
  #spill(segment: Segment, open: Segment | undefined): void {
    if (this.#spilled.at(-1)?.segment !== segment) this.#spilled.push({ segment, from: segment.lines - 1 });
    this.#spilledCount++;
    if (!open) return;
    // The same file: it closes (and can be deleted) only after this line is written.
    if (open === segment) {
      open.pending--;
      return;
    }
    try {
      this.#write();
      open.pending--;
    } catch {
      // Not on disk yet: the open segment stays (the next start replays it) rather than risk the record.
    }
  }

  /** Reads records kept on disk only back into the queue, oldest first, as far as it has room. */
  #refill(): void {
    while (this.#spilled.length > 0 && this.#queue.length < this.#maxQueued) {
      const spilled = this.#spilled[0]!;
      const { segment } = spilled;
      if (segment === this.#current) this.#write();
      // A segment holds one drain interval (a backoff's while the store is down): read whole.
      let texts: string[];
      try {
        texts = readFileSync(segment.path, 'utf8').split('\n');
      } catch (err) {
        // Deleted under us (by hand): its records are gone, the drain must not stop on it for good.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.#spilled.shift();
        continue;
      }
      // Stops before a `done` line only: past its last one, the segment may be deleted once stored.
      for (; spilled.from < segment.lines; spilled.from++) {
        const line = parseLine(texts[spilled.from] ?? '');
        if (line?.phase !== 'done') continue;
        if (this.#queue.length >= this.#maxQueued) break;
        this.#spilledCount--;
        this.#queue.push({ record: line.record, segments: [segment] });
      }
      if (spilled.from >= segment.lines) this.#spilled.shift();
    }
    // A line that could not be read back stays with its segment on disk, for the next start.
    if (this.#spilled.length === 0) this.#spilledCount = 0;
  }

  /** Drains what is queued now (tests, shutdown); resolves when the store has it or the attempt failed. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
    await this.#draining;
  }

  /** Stops the drainer after one last attempt; what the store did not take stays on disk for next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.flush().catch(() => {});
    await this.#rotate();
  }

  /** Writes the unwritten lines at the end of this loop turn, with whatever else is added meanwhile. */
  #scheduleWrite(): void {
    this.#writeScheduled ??= setImmediate(() => {
      this.#writeScheduled = undefined;
      try {
        this.#write();
      } catch {
        // Kept for the next write (begin() or beforeSend() reports a failing disk; the drain's rotation retries).
      }
    });
  }

  /** Adds a line to the current segment's unwritten batch (one serialisation, no wrapper object). */
  #append(phase: Line['phase'], record: UsageRecord): Segment {
    if (this.#closed) throw new Error('usage spool is closed');
    let segment = this.#current;
    if (!segment) {
      const path = join(this.#dir, `usage-${process.pid}-${this.#boot}-${this.#seq++}.jsonl`);
      segment = { path, fd: openPrivate(path), lines: 0, pending: 0 };
      this.#current = segment;
      this.#segments.add(segment);
    }
    this.#unwritten += `{"phase":"${phase}","record":${JSON.stringify(record)}}\n`;
    segment.lines++;
    return segment;
  }

  /** Hands the unwritten lines to the kernel in one write (kept for a retry when it fails). */
  #write(): void {
    const fd = this.#current?.fd;
    if (this.#unwritten === '' || fd === undefined) return;
    writeSync(fd, this.#unwritten);
    this.#unwritten = '';
  }

  /**
   * Closes the current segment (new records start a new file) so drained files can be deleted whole.
   * The flush to the disk and the close run on libuv's threads: a slow disk never stalls requests.
   */
  async #rotate(): Promise<void> {
    const segment = this.#current;
    const fd = segment?.fd;
    if (!segment || fd === undefined) return;
    try {
      this.#write();
    } finally {
      this.#unwritten = '';
      clearImmediate(this.#writeScheduled);
      this.#writeScheduled = undefined;
      segment.fd = undefined;
      this.#current = undefined;
    }
    try {
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      await new Promise<void>((resolve) => close(fd, () => resolve()));
      await this.#release();
    }
  }

  /** Deletes closed segments with nothing pending. */
  async #release(): Promise<void> {
    const deletions: Promise<void>[] = [];
    for (const segment of this.#segments) {
      if (segment.pending > 0 || segment === this.#current || segment.fd !== undefined) continue;
      this.#segments.delete(segment);
      deletions.push(
        unlink(segment.path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        }),
      );
    }
    await Promise.all(deletions);
  }

  async #drain(): Promise<void> {
    if (this.#current && this.#current.lines > 0) await this.#rotate();
    for (;;) {
      // Each refill reads a segment whole: only once half the queue has gone, not after every batch.
      if (this.#queue.length <= this.#maxQueued / 2) this.#refill();
      if (this.#queue.length === 0) break;
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#inFlight = batch.length;
      const settled = new Set<Queued>();
      try {
        await this.#store(batch, settled);
      } catch (err) {
        this.#queue = [...batch.filter((item) => !settled.has(item)), ...this.#queue];
        throw err;
      } finally {
        this.#inFlight = 0;
        for (const item of settled) for (const segment of item.segments) segment.pending--;
        await this.#release();
      }
    }
  }

  /**
   * Puts records in the store. A batch refused for good is retried one record at a time, and a record
   * refused on its own is dead-lettered, so one bad record never holds up the rest. `settled` collects
   * what is done with (stored or set aside); any other error stops here and the rest is retried later.
   */
  async #store(batch: readonly Queued[], settled: Set<Queued>): Promise<void> {
    try {
      await this.#sink.recordUsage(batch.map((item) => item.record));
      for (const item of batch) settled.add(item);
    } catch (err) {
      if (!(err instanceof UsageRejectedError)) throw err;
      const [only] = batch;
      if (batch.length === 1 && only) {
        this.#deadLetter(only.record, err);
        settled.add(only);
        return;
      }
      for (const item of batch) await this.#store([item], settled);
    }
  }

  #deadLetter(record: UsageRecord, err: UsageRejectedError): void {
    const path = join(this.#dir, DEAD_LETTER_FILE);
    const fd = openPrivate(path);
    try {
      const line = { phase: 'rejected', at: new Date().toISOString(), error: err.message, record };
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#onDeadLetter?.(record, err, path);
  }

  #schedule(delay: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#tick(), delay);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      if ([...this.#livingOwners].some((pid) => !processAlive(pid))) this.#adoptOrphans();
      await this.flush();
      this.#delay = this.#interval;
    } catch (err) {
      this.#delay = Math.min(this.#retryMax, this.#delay * 2);
      this.#onError?.(err, this.depth());
    }
    this.#schedule(this.#delay);
  }

  /**
   * Takes over spool files of processes that are gone (kill -9, crash, a container restart). A request's
   * `open` and `done` lines may sit in different files (the file rotates between them): each process's
   * files are read in the order it wrote them, so an `open` line is a cut request (status 0) only when no
   * `done` line follows it, and a finished request is never stored as the `open` record of a process that
   * died (status 0, no tokens). The `done` records stay on disk and are read back as the queue has room
   * (an outage's worth of them no longer fills memory at start); only the cut ones, a few, are queued.
   */
  #adoptOrphans(): void {
    this.#livingOwners.clear();
    const orphans: Array<{ name: string; writer: string; seq: number }> = [];
    for (const name of readdirSync(this.#dir)) {
      const match = FILE.exec(name);
      if (!match) continue;
      const pid = Number(match[1]);
      if (pid === process.pid && match[2] === this.#boot) continue;
      if (pid !== process.pid && processAlive(pid)) {
        this.#livingOwners.add(pid);
        continue;
      }
      orphans.push({ name, writer: `${match[1]}-${match[2]}`, seq: Number(match[3]) });
    }
    // Each writer's files in its order (renamed in that order, so a later adopter reads them so too).
    orphans.sort((a, b) => a.writer.localeCompare(b.writer) || a.seq - b.seq);
    const cut = new Map<string, { record: UsageRecord; segment: Segment }>();
    for (const { name } of orphans) {
      // Claim by rename: when two new instances race for the same orphan, one wins.
      const path = join(this.#dir, `usage-${process.pid}-${this.#boot}-${this.#seq++}.jsonl`);
      let texts: string[];
      try {
        renameSync(join(this.#dir, name), path);
        chmodSync(path, FILE_MODE);
        texts = readFileSync(path, 'utf8').split('\n');
      } catch {
        continue;
      }
      const segment: Segment = { path, fd: undefined, lines: texts.length, pending: 0 };
      this.#segments.add(segment);
      let finished = 0;
      for (const text of texts) {
        const line = parseLine(text);
        if (line?.phase === 'open') cut.set(line.record.id, { record: line.record, segment });
        else if (line?.phase === 'done') {
          cut.delete(line.record.id);
          finished++;
        }
      }
      if (finished === 0) continue;
      segment.pending += finished;
      this.#spilledCount += finished;
      this.#spilled.push({ segment, from: 0 });
    }
    for (const { record, segment } of cut.values()) {
      segment.pending++;
      this.#queue.push({ record, segments: [segment] });
    }
    // Empty orphans; a failure here is retried by the next drain's release.
    this.#release().catch(() => {});
  }
}
