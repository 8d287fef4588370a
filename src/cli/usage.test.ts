import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../store/open.ts';
import type { UsageRecord } from '../store/types.ts';
import { CliError } from './errors.ts';
import { adminConfig } from './store-options.ts';
import { collectUsage, parseTime, printUsage, summarize, usageCsv, usageFormat } from './usage.ts';

function record(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    id: Math.random().toString(36),
    keyId: 'key_a',
    at: '2026-05-10T10:00:00.000Z',
    model: 'claude-sonnet-4-5',
    serviceTier: 'default',
    inputTokens: 100,
    outputTokens: 10,
    cacheReadInputTokens: 5,
    cacheWriteInputTokens: 1,
    latencyMs: 50,
    status: 200,
    requestId: 'req_1',
    costUsd: 0.0005,
    ...overrides,
  };
}

describe('abproxy usage', () => {
  const records = [
    record({ webSearchRequests: 2, webFetchRequests: 1 }),
    record({
      keyId: 'key_b',
      webSearchRequests: 1,
      model: 'qwen.qwen3-32b',
      at: '2026-05-11T09:00:00.000Z',
      costUsd: 0.0001,
    }),
    record({
      status: 429,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      costUsd: 0,
    }),
    record({ status: 0, at: '2026-05-11T23:59:59.000Z' }),
    // A stream the client left mid-way, billed from what was forwarded.
    record({ status: 499, stream: true, interrupted: true, estimated: true, outputTokens: 75 }),
  ];
  const query = { since: '2026-05-01T00:00:00.000Z' };

  it('totals requests, errors, interrupted requests, tokens and cost', () => {
    const { total } = summarize(records, query, 'key');
    expect(total).toEqual({
      group: 'total',
      requests: 5,
      errors: 3,
      interrupted: 2,
      estimated: 1,
      input_tokens: 400,
      output_tokens: 105,
      cache_read_input_tokens: 20,
      cache_creation_input_tokens: 4,
      cost_usd: 0.0016,
      web_search_requests: 3,
      web_fetch_requests: 1,
    });
  });

  it('groups by key, model or UTC day', () => {
    expect(summarize(records, query, 'key').groups.map((g) => [g.group, g.requests])).toEqual([
      ['key_a', 4],
      ['key_b', 1],
    ]);
    expect(summarize(records, query, 'model').groups.map((g) => g.group)).toEqual([
      'claude-sonnet-4-5',
      'qwen.qwen3-32b',
    ]);
    expect(summarize(records, query, 'day').groups.map((g) => [g.group, g.requests])).toEqual([
      ['2026-05-10', 3],
      ['2026-05-11', 2],
    ]);
  });

  it('reads --since as a duration back from now or as a date', () => {
    const now = Date.parse('2026-05-10T12:00:00Z');
    expect(parseTime('--since', '7d', now)).toBe('2026-05-03T12:00:00.000Z');
    expect(parseTime('--since', '2026-05-01', now)).toBe('2026-05-01T00:00:00.000Z');
    expect(() => parseTime('--since', 'last tuesday', now)).toThrow(/duration like 7d/);
  });

  it('takes ISO dates only, and only real days', () => {
    const now = Date.parse('2026-05-10T12:00:00Z');
    expect(parseTime('--since', '2026-05-01T10:30:00+02:00', now)).toBe('2026-05-01T08:30:00.000Z');
    expect(parseTime('--until', '2024-02-29T23:59Z', now)).toBe('2024-02-29T23:59:00.000Z');
    // A forgotten unit, a bare year, a day past the month's end, a month-first date: refused, not guessed.
    for (const slip of ['7', '12345', '2026-02-30', '2026-04-31T10:00Z', '05/01/2026', 'May 1']) {
      expect(() => parseTime('--since', slip, now), slip).toThrow(CliError);
    }
  });

  it('refuses an empty --key, --session or --agent (an unset variable) instead of reporting everyone', async () => {
    for (const flag of ['key', 'session', 'agent'] as const) {
      await expect(collectUsage({ [flag]: '' }), flag).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(new RegExp(`^--${flag}: empty`)),
      });
    }
  });

  it('refuses a window whose end is not after its start', async () => {
    const now = Date.parse('2026-05-10T12:00:00Z');
    // --since defaults to 30d back: --until alone before it asks for nothing.
    await expect(collectUsage({ until: '2026-04-01' }, now)).rejects.toThrow(
      /--until .* must be after --since/,
    );
    await expect(collectUsage({ since: '1d', until: '2d' }, now)).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('usage --format', () => {
  it('takes table, json, csv; --json is --format json', () => {
    expect(usageFormat({})).toBe('table');
    expect(usageFormat({ json: true })).toBe('json');
    expect(usageFormat({ format: 'csv' })).toBe('csv');
    expect(usageFormat({ format: 'json', json: true })).toBe('json');
    expect(() => usageFormat({ format: 'xml' })).toThrow(/--format/);
    expect(() => usageFormat({ format: 'csv', json: true })).toThrow(/--json/);
  });

  it('CSV by agent: header named like the JSON, parent and session columns, cells defused', () => {
    const records = [
      record({ sessionId: '=evil,"s"' }),
      record({ sessionId: '=evil,"s"', agentId: 'a1\u001b[2J', costUsd: 0.25 }),
    ];
    const csv = usageCsv(summarize(records, { since: '2026-05-01T00:00:00.000Z' }, 'agent'));
    expect(csv.split('\r\n')).toEqual([
      'agent,parent,session,requests,errors,interrupted,estimated,input_tokens,output_tokens,cache_read_input_tokens,cache_creation_input_tokens,cost_usd,web_search_requests,web_fetch_requests',
      `(main),,"'=evil,""s""",1,0,0,0,100,10,5,1,0.0005,0,0`,
      `a1 [2J,(main),"'=evil,""s""",1,0,0,0,100,10,5,1,0.25,0,0`,
      '',
    ]);
  });

  it('CSV has the web tool counts the JSON has', () => {
    const records = [record({ webSearchRequests: 3, webFetchRequests: 2 }), record({ webSearchRequests: 1 })];
    const report = summarize(records, { since: '2026-05-01T00:00:00.000Z' }, 'key');
    const [header, row] = usageCsv(report).split('\r\n');
    const cells = Object.fromEntries(header!.split(',').map((name, i) => [name, row!.split(',')[i]]));
    expect(cells).toMatchObject({ web_search_requests: '4', web_fetch_requests: '2' });
    const fields = Object.keys(report.groups[0]!).filter((name) => name !== 'group');
    expect(header!.split(',').slice(1)).toEqual(fields);
  });

  it('by request: each request says which door it came through (table, JSON, CSV)', async () => {
    const records = [
      record({ requestId: 'req_messages', at: '2026-05-10T10:00:00.000Z' }),
      record({
        requestId: 'req_door',
        at: '2026-05-10T10:00:01.000Z',
        door: 'bedrock',
        model: 'qwen.qwen3-32b',
      }),
    ];
    const report = summarize(records, { since: '2026-05-01T00:00:00.000Z' }, 'request');
    expect(report.groups.map((g) => [g.group, g.door])).toEqual([
      ['req_messages', 'anthropic'],
      ['req_door', 'bedrock'],
    ]);
    const csv = usageCsv(report).split('\r\n');
    expect(csv[0]).toMatch(/^request,at,key,model,door,status,/);
    expect(csv[2]).toMatch(/^req_door,[^,]+,key_a,qwen\.qwen3-32b,bedrock,200,/);
    let text = '';
    const out = { write: (chunk: string) => (text += chunk), isTTY: false } as unknown as NodeJS.WriteStream;
    await printUsage(report, { plain: true }, out);
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^REQUEST\s+AT\s+DOOR\s+STATUS\s/);
    expect(lines[2]).toMatch(/^req_messages\s+\S+\s+anthropic\s+200\s/);
    expect(lines[3]).toMatch(/^req_door\s+\S+\s+bedrock\s+200\s/);
  });
  it('the table shows web searches and fetches when the period had any, and no such columns otherwise', async () => {
    const print = async (records: UsageRecord[]) => {
      let text = '';
      const out = {
        write: (chunk: string) => (text += chunk),
        isTTY: false,
      } as unknown as NodeJS.WriteStream;
      await printUsage(
        summarize(records, { since: '2026-05-01T00:00:00.000Z' }, 'key'),
        { plain: true },
        out,
      );
      return text.split('\n');
    };
    const web = await print([record({ webSearchRequests: 3, webFetchRequests: 2 })]);
    expect(web[1]).toMatch(/\sWEB SEARCHES\s+WEB FETCHES\s+COST USD$/);
    expect(web[2]).toMatch(/\s3\s+2\s+0\.0005$/);
    const plain = await print([record({})]);
    expect(plain[1]).not.toMatch(/WEB/);
  });

  it('--key takes a key by id, prefix or name; an unknown one is an error, not a report of nothing spent', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'abproxy-usage-key-')), 'abproxy.db');
    const store = await openStore(adminConfig({ db }));
    const at = new Date().toISOString();
    const key = (id: string, name: string) => ({
      id,
      name,
      hash: `hash-${id}`,
      prefix: `abp_${id.slice(4, 8)}…`,
      limits: {},
      createdAt: at,
    });
    await store.createKey(key('key_dave0001', 'dave'));
    await store.createKey(key('key_erin0001', 'erin'));
    await store.recordUsage([record({ keyId: 'key_dave0001', at }), record({ keyId: 'key_erin0001', at })]);
    await store.close();
    const spentBy = async (ref: string) =>
      (await collectUsage({ db, key: ref })).groups.map((group) => group.group);
    expect(await spentBy('dave')).toEqual(['key_dave0001']);
    expect(await spentBy('key_erin0001')).toEqual(['key_erin0001']);
    expect(await spentBy('abp_erin')).toEqual(['key_erin0001']);
    // A deleted key's id still names its records (none here): taken as it is.
    expect(await spentBy('key_gone0001')).toEqual([]);
    expect(await spentBy('master')).toEqual([]);
    await expect(collectUsage({ db, key: 'frank' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--key: no key or signed-in user 'frank'/),
    });
  });

  it("--key master finds the master key's usage, the group the report names it by", async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'abproxy-usage-master-')), 'abproxy.db');
    const store = await openStore(adminConfig({ db }));
    await store.recordUsage([record({ keyId: 'master', at: new Date().toISOString() })]);
    await store.close();
    expect((await collectUsage({ db })).groups.map((group) => group.group)).toEqual(['master']);
    expect((await collectUsage({ db, key: 'master' })).groups.map((group) => group.group)).toEqual([
      'master',
    ]);
  });
});
