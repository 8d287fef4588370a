import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type UsageRecord, UsageRejectedError } from '../store/types.ts';
import { uuidv7 } from './ids.ts';
import { DEAD_LETTER_FILE, UsageSpool } from './spool.ts';

function record(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: uuidv7(),
    keyId: 'key_1',
    at: new Date().toISOString(),
    model: 'claude-sonnet-4-5',
    serviceTier: 'default',
    inputTokens: 10,
    outputTokens: 5,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    latencyMs: 12,
    status: 200,
    requestId: 'req_x',
    ...overrides,
  };
}

/** A store that can be switched off, like a DynamoDB outage. */
function flakySink() {
  const stored = new Map<string, UsageRecord>();
  let down = false;
  let failures = 0;
  return {
    stored,
    get failures() {
      return failures;
    },
    setDown(value: boolean) {
      down = value;
    },
    async recordUsage(records: readonly UsageRecord[]) {
      if (down) {
        failures++;
        throw new Error('store unreachable');
      }
      for (const r of records) stored.set(r.id, r);
    },
  };
}

/** A store that refuses, for good, any batch holding a record over its item limit (as DynamoDB does). */
function strictSink(limit = 1000) {
  const stored = new Map<string, UsageRecord>();
  let batches = 0;
  let outageAfter = Number.POSITIVE_INFINITY;
  return {
    stored,
    /** Fail with a retryable error from the n-th call on. */
    outageFrom(n: number) {
      outageAfter = n;
    },
    async recordUsage(records: readonly UsageRecord[]) {
      if (++batches >= outageAfter) throw new Error('store unreachable');
      if (records.some((r) => JSON.stringify(r).length > limit)) {
        throw new UsageRejectedError('ValidationException: Item size has exceeded the maximum allowed size');
      }
      for (const r of records) stored.set(r.id, r);
    },
  };
}

const dir = () => mkdtempSync(join(tmpdir(), 'abproxy-spool-'));
const files = (path: string) => readdirSync(path).filter((name) => name.endsWith('.jsonl'));

