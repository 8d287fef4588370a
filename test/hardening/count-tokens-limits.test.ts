/**
 * count_tokens gets the same key checks as Messages (issue 11, item 12): a key over its budget or
 * revoked is refused there too, and counting has its own per-key rate (the key's requests per minute).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import type { KeyLimits } from '../../src/store/types.ts';
import { type Emulator, startBedrockEmulator, storeKey, testConfig } from '../helpers/gateway.ts';

let emulator: Emulator;
let gateway: RunningServer;
const MODEL = 'claude-sonnet-4-5-20250929';
const messages = [{ role: 'user' as const, content: 'count these words' }];

async function makeKey(limits: KeyLimits): Promise<{ id: string; client: Anthropic }> {
  const { id, secret } = await storeKey(gateway.store, limits);
  return { id, client: new Anthropic({ baseURL: gateway.url, apiKey: secret, maxRetries: 0 }) };
}

const count = (client: Anthropic) => client.messages.countTokens({ model: MODEL, messages });
const statusOf = (p: Promise<unknown>) => p.then(() => 200).catch((e: { status?: number }) => e.status);

beforeAll(async () => {
  // Rate windows are calendar minutes: start early in one so a burst cannot straddle two.
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 50));
  emulator = await startBedrockEmulator();
  gateway = await startServer(testConfig({ usageDrainMs: 50 }));
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

it('counting has its own window at the key’s requests per minute', async () => {
  const { client } = await makeKey({ requestsPerMinute: 3 });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push(await statusOf(count(client)));
  expect(statuses).toEqual([200, 200, 200, 429, 429]);
  const refused = await count(client).catch((e: InstanceType<typeof Anthropic.APIError>) => e);
  expect((refused as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toMatch(/^\d+$/);
  // Messages keep their own window: counting did not use it up.
  await client.messages.create({ model: MODEL, max_tokens: 10, messages });
});

it('a key over its budget is refused on count_tokens too (402)', async () => {
  // Room for the call's worst case; its 1000-token prompt ($0.003) spends the budget.
  const { client } = await makeKey({ budgetUsd: 0.002 });
  emulator.enqueue({ text: 'ok', usage: { inputTokens: 1000 } });
  await client.messages.create({
    model: MODEL,
    max_tokens: 10,
    messages: [{ role: 'user', content: 'x '.repeat(50) }],
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await statusOf(count(client))).toBe(402);
});

it('a revoked key is refused on count_tokens', async () => {
  const { id, client } = await makeKey({});
  expect(await statusOf(count(client))).toBe(200);
  await gateway.store.revokeKey(id, new Date().toISOString());
  expect(await statusOf(count(client))).toBe(401);
});
