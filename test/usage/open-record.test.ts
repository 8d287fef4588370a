/**
 * What a kill -9 leaves of a call Bedrock may be serving: its `open` record in the usage spool, written
 * before the call leaves. It bills the gateway's estimate of the prompt (marked estimated), so calls cut
 * by a crash are not recovered as free.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { startServer } from '../../src/server/http/server.ts';
import { spoolDir } from '../../src/usage/spool-dir.ts';
import type { UsageRecord } from '../../src/usage/types.ts';
import { type Emulator, postMessages, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

let emulator: Emulator;
let gateway: RunningServer;
let home: string;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  const config = testConfig();
  home = config.home;
  gateway = await startServer(config);
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

function openRecords(): UsageRecord[] {
  const dir = spoolDir({ home });
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { phase: string; record: UsageRecord })
    .filter((line) => line.phase === 'open')
    .map((line) => line.record);
}

it.each([
  ['a Converse model', 'qwen.qwen3-coder-480b-a35b-v1:0'],
  ['Claude (InvokeModel)', 'claude-sonnet-4-5'],
])('the open record of a call to %s bills its estimated prompt', async (_, model) => {
  emulator.enqueue({ text: 'slow '.repeat(20), chunkSize: 5, chunkDelayMs: 30 });
  const prompt = 'tell me about otters '.repeat(200);
  const res = await postMessages(
    gateway.url,
    JSON.stringify({ model, max_tokens: 100, stream: true, messages: [{ role: 'user', content: prompt }] }),
  );
  expect(res.status).toBe(200);
  const requestId = res.headers.get('request-id');
  const open = openRecords().find((r) => r.requestId === requestId);
  await res.text();
  expect(open).toBeDefined();
  expect(open!.status).toBe(0);
  // ~4 characters a token: the estimate is of the prompt's size, and says it is one.
  expect(open!.inputTokens).toBeGreaterThan(prompt.length / 8);
  expect(open!.inputTokens).toBeLessThan(prompt.length);
  expect(open!.estimated).toBe(true);
  expect(open!.costUsd).toBeGreaterThan(0);
});
