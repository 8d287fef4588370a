import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../store/types.ts';
import { uuidv7 } from './ids.ts';
import { UsageSpool } from './spool.ts';

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
});
