/**
 * Client-chosen text is bounded before it reaches a usage record (issue 11, item 3): a 420 KB model
 * name once made a DynamoDB item over its 400 KB limit and stopped team-mode usage recording.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { MAX_RECORD_TEXT } from '../../src/usage/bounds.ts';
import {
  type Emulator,
  MASTER_KEY,
  postMessages,
  startBedrockEmulator,
  startGateway,
} from '../helpers/gateway.ts';

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

const recordOf = async (requestId: string | null) => {
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00.000Z' });
    const record = records.find((r) => r.requestId === requestId);
    if (record) return record;
  }
  return undefined;
};

it('a huge model name is refused before Bedrock: no usage record to bloat', { timeout: 30_000 }, async () => {
  const model = `anthropic.${'x'.repeat(420 * 1024)}`;
  const res = await postMessages(
    gateway.url,
    JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  );
  expect(res.status).toBe(400);
  // Refused by the gateway itself: a usage record is a call that reached (or may have reached) Bedrock.
  expect(await recordOf(res.headers.get('request-id'))).toBeUndefined();
  expect(emulator.requests.filter((r) => r.operation.startsWith('Converse'))).toHaveLength(0);
});

it('the longest model id Bedrock takes, sent on: a usage record of bounded size', {
  timeout: 30_000,
}, async () => {
  // The Bedrock-format door forwards model ids up to Bedrock's 2048 characters.
  const model = `acme.${'x'.repeat(2040)}`;
  const res = await fetch(`${gateway.url}/model/${model}/converse`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
  });
  expect(res.status).toBe(400); // Bedrock's: the model identifier is invalid
  expect(emulator.requests.filter((r) => r.operation === 'Converse')).toHaveLength(1);
  const record = await recordOf(res.headers.get('x-amzn-requestid'));
  expect(record).toBeDefined();
  expect(record!.model.length).toBeLessThanOrEqual(MAX_RECORD_TEXT);
  expect((record!.resolvedModel ?? '').length).toBeLessThanOrEqual(MAX_RECORD_TEXT);
  expect(JSON.stringify(record).length).toBeLessThan(4096);
});
