/**
 * The upstream pool against emulators that misbehave by rate or schedule (test/emulator/faults.ts):
 * a primary that throttles half of all calls, one that refuses connections and heals, accounts that
 * hold different model sets, and a strategy chosen per model. The Anthropic SDK is the client; `abproxy
 * models` is the real CLI.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelsReport } from '../../src/cli/models.ts';
import type { Settings } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import { cliEnv, runCli, tempHome } from '../cli/cli-helpers.ts';
import type { FaultPlan } from '../emulator/faults.ts';
import {
  type RecordedRequest,
  startEmulator,
  TEST_ACCESS_KEY_ID,
  TEST_SECRET_ACCESS_KEY,
} from '../emulator/server.ts';
import { ask, type Emulator, MASTER_KEY, setEmulatorCredentials, testConfig } from '../helpers/gateway.ts';
import { AdminClient } from './admin-harness.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const HAIKU = 'claude-haiku-4-5-20251001';
const NOVA = 'amazon.nova-lite-v1:0';

const modelCalls = (emulator: Emulator): RecordedRequest[] =>
  emulator.requests.filter((r) => r.operation.startsWith('Invoke') || r.operation.startsWith('Converse'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

interface World {
  emulators: Emulator[];
  gateway: RunningServer;
  client: Anthropic;
  upstreams: unknown[];
}

/** `faults[i]` for emulator i (named u0, u1, …); the first uses the default chain, the others static keys. */
async function world(faults: FaultPlan[], overrides: Partial<Settings> = {}): Promise<World> {
  const emulators: Emulator[] = [];
  for (const plan of faults) {
    const e = await startEmulator({ port: 0, faults: plan });
    open.push(e);
    emulators.push(e);
  }
  setEmulatorCredentials();
  const upstreams = emulators.map((e, i) => ({
    name: `u${i}`,
    region: 'us-east-1',
    endpoint: e.url,
    controlEndpoint: e.url,
    ...(i === 0
      ? {}
      : { credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY } }),
  }));
  const gateway = await startServer(
    testConfig({ upstreams: parseUpstreams(upstreams, 'ABPROXY_UPSTREAMS'), ...overrides }),
  );
  open.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
  return { emulators, gateway, client, upstreams };
}

async function servedBy(client: Anthropic, model = CLAUDE): Promise<string | null> {
  const { response } = await client.messages
    .create({ model, max_tokens: 50, messages: ask('hello') })
    .withResponse();
  return response.headers.get('x-abproxy-upstream');
}

/** Waits until every emulator's catalogue was read by the gateway (it warms them at start). */
async function catalogueRead(emulators: Emulator[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const done = emulators.every((e) =>
      e.requests.some((r) => r.operation === 'ListInferenceProfiles' && r.finished),
    );
    if (done) return;
    await sleep(50);
  }
  throw new Error('the gateway never read the upstream catalogues');
}

