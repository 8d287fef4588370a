/**
 * Budget holds in team mode, on DynamoDB Local: each instance holds its own calls' worst cases (no
 * store write per request), so a burst on one instance spends within the budget, and a burst spread
 * over N instances within N times what each saw left; the store's budget counter is charged the real
 * cost once.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import { type Emulator, startBedrockEmulator, storeKey, testConfig } from '../helpers/gateway.ts';
import { until } from '../helpers/wait.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';
import { modelCalls } from '../usage/processes.ts';

const PREFIX = 'budgetholds';
const MODEL = 'claude-sonnet-4-5-20250929';
let emulator: Emulator;
let local: DynamoLocal;
let admin: DynamoStore;
let gateways: RunningServer[] = [];

beforeAll(async () => {
  [emulator, local] = await Promise.all([startBedrockEmulator(), startDynamoLocal()]);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = local.endpoint;
  await setupTables(local.client(), tableSchemas(PREFIX));
  admin = new DynamoStore({ tablePrefix: PREFIX, region: 'us-east-1', client: local.client() });
  gateways = await Promise.all(
    [0, 1].map(() => startServer(testConfig({ mode: 'team', tablePrefix: PREFIX, usageDrainMs: 100 }))),
  );
}, 90_000);
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await admin?.close();
  await local?.stop();
  await emulator?.close();
});

/** 20 parallel calls of 1000 output tokens ($0.015 each on Sonnet 4.5), spread over `instances`. */
async function burst(secret: string, instances: RunningServer[]): Promise<number> {
  emulator.reset();
  for (let i = 0; i < 20; i++) emulator.enqueue({ text: 'ok', delayMs: 300, usage: { outputTokens: 1000 } });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      new Anthropic({
        baseURL: instances[i % instances.length]!.url,
        apiKey: secret,
        maxRetries: 0,
      }).messages.create({ model: MODEL, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
    ),
  );
  for (const r of results)
    if (r.status === 'rejected') expect((r.reason as { status?: number }).status).toBe(402);
  return results.filter((r) => r.status === 'fulfilled').length;
}

async function settledSpend(keyId: string, served: number): Promise<{ records: number; counter: number }> {
  const since = '2000-01-01T00:00:00Z';
  const done = async () => (await admin.listUsage({ since, keyId })).filter((r) => r.status !== 0);
  await until(async () => (await done()).length >= served, 10_000);
  const records = (await done()).reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
  const month = new Date().toISOString().slice(0, 7);
  const counter = async () =>
    (await admin.addToCounter(`budget:${keyId}:${month}`, 0, Date.now() + 86_400_000)) / 1e6;
  await until(async () => Math.abs((await counter()) - records) < 1e-5, 10_000);
  return { records, counter: await counter() };
}

describe('budget holds in team mode', () => {
  it('a burst on one instance spends within the budget, and the store counts what it spent', async () => {
    const budgetUsd = 0.05;
    const { id, secret } = await storeKey(admin, { budgetUsd });
    const served = await burst(secret, [gateways[0]!]);
    expect(served).toBe(3);
    expect(modelCalls(emulator.requests)).toHaveLength(3);
    const spend = await settledSpend(id, served);
    expect(spend.records).toBeLessThanOrEqual(budgetUsd);
    expect(spend.counter).toBeCloseTo(spend.records, 5);
  }, 60_000);

  it('holds are per instance: a burst over two instances spends within twice the budget', async () => {
    const budgetUsd = 0.05;
    const { id, secret } = await storeKey(admin, { budgetUsd });
    const served = await burst(secret, gateways);
    expect(served).toBeGreaterThanOrEqual(3);
    expect(served).toBeLessThanOrEqual(6);
    const spend = await settledSpend(id, served);
    expect(spend.records).toBeLessThanOrEqual(2 * budgetUsd);
  }, 60_000);
});
