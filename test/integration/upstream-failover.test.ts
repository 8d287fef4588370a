/**
 * Several upstreams behind one gateway: two emulators stand for two regions/accounts (the primary with
 * the default credential chain, the secondary with static keys), faults scripted on the primary or the
 * primary killed and restarted on its port. The Anthropic SDK is the client.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/config.ts';
import { type RunningServer, type StartServerOptions, startServer } from '../../src/server/http/server.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import {
  type RecordedRequest,
  startEmulator,
  TEST_ACCESS_KEY_ID,
  TEST_SECRET_ACCESS_KEY,
} from '../emulator/server.ts';
import {
  ask,
  type Emulator,
  emulatorUpstream,
  MASTER_KEY,
  postMessages,
  setEmulatorCredentials,
  testConfig,
} from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';

const modelCalls = (emulator: Emulator): RecordedRequest[] =>
  emulator.requests.filter((r) => r.operation.startsWith('Invoke') || r.operation.startsWith('Converse'));

interface World {
  primary: Emulator;
  secondary: Emulator;
  gateway: RunningServer;
  client: Anthropic;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function world(overrides: Partial<Settings> = {}, options: StartServerOptions = {}): Promise<World> {
  const primary = await startEmulator({ port: 0 });
  const secondary = await startEmulator({ port: 0 });
  open.push(primary, secondary);
  setEmulatorCredentials();
  const upstreams = parseUpstreams(
    [
      { name: 'primary', region: 'us-east-1', endpoint: primary.url, controlEndpoint: primary.url },
      emulatorUpstream('secondary', 'us-west-2', secondary),
    ],
    'ABPROXY_UPSTREAMS',
  );
  const gateway = await startServer(testConfig({ upstreams, ...overrides }), options);
  open.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
  return { primary, secondary, gateway, client };
}

/** One non-streamed call; resolves to the upstream that served it. */
async function servedBy(client: Anthropic): Promise<string | null> {
  const { response } = await client.messages
    .create({ model: CLAUDE, max_tokens: 50, messages: ask('hello') })
    .withResponse();
  return response.headers.get('x-abproxy-upstream');
}