describe('faults by rate', () => {
  it('the SDK sees no error while the primary throttles 50% of calls (streams and not)', async () => {
    const { emulators, client } = await world([{ throttle: { percent: 50 } }, {}]);
    const [primary, secondary] = emulators as [Emulator, Emulator];
    const served: (string | null)[] = [];
    for (let i = 0; i < 12; i++) {
      const params = { model: CLAUDE, max_tokens: 50, messages: ask(`call ${i}`) };
      if (i % 2 === 0) {
        const { data, response } = await client.messages.create(params).withResponse();
        expect(data.content[0]).toMatchObject({ type: 'text' });
        served.push(response.headers.get('x-abproxy-upstream'));
      } else {
        const stream = client.messages.stream(params);
        const message = await stream.finalMessage();
        expect(message.stop_reason).toBe('end_turn');
        served.push((await stream.withResponse()).response.headers.get('x-abproxy-upstream'));
      }
    }
    // Every call reached the primary; its throttled half was served by the secondary.
    expect(modelCalls(primary)).toHaveLength(12);
    expect(primary.requests.filter((r) => r.status === 429)).toHaveLength(6);
    expect(modelCalls(secondary)).toHaveLength(6);
    expect(served.filter((s) => s === 'u0')).toHaveLength(6);
    expect(served.filter((s) => s === 'u1')).toHaveLength(6);
  });

  it('a primary refusing connections is skipped once its breaker opens and re-admitted when it heals', async () => {
    const { emulators, client } = await world([{}, {}], { upstreamCooldownMs: 500 });
    const [primary] = emulators as [Emulator, Emulator];
    expect(await servedBy(client)).toBe('u0');
    primary.setFaults({ refuseConnections: { forMs: 2_500 } });
    const acceptedBefore = primary.connections;
    for (let i = 0; i < 10; i++) expect(await servedBy(client)).toBe('u1');
    // The breaker (3 faults) keeps most calls off the dead primary: fewer connection attempts than calls.
    expect(primary.connections - acceptedBefore).toBeLessThan(10);
    let back = false;
    for (let i = 0; i < 60 && !back; i++) {
      back = (await servedBy(client)) === 'u0';
      if (!back) await sleep(100);
    }
    expect(back).toBe(true);
    expect(await servedBy(client)).toBe('u0');
  });

  it('upstreams skipped for a 10-minute cooldown: clients are told to come back within a minute, not in 10', async () => {
    // The Anthropic SDK sleeps for any retry-after (up to 24 days): a 600 held each retry 10 minutes.
    const cooldown = { upstreamCooldownMs: 600_000 };
    const retryAfter = async (client: Anthropic) => {
      const err = (await client.messages
        .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
        .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      return [err.status, Number(err.headers?.get('retry-after'))];
    };
    const dead = await world([{ refuseConnections: true }], cooldown);
    for (let i = 0; i < 3; i++) await retryAfter(dead.client);
    const [status, wait] = await retryAfter(dead.client);
    // The status the calls that opened the breakers got (unreachable: 502), with a bounded retry-after.
    expect(status).toBe(502);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);

    const throttled = await world([{ throttle: { retryAfter: 2 } }], cooldown);
    for (let i = 0; i < 3; i++) await retryAfter(throttled.client);
    const [throttledStatus, throttledWait] = await retryAfter(throttled.client);
    expect(throttledStatus).toBe(429);
    expect(throttledWait).toBeGreaterThanOrEqual(1);
    expect(throttledWait).toBeLessThanOrEqual(60);
  });

  it('a slow first byte on the primary moves streams to the next upstream', async () => {
    const { emulators, client } = await world([{ slowFirstByte: { ms: 3_000 } }, {}], {
      firstByteTimeoutMs: 300,
    });
    const stream = client.messages.stream({ model: CLAUDE, max_tokens: 50, messages: ask('hi') });
    expect((await stream.finalMessage()).stop_reason).toBe('end_turn');
    expect((await stream.withResponse()).response.headers.get('x-abproxy-upstream')).toBe('u1');
    expect(modelCalls(emulators[1]!)).toHaveLength(1);
  });

  it('dying mid-stream is not replayed: the client gets the error event', async () => {
    const { emulators, client } = await world([{ dieMidStream: { afterEvents: 3, how: 'disconnect' } }, {}]);
    const err = await client.messages
      .stream({ model: CLAUDE, max_tokens: 50, messages: ask('a question long enough to stream') })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(modelCalls(emulators[0]!)).toHaveLength(1);
    expect(modelCalls(emulators[1]!)).toHaveLength(0);
  });
});

