/**
 * Team mode: three `abproxy serve` processes on one set of DynamoDB Local tables enforce ONE limit
 * per key, and a frozen DynamoDB (SIGSTOP) loses no usage record: the spools drain when it returns.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import type { KeyLimits } from '../../src/store/types.ts';
import { startEmulator } from '../emulator/server.ts';
import { storeKey } from '../helpers/gateway.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';
import { modelCalls, runCli, type ServeProcess, startServe } from '../usage/processes.ts';

const PREFIX = 'teamlimits';
const MASTER = 'team-master-key';
/** The outage is 60 s; the mechanism does not depend on the length (ABPROXY_TEST_OUTAGE_MS=60000). */
const OUTAGE_MS = Number(process.env.ABPROXY_TEST_OUTAGE_MS ?? 4000);

let local: DynamoLocal;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let store: DynamoStore;
let instances: ServeProcess[] = [];
let env: (n: number) => Record<string, string>;

async function makeKey(limits: KeyLimits): Promise<string> {
  return (await storeKey(store, limits)).secret;
}

beforeAll(async () => {
  local = await startDynamoLocal();
  emulator = await startEmulator({ port: 0 });
  await setupTables(local.client(), tableSchemas(PREFIX));
  store = new DynamoStore({ tablePrefix: PREFIX, region: 'us-east-1', client: local.client() });
  env = (n) => ({
    ...local.env,
    // DynamoDB Local takes any credentials; the Bedrock emulator only its own.
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    ABPROXY_HOME: mkdtempSync(join(tmpdir(), `abproxy-team${n}-`)),
    ABPROXY_MODE: 'team',
    ABPROXY_TABLE_PREFIX: PREFIX,
    MASTER_API_KEY: MASTER,
    AWS_ENDPOINT_URL_BEDROCK: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    ABPROXY_USAGE_DRAIN_MS: '100',
    ABPROXY_USAGE_RETRY_MAX_MS: '500',
  });
  instances = await Promise.all([0, 1, 2].map((n) => startServe(env(n))));
}, 60_000);

afterAll(async () => {
  local?.resume();
  for (const instance of instances) instance.proc.kill('SIGTERM');
  await Promise.all(instances.map((i) => i.exited));
  await store?.close();
  await local?.stop();
  await emulator?.close();
});

describe('limits shared by three instances', () => {
  it('a key hammered through three instances is admitted its per-minute limit in total, within 5%', async () => {
    const into = Date.now() % 60_000;
    if (into > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 50));
    const limit = 60;
    const secret = await makeKey({ requestsPerMinute: limit });
    const clients = instances.map((i) => new Anthropic({ baseURL: i.url, apiKey: secret, maxRetries: 0 }));
    let admitted = 0;
    let refused = 0;
    const worker = async (client: Anthropic) => {
      for (let i = 0; i < 12; i++) {
        try {
          await client.messages.create({
            model: 'claude-haiku-4-5',
            max_tokens: 10,
            messages: [{ role: 'user', content: 'x' }],
          });
          admitted++;
        } catch (err) {
          if (!(err instanceof Anthropic.RateLimitError)) throw err;
          expect(err.headers.get('anthropic-ratelimit-requests-limit')).toBe(String(limit));
          expect(Number(err.headers.get('retry-after'))).toBeGreaterThan(0);
          refused++;
        }
      }
    };
    // 3 instances × 4 concurrent callers × 12 requests = 144 attempts against a limit of 60.
    await Promise.all(clients.flatMap((client) => [0, 1, 2, 3].map(() => worker(client))));
    expect(admitted + refused).toBe(144);
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(Math.floor(limit * 0.95));
  }, 60_000);

  it('a cap on concurrent requests holds across instances: two streams on two instances fill a cap of 2', async () => {
    const secret = await makeKey({ concurrentRequests: 2 });
    const clients = instances.map((i) => new Anthropic({ baseURL: i.url, apiKey: secret, maxRetries: 0 }));
    const slowText = 'one two three four five six seven eight';
    emulator.enqueue(
      { model: 'haiku', text: slowText, chunkDelayMs: 150, chunkSize: 5 },
      { model: 'haiku', text: slowText, chunkDelayMs: 150, chunkSize: 5 },
    );
    const slow = (client: Anthropic) =>
      client.messages
        .stream({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'slow' }] })
        .finalMessage();
    const streams = [slow(clients[0]!), slow(clients[1]!)];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = await clients[2]!.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(third).toBeInstanceOf(Anthropic.RateLimitError);
    expect((third as Error).message).toMatch(/2 requests in flight/);
    for (const message of await Promise.all(streams))
      expect(message.content[0]).toMatchObject({ text: slowText });
    // Freed slots go back to the team within a few seconds; the third instance is then served.
    const retrying = new Anthropic({ baseURL: instances[2]!.url, apiKey: secret, maxRetries: 6 });
    const served = await retrying.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(served.type).toBe('message');
    // Calls one after another, each through the next instance, are all served under a cap of 1: a slot
    // freed while the team was full goes back at once, not after a linger.
    const single = await makeKey({ concurrentRequests: 1 });
    for (let i = 0; i < 6; i++) {
      const client = new Anthropic({ baseURL: instances[i % 3]!.url, apiKey: single, maxRetries: 0 });
      const answer = await client.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: `call ${i}` }],
      });
      expect(answer.type).toBe('message');
    }
  }, 60_000);
});

describe('usage through a DynamoDB outage', () => {
  it('records made while DynamoDB is frozen reach it after it returns; none are lost', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    emulator.reset();
    const clients = instances.map((i) => new Anthropic({ baseURL: i.url, apiKey: MASTER, maxRetries: 0 }));
    const freshKey = await makeKey({});
    local.pause();
    try {
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          clients.map((client) =>
            client.messages.create({
              model: 'claude-haiku-4-5',
              max_tokens: 10,
              messages: [{ role: 'user', content: 'during outage' }],
            }),
          ),
        );
      }
      // A key no instance has looked up yet needs the frozen store: the call is answered (529, which
      // clients retry) once the store's timeouts run out, rather than held for as long as the outage.
      const started = Date.now();
      const fresh = await fetch(`${instances[0]!.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'x-api-key': freshKey,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude-haiku-4-5',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
        }),
        signal: AbortSignal.timeout(30_000),
      });
      expect(fresh.status).toBe(529);
      expect(fresh.headers.get('retry-after')).toBeTruthy();
      expect(((await fresh.json()) as { error: { type: string } }).error.type).toBe('overloaded_error');
      expect(Date.now() - started).toBeLessThan(20_000);
      // The spools hold the records meanwhile, and /metrics says so.
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      const text = await (await fetch(`${instances[0]!.url}/metrics`)).text();
      const depth = parsePrometheus(text).find((f) => f.name === 'abproxy_usage_spool_depth');
      expect(Number(depth?.metrics[0]?.value)).toBeGreaterThan(0);
    } finally {
      local.resume();
    }
    const served = modelCalls(emulator.requests).length;
    expect(served).toBe(15);
    let stored = 0;
    for (let i = 0; i < 40 && stored < served; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      stored = (await store.listUsage({ since, keyId: 'master' })).length;
    }
    expect(stored).toBe(served);
    const out = await runCli(['usage', '--json', '--key', 'master', '--since', since], env(9));
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).total.requests).toBe(served);
  }, 90_000);
});