async function metric(gateway: RunningServer, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: { 'x-api-key': MASTER_KEY } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('several upstreams', () => {
  it('the SDK sees no error while the primary throttles half of the calls', async () => {
    const { primary, secondary, client } = await world();
    for (let i = 0; i < 5; i++) {
      primary.enqueue(
        { error: { name: 'ThrottlingException', message: 'Too many requests' } },
        { text: 'from primary' },
      );
    }
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const params = { model: CLAUDE, max_tokens: 50, messages: ask(`call ${i}`) };
      const message =
        i % 2 === 0
          ? await client.messages.create(params)
          : await client.messages.stream(params).finalMessage();
      expect(message.content[0]).toMatchObject({ type: 'text' });
      served.push(message.content[0]!.type === 'text' ? message.content[0]!.text : '');
    }
    expect(served.filter((t) => t === 'from primary')).toHaveLength(5);
    expect(modelCalls(primary)).toHaveLength(10);
    expect(modelCalls(secondary)).toHaveLength(5);
  });

  it('names the serving upstream in x-abproxy-upstream', async () => {
    const { primary, client } = await world();
    expect(await servedBy(client)).toBe('primary');
    primary.enqueue({ error: { name: 'ServiceUnavailableException' } });
    expect(await servedBy(client)).toBe('secondary');
  });

  it('the usage record names the upstream that served and counts the failed attempts', async () => {
    const { primary, gateway, client } = await world({ usageDrainMs: 50 });
    primary.enqueue({ error: { name: 'ThrottlingException' } });
    expect(await servedBy(client)).toBe('secondary');
    let records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    for (let i = 0; i < 100 && records.length === 0; i++) {
      await sleep(50);
      records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    }
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, upstream: 'secondary', failedAttempts: 1 });
  });

  it('logs which upstream failed and why, once per upstream and fault in a burst', async () => {
    const { logger, lines } = capturedLog();
    const { primary, client } = await world({}, { logger });
    primary.enqueue(
      { error: { name: 'ThrottlingException', message: 'Too many tokens, please wait' } },
      { error: { name: 'ThrottlingException', message: 'Too many tokens, please wait' } },
    );
    expect(await servedBy(client)).toBe('secondary');
    expect(await servedBy(client)).toBe('secondary');
    const failed = lines.filter((l) => l.upstream === 'primary' && l.fault !== undefined);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 40, fault: 'throttled' });
    expect(String(failed[0]?.error)).toContain('Too many tokens, please wait');
  });

  it('x-abproxy-model and the usage record name the id the serving upstream called, in its own region', async () => {
    const primary = await startEmulator({ port: 0 });
    const eu = await startEmulator({ port: 0, region: 'eu-west-1' });
    open.push(primary, eu);
    setEmulatorCredentials();
    const upstreams = parseUpstreams(
      [
        { name: 'primary', region: 'us-east-1', endpoint: primary.url, controlEndpoint: primary.url },
        emulatorUpstream('eu', 'eu-west-1', eu),
      ],
      'ABPROXY_UPSTREAMS',
    );
    const gateway = await startServer(testConfig({ upstreams, usageDrainMs: 50 }));
    open.push(gateway);
    primary.enqueue({ error: { name: 'ThrottlingException' } });
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const { response } = await client.messages
      .create({ model: CLAUDE, max_tokens: 50, messages: ask('hello') })
      .withResponse();
    expect(response.headers.get('x-abproxy-upstream')).toBe('eu');
    const called = modelCalls(eu)[0]?.modelId;
    expect(called).toMatch(/^eu\.anthropic\./);
    expect(response.headers.get('x-abproxy-model')).toBe(called);
    let records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    for (let i = 0; i < 100 && records.length === 0; i++) {
      await sleep(50);
      records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    }
    expect(records[0]).toMatchObject({ upstream: 'eu', resolvedModel: called });
  });

  it('never retries a client fault on another upstream', async () => {
    const { primary, secondary, client } = await world();
    primary.enqueue({ error: { name: 'ValidationException', message: 'bad input' } });
    const err = await client.messages
      .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(modelCalls(primary)).toHaveLength(1);
    expect(modelCalls(secondary)).toHaveLength(0);
  });

  it('a model the primary’s account lost access to after start-up is served by the secondary', async () => {
    const { primary, secondary, client } = await world();
    expect(await servedBy(client)).toBe('primary');
    // The primary's catalogue (read by that call) still lists Sonnet; its account now has Nova only.
    primary.setFaults({ models: ['nova'] });
    expect(await servedBy(client)).toBe('secondary');
    expect(await servedBy(client)).toBe('secondary');
    expect(modelCalls(secondary)).toHaveLength(2);
    // A model no upstream serves is still the client's 404.
    secondary.setFaults({ models: ['nova'] });
    for (let i = 0; i < 4; i++) {
      const err = await client.messages
        .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    }
  });

  it.each([
    ['Claude (InvokeModel)', CLAUDE],
    ['Converse', 'qwen.qwen3-coder-480b-a35b-v1:0'],
  ])(
    '%s: a stream that fails in its first frame moves to the next upstream (nothing reached the client)',
    async (_path, model) => {
      const { primary, secondary, client } = await world();
      primary.enqueue({
        text: 'never sent',
        errorAfterEvents: { events: 0, name: 'ThrottlingException', message: 'in-stream throttle' },
      });
      secondary.enqueue({ text: 'from the secondary', chunkSize: 5 });
      const { data: stream, response } = await client.messages
        .stream({ model, max_tokens: 50, messages: ask('x') })
        .withResponse();
      expect(response.headers.get('x-abproxy-upstream')).toBe('secondary');
      const message = await stream.finalMessage();
      expect(message.content[0]).toMatchObject({ type: 'text', text: 'from the secondary' });
      expect(modelCalls(primary)).toHaveLength(1);
    },
  );

  it('a fault in the middle of a stream is not retried elsewhere', async () => {
    const { primary, secondary, client } = await world();
    primary.enqueue({
      text: 'a long answer that breaks off half way through',
      chunkSize: 4,
      errorAfterEvents: { events: 4, name: 'modelStreamErrorException', message: 'the model broke' },
    });
    const err = await client.messages
      .stream({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(modelCalls(primary)).toHaveLength(1);
    expect(modelCalls(secondary)).toHaveLength(0);
  });

  it('every upstream throttled: 429 with the soonest retry-after', async () => {
    const { primary, secondary, gateway } = await world();
    primary.enqueue({ error: { name: 'ThrottlingException', retryAfter: 30 } });
    secondary.enqueue({ error: { name: 'ThrottlingException', retryAfter: 7 } });
    const res = await postMessages(
      gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 50, messages: ask('x') }),
    );
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('every upstream refusing the gateway’s AWS keys: each call fails at once, never a 529 the client waits on', async () => {
    const primary = await startEmulator({ port: 0 });
    const secondary = await startEmulator({ port: 0 });
    open.push(primary, secondary);
    const refused = { accessKeyId: 'AKIDREVOKED', secretAccessKey: 'revoked-secret' };
    const upstreams = parseUpstreams(
      [primary, secondary].map((e, i) => ({
        name: `u${i}`,
        region: 'us-east-1',
        endpoint: e.url,
        controlEndpoint: e.url,
        credentials: refused,
      })),
      'ABPROXY_UPSTREAMS',
    );
    const gateway = await startServer(testConfig({ upstreams }));
    open.push(gateway);
    // The SDK as Claude Code configures it: it retries 5xx and 529 (honouring retry-after) unless told not to.
    let attempts = 0;
    const client = new Anthropic({
      baseURL: gateway.url,
      apiKey: MASTER_KEY,
      maxRetries: 4,
      fetch: (url, init) => {
        attempts++;
        return fetch(url, init);
      },
    });
    // Past the third call both breakers are open: the calls after it used to get a 529 "every upstream is
    // failing; retry later" with a retry-after that doubles (5 s, 10 s, … 120 s), all for a fault only the
    // operator can fix.
    for (let call = 0; call < 5; call++) {
      attempts = 0;
      const started = Date.now();
      const err = await client.messages
        .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      const apiErr = err as InstanceType<typeof Anthropic.InternalServerError>;
      expect([call, apiErr.status, apiErr.headers.get('x-should-retry')]).toEqual([call, 502, 'false']);
      expect(apiErr.message).toContain("the gateway's AWS credentials");
      expect([call, attempts]).toEqual([call, 1]);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('the primary throttled and the secondary refusing the gateway’s AWS keys: the client retries and is served', async () => {
    const primary = await startEmulator({ port: 0 });
    const secondary = await startEmulator({ port: 0 });
    open.push(primary, secondary);
    setEmulatorCredentials();
    const upstreams = parseUpstreams(
      [
        { name: 'primary', region: 'us-east-1', endpoint: primary.url, controlEndpoint: primary.url },
        {
          name: 'secondary',
          region: 'us-west-2',
          endpoint: secondary.url,
          controlEndpoint: secondary.url,
          credentials: { accessKeyId: 'AKIDREVOKED', secretAccessKey: 'revoked-secret' },
        },
      ],
      'ABPROXY_UPSTREAMS',
    );
    const gateway = await startServer(testConfig({ upstreams }));
    open.push(gateway);
    let attempts = 0;
    const client = new Anthropic({
      baseURL: gateway.url,
      apiKey: MASTER_KEY,
      maxRetries: 2,
      fetch: (url, init) => {
        attempts++;
        return fetch(url, init);
      },
    });
    primary.enqueue({ error: { name: 'ThrottlingException', retryAfter: 1 } });
    primary.enqueue({ text: 'served after the throttle' });
    // The secondary's refusal used to be the answer, with x-should-retry: false: the client gave up on a
    // call the primary serves a second later.
    const message = await client.messages.create({ model: CLAUDE, max_tokens: 50, messages: ask('x') });
    expect(message.content[0]).toMatchObject({ text: 'served after the throttle' });
    expect(attempts).toBe(2);
  });

  it('a dead primary is skipped once its breaker opens and taken back after it heals', async () => {
    const { primary, gateway, client } = await world({ upstreamCooldownMs: 1_500 });
    expect(await servedBy(client)).toBe('primary');
    const port = Number(new URL(primary.url).port);
    await primary.close();

    const calls = 8;
    for (let i = 0; i < calls; i++) expect(await servedBy(client)).toBe('secondary');
    const primaryFaults = await metric(
      gateway,
      'abproxy_upstream_attempts_total',
      'upstream="primary",outcome="network"',
    );
    expect(primaryFaults).toBeGreaterThanOrEqual(3);
    expect(primaryFaults).toBeLessThan(calls);
    expect(
      await metric(
        gateway,
        'abproxy_upstream_breaker_state',
        `upstream="primary",model="us.anthropic.claude-sonnet-4-5-20250929-v1:0"`,
      ),
    ).toBe(2);

    const healed = await startEmulator({ port });
    open.push(healed);
    let servedAgain = false;
    for (let i = 0; i < 40 && !servedAgain; i++) {
      servedAgain = (await servedBy(client)) === 'primary';
      if (!servedAgain) await sleep(250);
    }
    expect(servedAgain).toBe(true);
    expect(await servedBy(client)).toBe('primary');
  });
});

describe('role credentials', () => {
  /** The access key id a recorded SigV4 request was signed with. */
  const keyId = (r: RecordedRequest) => /Credential=([^/]+)\//.exec(String(r.headers.authorization))?.[1];

  it('are assumed through STS (AWS_ENDPOINT_URL_STS) and refreshed before they expire', async () => {
    // Issued for 304 s: the SDK's cache refreshes credentials within 300 s of expiry, so after 4 s.
    const emulator = await startEmulator({ port: 0, roleCredentialSeconds: 304 });
    open.push(emulator);
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL_STS: emulator.url,
    });
    const upstreams = parseUpstreams(
      [
        {
          name: 'assumed',
          region: 'us-east-1',
          endpoint: emulator.url,
          controlEndpoint: emulator.url,
          credentials: { roleArn: 'arn:aws:iam::123456789012:role/bedrock', externalId: 'abproxy-test' },
        },
      ],
      'ABPROXY_UPSTREAMS',
    );
    const gateway = await startServer(testConfig({ upstreams }));
    open.push(gateway);
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const assumed = () => emulator.requests.filter((r) => r.operation === 'AssumeRole');

    expect(await servedBy(client)).toBe('assumed');
    expect(await servedBy(client)).toBe('assumed');
    const [first, second] = modelCalls(emulator);
    expect(keyId(first!)).toMatch(/^ASIA/);
    expect(keyId(second!)).toBe(keyId(first!));
    const assumedBefore = assumed().length;
    expect(assumedBefore).toBeGreaterThanOrEqual(1);

    await sleep(4_200);
    expect(await servedBy(client)).toBe('assumed');
    const third = modelCalls(emulator)[2]!;
    expect(keyId(third)).toMatch(/^ASIA/);
    expect(keyId(third)).not.toBe(keyId(first!));
    expect(assumed().length).toBeGreaterThan(assumedBefore);
    delete process.env.AWS_ENDPOINT_URL_STS;
  });
});
