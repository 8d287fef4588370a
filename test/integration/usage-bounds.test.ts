/**
 * Client-chosen text is bounded before it reaches a usage record (issue 11, item 3): a 420 KB model
 * name once made a DynamoDB item over its 400 KB limit and stopped team-mode usage recording.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { MAX_RECORD_TEXT } from '../../src/usage/bounds.ts';
import { type Emulator, postMessages, startBedrockEmulator, startGateway } from '../helpers/gateway.ts';

let emulator: Emulator;
let gateway: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  ({ server: gateway } = await startGateway({ usageDrainMs: 50 }));
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

it('a huge model name leaves a usage record of bounded size', { timeout: 30_000 }, async () => {
  const model = `anthropic.${'x'.repeat(420 * 1024)}`;
  const res = await postMessages(
    gateway.url,
    JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  );
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const requestId = res.headers.get('request-id');
  let record: Awaited<ReturnType<RunningServer['store']['listUsage']>>[number] | undefined;
  for (let i = 0; i < 100 && !record; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00.000Z' });
    record = records.find((r) => r.requestId === requestId);
  }
  expect(record).toBeDefined();
  expect(record!.model.length).toBeLessThanOrEqual(MAX_RECORD_TEXT);
  expect((record!.resolvedModel ?? '').length).toBeLessThanOrEqual(MAX_RECORD_TEXT);
  expect(JSON.stringify(record).length).toBeLessThan(4096);
});