describe('per-upstream catalogue', () => {
  it('routes a model only to the upstreams whose catalogue has it', async () => {
    const { emulators, client } = await world([{ models: ['claude-sonnet-4-5'] }, {}]);
    await catalogueRead(emulators);
    const [primary, secondary] = emulators as [Emulator, Emulator];
    // Sonnet: both have it, failover order → the primary.
    expect(await servedBy(client, CLAUDE)).toBe('u0');
    // Nova and Haiku exist only in the secondary's account: never sent to the primary.
    expect(await servedBy(client, NOVA)).toBe('u1');
    expect(await servedBy(client, HAIKU)).toBe('u1');
    expect(modelCalls(primary)).toHaveLength(1);
    expect(modelCalls(secondary).map((r) => r.modelId)).toEqual([
      NOVA,
      'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    ]);
  });

  it('count_tokens, /v1/models and the Bedrock-format door route a model only on the secondary there too', async () => {
    const { emulators, client, gateway } = await world([{ models: ['claude-sonnet-4-5'] }, {}]);
    await catalogueRead(emulators);
    const [primary, secondary] = emulators as [Emulator, Emulator];
    const calls = (e: Emulator, operation: string) => e.requests.filter((r) => r.operation === operation);
    // count_tokens: Haiku is only in the secondary's account; Bedrock counts it there (not an estimate).
    const { data, response } = await client.messages
      .countTokens({ model: HAIKU, messages: ask('count me') })
      .withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-abproxy-token-count')).toBe('bedrock');
    expect(response.headers.get('x-abproxy-upstream')).toBe('u1');
    expect(calls(primary, 'CountTokens')).toHaveLength(0);
    // CountTokens takes the foundation model id, on every upstream.
    expect(calls(secondary, 'CountTokens').map((r) => r.modelId)).toEqual([
      'anthropic.claude-haiku-4-5-20251001-v1:0',
    ]);
    // /v1/models lists what any upstream serves.
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining([CLAUDE, HAIKU]));
    // The Bedrock-format door: Nova exists only in the secondary's account.
    const res = await fetch(`${gateway.url}/model/${encodeURIComponent(NOVA)}/converse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hello' }] }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('x-abproxy-upstream')).toBe('u1');
    expect(((await res.json()) as { output: { message: unknown } }).output.message).toBeDefined();
    expect(modelCalls(primary)).toHaveLength(0);
    expect(modelCalls(secondary).map((r) => r.modelId)).toEqual([NOVA]);
  });

  it('`abproxy models` shows which upstream serves what', async () => {
    const a = await startEmulator({ port: 0, faults: { models: ['claude-sonnet-4-5', 'nova-lite'] } });
    const b = await startEmulator({ port: 0, faults: { models: ['claude-sonnet-4-5', 'claude-haiku-4-5'] } });
    open.push(a, b);
    const creds = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY };
    const upstreams = [
      { name: 'alpha', region: 'us-east-1', endpoint: a.url, controlEndpoint: a.url, credentials: creds },
      { name: 'beta', region: 'us-east-1', endpoint: b.url, controlEndpoint: b.url, credentials: creds },
    ];
    const env = cliEnv(tempHome(), 'http://127.0.0.1:9', { ABPROXY_UPSTREAMS: JSON.stringify(upstreams) });
    const run = await runCli(['models', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ModelsReport;
    const row = (id: string) => report.models.find((m) => m.id === id || m.baseModelId === id);
    expect(row(CLAUDE)?.upstreams).toEqual(['alpha', 'beta']);
    expect(row(HAIKU)?.upstreams).toEqual(['beta']);
    expect(row(NOVA)?.upstreams).toEqual(['alpha']);
    const plain = await runCli(['models', '--plain'], env);
    expect(plain.stdout).toMatch(/^claude-haiku-4-5-20251001\s.*\sbeta$/m);
  });
});

describe('strategy per model', () => {
  it('spreads the weighted models and keeps the others in failover order', async () => {
    const { emulators, client } = await world(
      [{ slowFirstByte: { ms: 400 } }, { slowFirstByte: { ms: 400 } }],
      {
        upstreamStrategies: { '*claude-haiku*': 'weighted' },
      },
    );
    const [first, second] = emulators as [Emulator, Emulator];
    // Four at once: weighted (least loaded first) puts two on each; failover puts all on the first.
    await Promise.all(Array.from({ length: 4 }, () => servedBy(client, HAIKU)));
    expect(modelCalls(first)).toHaveLength(2);
    expect(modelCalls(second)).toHaveLength(2);
    first.reset();
    second.reset();
    await Promise.all(Array.from({ length: 4 }, () => servedBy(client, CLAUDE)));
    expect(modelCalls(first)).toHaveLength(4);
    expect(modelCalls(second)).toHaveLength(0);
  });
});

describe('upstream health', () => {
  it('the admin API shows each upstream’s breaker and recent faults', async () => {
    const { gateway, client } = await world([{ throttle: { percent: 100 } }, {}], {
      upstreamCooldownMs: 60_000,
    });
    for (let i = 0; i < 4; i++) expect(await servedBy(client)).toBe('u1');
    const admin = new AdminClient(gateway.url);
    expect((await admin.login(MASTER_KEY)).status).toBe(200);
    const body = (await (await admin.fetch('/admin/api/upstreams')).json()) as {
      upstreams: { name: string; state: string; recentFaults: Record<string, number>; breakers: unknown[] }[];
    };
    expect(body.upstreams.map((u) => [u.name, u.state])).toEqual([
      ['u0', 'open'],
      ['u1', 'closed'],
    ]);
    // Three throttles opened the breaker; the fourth call skipped u0 without trying it.
    expect(body.upstreams[0]!.recentFaults).toEqual({ throttled: 3 });
    expect(body.upstreams[0]!.breakers).toEqual([
      expect.objectContaining({ model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', state: 'open' }),
    ]);
    const models = (await (await admin.fetch('/admin/api/models')).json()) as { upstreams: unknown[] };
    expect(models.upstreams).toHaveLength(2);
  });
});