describe('usage spool', () => {
  it('puts every finished record in the store once, then deletes its files', async () => {
    const path = dir();
    const sink = flakySink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 60_000 });
    const records = Array.from({ length: 250 }, () => record());
    for (const r of records) {
      spool.begin({ ...r, status: 0 });
      spool.finish(r);
    }
    expect(spool.depth()).toBe(250);
    await spool.flush();
    expect(spool.depth()).toBe(0);
    expect([...sink.stored.values()]).toEqual(records);
    expect(files(path)).toEqual([]);
    await spool.close();
  });

  it('carries the attribution (session, agents, user id, trace id) from the open line to the store', async () => {
    const path = dir();
    const sink = flakySink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 60_000 });
    const attributed = record({
      sessionId: 'ccbea37d-8128-423f-9b65-886da8c576ac',
      agentId: 'aae8ee539403d09f1',
      parentAgentId: 'a0123456789abcdef',
      userId: '{"device_id":"d"}',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    spool.begin({ ...attributed, status: 0 });
    const [file] = files(path);
    expect(JSON.parse(readFileSync(join(path, file!), 'utf8').split('\n')[0]!).record).toMatchObject({
      sessionId: attributed.sessionId,
      traceId: attributed.traceId,
    });
    spool.finish(attributed);
    await spool.flush();
    expect(sink.stored.get(attributed.id)).toEqual(attributed);
    await spool.close();
  });

  it('keeps records on disk through a store outage and delivers them when it returns', async () => {
    const path = dir();
    const sink = flakySink();
    sink.setDown(true);
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 10, retryMaxMs: 40 });
    const records = Array.from({ length: 20 }, () => record());
    for (const r of records) spool.finish(r);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.failures).toBeGreaterThan(1);
    expect(sink.stored.size).toBe(0);
    expect(files(path).length).toBeGreaterThan(0);
    sink.setDown(false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(sink.stored.size).toBe(20);
    expect(files(path)).toEqual([]);
    await spool.close();
  });

  it('recovers a dead process’s spool: finished records as they were, cut requests as status 0', async () => {
    const path = dir();
    const done = record({ outputTokens: 42 });
    const cut = record({ status: 0 });
    const lines = [
      { phase: 'open', record: { ...done, status: 0, outputTokens: 0 } },
      { phase: 'open', record: cut },
      { phase: 'done', record: done },
    ];
    // pid 2^22+1 is above Linux's pid_max default: no such process. The last line is torn, as after a crash.
    writeFileSync(
      join(path, 'usage-4194305-deadbeef-0.jsonl'),
      `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"phase":"do`,
    );
    const sink = flakySink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 60_000 });
    await spool.flush();
    expect(sink.stored.get(done.id)).toEqual(done);
    expect(sink.stored.get(cut.id)).toEqual(cut);
    expect(sink.stored.size).toBe(2);
    expect(files(path)).toEqual([]);
    await spool.close();
  });

  it('recovers a request whose open and done lines are in different files as its done record, once', async () => {
    const path = dir();
    const done = record({ outputTokens: 500 });
    const other = record({ outputTokens: 7 });
    const open = { phase: 'open', record: { ...done, status: 0, outputTokens: 0 } };
    // The file rotated between the two lines; `-10` sorts (and may be read) before `-2`.
    for (const [segment, lines] of [
      [2, [open]],
      [
        10,
        [
          { phase: 'done', record: done },
          { phase: 'done', record: other },
        ],
      ],
    ] as const) {
      writeFileSync(
        join(path, `usage-4194305-deadbeef-${segment}.jsonl`),
        `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
      );
    }
    const writes: UsageRecord[] = [];
    const sink = flakySink();
    const spool = new UsageSpool({
      dir: path,
      sink: {
        recordUsage: async (records) => {
          writes.push(...records);
          await sink.recordUsage(records);
        },
      },
      drainIntervalMs: 60_000,
    });
    await spool.flush();
    expect(sink.stored.get(done.id)).toEqual(done);
    expect(writes.filter((r) => r.id === done.id)).toHaveLength(1);
    expect(sink.stored.size).toBe(2);
    expect(files(path)).toEqual([]);
    await spool.close();
  });

  it('leaves a living process’s spool alone', async () => {
    const path = dir();
    const name = `usage-${process.ppid}-cafe0000-0.jsonl`;
    writeFileSync(join(path, name), `${JSON.stringify({ phase: 'done', record: record() })}\n`);
    const sink = flakySink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 60_000 });
    await spool.flush();
    expect(sink.stored.size).toBe(0);
    expect(readFileSync(join(path, name), 'utf8')).toContain('"done"');
    await spool.close();
  });

  it('adopts the spool of a process that was still alive at start once it is gone', async () => {
    // A gateway killed just before its successor started can linger unreaped (a zombie, so its pid
    // answers); its records must not wait on disk for the restart after next.
    const path = dir();
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => owner.once('exit', resolve));
    const left = record({ outputTokens: 9 });
    writeFileSync(
      join(path, `usage-${owner.pid}-cafe0000-0.jsonl`),
      `${JSON.stringify({ phase: 'done', record: left })}\n`,
    );
    const sink = flakySink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 20 });
    try {
      await spool.flush();
      expect(sink.stored.size).toBe(0);
      owner.kill('SIGKILL');
      await exited;
      // Stored first, then its file deleted (asynchronously): wait for both.
      for (let i = 0; i < 200 && (sink.stored.size === 0 || files(path).length > 0); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sink.stored.get(left.id)).toEqual(left);
      expect(files(path)).toEqual([]);
    } finally {
      owner.kill('SIGKILL');
      await spool.close();
    }
  });

  it('keeps a segment whose request is still running until its final record is stored', async () => {
    const path = dir();
    const sink = flakySink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 60_000 });
    const long = record();
    spool.begin({ ...long, status: 0 });
    await spool.flush();
    expect(files(path)).toHaveLength(1);
    spool.finish(long);
    await spool.flush();
    expect(files(path)).toEqual([]);
    expect(sink.stored.get(long.id)?.status).toBe(200);
    await spool.close();
  });

  it('sets a record the store refuses for good aside and stores the rest of its batch', async () => {
    const path = dir();
    const sink = strictSink();
    const rejected: string[] = [];
    const spool = new UsageSpool({
      dir: path,
      sink,
      drainIntervalMs: 60_000,
      onDeadLetter: (r) => rejected.push(r.id),
    });
    const good = Array.from({ length: 20 }, () => record());
    const poisoned = record({ model: `claude-sonnet-4-5[${'a'.repeat(5000)}]` });
    for (const r of [...good.slice(0, 10), poisoned, ...good.slice(10)]) {
      spool.begin({ ...r, status: 0 });
      spool.finish(r);
    }
    await spool.flush();
    expect(spool.depth()).toBe(0);
    expect([...sink.stored.keys()].sort()).toEqual(good.map((r) => r.id).sort());
    expect(rejected).toEqual([poisoned.id]);
    const deadLetter = join(path, DEAD_LETTER_FILE);
    const lines = readFileSync(deadLetter, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ phase: 'rejected', record: { id: poisoned.id } });
    expect(lines[0].error).toContain('ValidationException');
    expect(statSync(deadLetter).mode & 0o777).toBe(0o600);
    // Only the dead-letter file is left: every segment was released.
    expect(files(path)).toEqual([DEAD_LETTER_FILE]);
    await spool.close();
  });

  it('an outage while it looks for the refused record retries the rest later, without duplicates', async () => {
    const path = dir();
    const sink = strictSink();
    const spool = new UsageSpool({ dir: path, sink, drainIntervalMs: 60_000 });
    const good = Array.from({ length: 5 }, () => record());
    const poisoned = record({ model: 'x'.repeat(5000) });
    for (const r of [poisoned, ...good]) spool.finish(r);
    // Call 1: the batch (refused); 2: the poisoned record alone (refused, set aside); 3: the first good one;
    // 4: the outage begins.
    sink.outageFrom(4);
    await expect(spool.flush()).rejects.toThrow('store unreachable');
    expect(spool.depth()).toBe(4);
    sink.outageFrom(Number.POSITIVE_INFINITY);
    await spool.flush();
    expect(sink.stored.size).toBe(5);
    expect(readFileSync(join(path, DEAD_LETTER_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
    await spool.close();
  });

  it('writes an open line before begin() returns and finished lines within the same loop turn', async () => {
    const path = dir();
    const spool = new UsageSpool({ dir: path, sink: flakySink(), drainIntervalMs: 60_000 });
    const onDisk = () => {
      const [segment] = files(path);
      return readFileSync(join(path, segment!), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { phase: string; record: UsageRecord });
    };
    const first = record();
    const second = record();
    spool.begin({ ...first, status: 0 });
    // The durability point: on disk before the upstream call could leave.
    expect(onDisk().map((l) => [l.phase, l.record.id])).toEqual([['open', first.id]]);
    spool.finish(first);
    spool.begin({ ...second, status: 0 });
    // A batched done line goes out with the next open line, in call order.
    expect(onDisk().map((l) => [l.phase, l.record.id])).toEqual([
      ['open', first.id],
      ['done', first.id],
      ['open', second.id],
    ]);
    spool.finish(second);
    await new Promise((resolve) => setImmediate(resolve));
    expect(onDisk().at(-1)).toEqual({ phase: 'done', record: second });
    await spool.close();
  });

  it('with openLinesAt send, writes the open lines of a loop turn at the next beforeSend, in one go', async () => {
    const path = dir();
    const spool = new UsageSpool({
      dir: path,
      sink: flakySink(),
      drainIntervalMs: 60_000,
      openLinesAt: 'send',
    });
    const onDisk = () =>
      readFileSync(join(path, files(path)[0]!), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { phase: string; record: UsageRecord }).record.id);
    const [a, b, c] = [record(), record(), record()];
    spool.begin({ ...a, status: 0 });
    spool.begin({ ...b, status: 0 });
    expect(onDisk()).toEqual([]);
    // The transport's hook, just before the first request's first byte leaves.
    spool.beforeSend();
    expect(onDisk()).toEqual([a.id, b.id]);
    // A call that never reaches the transport still has its line by the end of the loop turn.
    spool.begin({ ...c, status: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(onDisk()).toEqual([a.id, b.id, c.id]);
    await spool.close();
  });

  it('writes its files 0600 in a 0700 directory whatever the umask', async () => {
    const path = join(dir(), 'spool');
    const old = process.umask(0o022);
    try {
      const spool = new UsageSpool({ dir: path, sink: flakySink(), drainIntervalMs: 60_000 });
      spool.begin(record());
      expect(statSync(path).mode & 0o777).toBe(0o700);
      const [segment] = files(path);
      expect(statSync(join(path, segment!)).mode & 0o777).toBe(0o600);
      await spool.close();
    } finally {
      process.umask(old);
    }
  });
});
