/**
 * The Bedrock-format door (issue 15): the official AWS SDK v3 BedrockRuntimeClient, pointed at the
 * gateway with an abproxy key as its bearer token, runs the four runtime calls against the emulator;
 * keys, globs, budgets and rate limits refuse in Bedrock's shape (the SDK raises the right exception);
 * usage records are what the emulator reported; SigV4 callers are refused without reaching Bedrock.
 */

import { tmpdir } from 'node:os';
import {
  ListFoundationModelsCommand,
  type ListFoundationModelsCommandInput,
  ListInferenceProfilesCommand,
  paginateListInferenceProfiles,
} from '@aws-sdk/client-bedrock';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ServiceQuotaExceededException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { ServiceTier } from '../../src/models/types.ts';
import { startServer } from '../../src/server/http/server.ts';
import type { KeyLimits } from '../../src/store/types.ts';
import { doorClient, doorControlClient, finishedUsage } from '../helpers/door.ts';
import { gatewayWithEmulator, MASTER_KEY, storeKey, testConfig } from '../helpers/gateway.ts';
import { ROOT, runProcess } from '../helpers/process.ts';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const USAGE = { inputTokens: 321, outputTokens: 45, cacheReadInputTokens: 100, cacheWriteInputTokens: 7 };

const running = gatewayWithEmulator({ usageDrainMs: 50 });

const sdk = (token: string, endpoint = running.gateway.url) => doorClient(token, endpoint);

async function key(limits: KeyLimits = {}, extra: { models?: string[] } = {}) {
  const made = await storeKey(running.gateway.store, limits);
  if (extra.models) {
    await running.gateway.store.updateKey(made.id, { models: extra.models, limits });
  }
  return made;
}

const usageOf = (keyId: string, count?: number) => finishedUsage(running.gateway.store, keyId, count);

const claudeBody = (text: string) =>
  JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 100,
    messages: [{ role: 'user', content: text }],
  });

describe('the AWS SDK through the door', () => {
  it('Converse: answer and usage as the emulator made them, recorded under the key', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'hello from qwen', usage: USAGE });
    const out = await sdk(secret).send(
      new ConverseCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    expect(out.output?.message?.content?.[0]?.text).toBe('hello from qwen');
    expect(out.usage).toMatchObject(USAGE);
    const call = running.emulator.requests.find((r) => r.operation === 'Converse');
    expect(call?.modelId).toBe(QWEN);
    // Re-signed with the gateway's credentials, never the caller's key.
    expect(String(call?.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 /);
    const [record] = await usageOf(id);
    expect(record).toMatchObject({
      model: QWEN,
      inputTokens: 321,
      outputTokens: 45,
      cacheReadInputTokens: 100,
      cacheWriteInputTokens: 7,
      status: 200,
      stream: false,
      door: 'bedrock',
    });
  });

  it('ConverseStream: the events arrive as Bedrock sent them, usage from the metadata event', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'streamed words here', chunkSize: 3, usage: USAGE });
    const out = await sdk(secret).send(
      new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    let text = '';
    let metadata: unknown;
    for await (const event of out.stream!) {
      if (event.contentBlockDelta?.delta?.text) text += event.contentBlockDelta.delta.text;
      if (event.metadata) metadata = event.metadata.usage;
    }
    expect(text).toBe('streamed words here');
    expect(metadata).toMatchObject(USAGE);
    const [record] = await usageOf(id);
    expect(record).toMatchObject({ inputTokens: 321, outputTokens: 45, stream: true, status: 200 });
    expect(record!.estimated).toBeUndefined();
  });

  it('InvokeModel: the Claude body goes through unchanged, usage from its answer', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'claude says hi', usage: USAGE });
    const body = claudeBody('hello');
    const out = await sdk(secret).send(
      new InvokeModelCommand({
        modelId: CLAUDE,
        body,
        contentType: 'application/json',
        accept: 'application/json',
      }),
    );
    const message = JSON.parse(new TextDecoder().decode(out.body));
    expect(message.content[0].text).toBe('claude says hi');
    const call = running.emulator.requests.find((r) => r.operation === 'InvokeModel');
    expect(call?.body).toEqual(JSON.parse(body));
    const [record] = await usageOf(id);
    expect(record).toMatchObject({
      model: CLAUDE,
      inputTokens: 321,
      outputTokens: 45,
      cacheReadInputTokens: 100,
    });
    expect(record!.userId).toBeUndefined();
  });

  it("InvokeModel: an Anthropic body's metadata.user_id is recorded, as /v1/messages records it", async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'hi', usage: USAGE });
    const body = JSON.stringify({ ...JSON.parse(claudeBody('hello')), metadata: { user_id: 'user_42' } });
    await sdk(secret).send(
      new InvokeModelCommand({ modelId: CLAUDE, body, contentType: 'application/json' }),
    );
    const [record] = await usageOf(id);
    expect(record).toMatchObject({ model: CLAUDE, userId: 'user_42', door: 'bedrock' });
  });

  it('InvokeModelWithResponseStream: chunks pass through, usage from the invocation metrics', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'a streamed claude answer', chunkSize: 4, usage: USAGE });
    const out = await sdk(secret).send(
      new InvokeModelWithResponseStreamCommand({
        modelId: CLAUDE,
        body: claudeBody('hello'),
        contentType: 'application/json',
      }),
    );
    let text = '';
    for await (const event of out.body!) {
      const chunk = JSON.parse(new TextDecoder().decode(event.chunk!.bytes));
      if (chunk.type === 'content_block_delta') text += chunk.delta.text;
    }
    expect(text).toBe('a streamed claude answer');
    const [record] = await usageOf(id);
    expect(record).toMatchObject({
      inputTokens: 321,
      outputTokens: 45,
      cacheWriteInputTokens: 7,
      stream: true,
    });
  });

  /** Converse through the SDK under a key of `keyTier` (none: the master key), the caller naming `callerTier`. */
  async function converseTier(keyTier: ServiceTier | 'master', callerTier?: string): Promise<unknown> {
    let secret = MASTER_KEY;
    if (keyTier !== 'master') {
      const made = await storeKey(running.gateway.store);
      await running.gateway.store.updateKey(made.id, { serviceTier: keyTier, limits: {} });
      secret = made.secret;
    }
    running.emulator.reset();
    running.emulator.enqueue({ text: 'a' });
    await sdk(secret).send(
      new ConverseCommand({
        modelId: QWEN,
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        ...(callerTier === undefined ? {} : { serviceTier: { type: callerTier as ServiceTier } }),
      }),
    );
    const call = running.emulator.requests.find((r) => r.operation === 'Converse');
    return (call?.body as { serviceTier?: unknown } | undefined)?.serviceTier;
  }

  const tierCases: [ServiceTier | 'master', string | undefined, unknown, string][] = [
    ['flex', undefined, { type: 'flex' }, "the key's tier when the caller names none"],
    ['flex', 'flex', { type: 'flex' }, "the caller's tier when it is the key's"],
    ['priority', 'flex', { type: 'flex' }, "the caller's tier when cheaper than the key's"],
    ['flex', 'priority', { type: 'flex' }, "the key's tier when the caller names a dearer one"],
    ['default', 'priority', undefined, 'none (Bedrock default) when the key has the default tier'],
    ['master', 'priority', { type: 'priority' }, "the caller's tier under the master key"],
  ];
  it.each(tierCases)('Converse on a %s key asking %s sends %j: %s', async (keyTier, callerTier, sent) => {
    expect(await converseTier(keyTier, callerTier)).toEqual(sent);
  });

  it('Converse with the serviceTier key twice: Bedrock gets one, the tier that was checked', async () => {
    const made = await storeKey(running.gateway.store);
    await running.gateway.store.updateKey(made.id, { serviceTier: 'priority', limits: {} });
    running.emulator.enqueue({ text: 'a' });
    // JSON.parse keeps the last key (flex, within the key's priority); a parser that took the first would
    // see reserved, a dearer tier than the key's.
    const body = `{"serviceTier":{"type":"reserved"},"messages":[{"role":"user","content":[{"text":"hi"}]}],"serviceTier":{"type":"flex"}}`;
    const res = await fetch(`${running.gateway.url}/model/${encodeURIComponent(QWEN)}/converse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${made.secret}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const call = running.emulator.requests.find((r) => r.operation === 'Converse');
    expect(call?.rawBody.match(/"serviceTier"/g)).toHaveLength(1);
    expect(call?.body).toMatchObject({ serviceTier: { type: 'flex' } });
  });

  it("Converse: a tier header beside the body's tier is not sent on (the body's was the one checked)", async () => {
    const made = await storeKey(running.gateway.store);
    await running.gateway.store.updateKey(made.id, { serviceTier: 'flex', limits: {} });
    running.emulator.enqueue({ text: 'a' });
    const res = await fetch(`${running.gateway.url}/model/${encodeURIComponent(QWEN)}/converse`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${made.secret}`,
        'content-type': 'application/json',
        'x-amzn-bedrock-service-tier': 'priority',
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const call = running.emulator.requests.find((r) => r.operation === 'Converse');
    expect(call?.headers['x-amzn-bedrock-service-tier']).toBeUndefined();
    expect(call?.body).toMatchObject({ serviceTier: { type: 'flex' } });
  });

  it('InvokeModel: a dearer X-Amzn-Bedrock-Service-Tier is dropped for the key tier, and the answer says so', async () => {
    const made = await storeKey(running.gateway.store);
    await running.gateway.store.updateKey(made.id, { serviceTier: 'flex', limits: {} });
    running.emulator.enqueue({ text: 'a' });
    const res = await fetch(`${running.gateway.url}/model/${encodeURIComponent(CLAUDE)}/invoke`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${made.secret}`,
        'content-type': 'application/json',
        'x-amzn-bedrock-service-tier': 'priority',
      },
      body: claudeBody('hi'),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // Claude on Bedrock has no flex tier: the call goes out on the default, with no tier header.
    const call = running.emulator.requests.find((r) => r.operation === 'InvokeModel');
    expect(call?.headers['x-amzn-bedrock-service-tier']).toBeUndefined();
    expect(res.headers.get('x-abproxy-service-tier')).toBe('default');
    expect(res.headers.get('x-abproxy-service-tier-fallback')).toBe('flex');
  });
});

describe('prompt-cache writes of an hour (Claude Code in Bedrock mode with ENABLE_PROMPT_CACHING_1H_BEDROCK)', () => {
  const system = 'You are a careful assistant. '.repeat(200);
  const invokeBody = JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 100,
    system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [{ role: 'user', content: 'hi' }],
  });
  const converseInput = {
    modelId: CLAUDE,
    system: [{ text: system }, { cachePoint: { type: 'default' as const, ttl: '1h' as const } }],
    messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }],
  };
  const drain = async (events: AsyncIterable<unknown> | undefined) => {
    for await (const _ of events ?? []) {
      // read to the end, where the usage is
    }
  };
  const calls: [string, (client: BedrockRuntimeClient) => Promise<unknown>][] = [
    ['InvokeModel', (c) => c.send(new InvokeModelCommand({ modelId: CLAUDE, body: invokeBody }))],
    [
      'InvokeModelWithResponseStream',
      async (c) =>
        drain(
          (await c.send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: invokeBody })))
            .body,
        ),
    ],
    ['Converse', (c) => c.send(new ConverseCommand(converseInput))],
    ['ConverseStream', async (c) => drain((await c.send(new ConverseStreamCommand(converseInput))).stream)],
  ];

  it.each(calls)(
    '%s: billed at the 1-hour write price (2× input), not the 5-minute one',
    async (_op, call) => {
      const { id, secret } = await key();
      await call(sdk(secret));
      const [record] = await usageOf(id);
      expect(record!.cacheWriteInputTokens).toBeGreaterThan(1000);
      // Sonnet 4.5: $3 input, $15 output, $6 a 1-hour write (a 5-minute one is $3.75), per million tokens.
      const expected =
        (record!.inputTokens * 3 + record!.outputTokens * 15 + record!.cacheWriteInputTokens * 6) / 1e6;
      expect(record!.costUsd).toBeCloseTo(expected, 6);
    },
  );
});

describe('a client that leaves mid-stream', () => {
  it('aborts the Bedrock call and records what was seen, marked interrupted', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'x'.repeat(400), chunkSize: 4, chunkDelayMs: 20, usage: USAGE });
    const abort = new AbortController();
    const res = await fetch(
      `${running.gateway.url}/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: claudeBody('go'),
        signal: abort.signal,
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const reader = res.body!.getReader();
    let bytes = 0;
    while (bytes < 2000) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.length;
    }
    abort.abort();
    const [record] = await usageOf(id);
    expect(record).toMatchObject({ status: 499, interrupted: true, stream: true, door: 'bedrock' });
    // message_start's input count was seen; Bedrock's final metrics never came.
    expect(record!.inputTokens).toBe(321);
    expect(record!.estimated).toBe(true);
    for (let i = 0; i < 100 && !running.emulator.requests.at(-1)?.aborted; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(running.emulator.requests.at(-1)?.aborted).toBe(true);
  });
});

/** A gateway with the SDK's ConverseStream (over HTTP/2) in flight, its answer coming slowly, ready to drain. */
async function streamingGateway(text: string) {
  const draining = await startServer(testConfig({ shutdownTimeoutMs: 20_000 }));
  running.emulator.enqueue({ text, chunkSize: 4, chunkDelayMs: 60 });
  const client = sdk(MASTER_KEY, draining.url);
  const out = await client.send(
    new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
  );
  return { draining, client, out };
}

describe('drain', () => {
  it('a door stream over HTTP/2 (the AWS SDK) finishes while the gateway drains', async () => {
    const { draining, client, out } = await streamingGateway('drain-me-now'.repeat(3));
    let text = '';
    let closing: Promise<void> | undefined;
    for await (const event of out.stream!) {
      text += event.contentBlockDelta?.delta?.text ?? '';
      closing ??= draining.close();
    }
    expect(text).toBe('drain-me-now'.repeat(3));
    await closing;
    client.destroy();
  });
});

describe('drain refusals on the door', () => {
  it('a new door call while draining gets the 503 in Bedrock shape (ServiceUnavailableException)', async () => {
    const { draining, client, out } = await streamingGateway('slow-'.repeat(40));
    const events = out.stream![Symbol.asyncIterator]();
    await events.next();
    const closing = draining.close();
    try {
      // HTTP/1.1 (curl, a plain fetch): a control-plane read and a runtime call.
      for (const [method, path] of [
        ['GET', '/foundation-models'],
        ['POST', `/model/${encodeURIComponent(QWEN)}/converse`],
      ] as const) {
        const res = await fetch(`${draining.url}${path}`, {
          method,
          headers: {
            authorization: 'Bearer test-master-key',
            'content-type': 'application/json',
            connection: 'close',
          },
          ...(method === 'POST' ? { body: JSON.stringify({ messages: [] }) } : {}),
        });
        expect(res.status, path).toBe(503);
        expect(res.headers.get('x-amzn-errortype'), path).toBe('ServiceUnavailableException');
        expect(res.headers.get('x-amzn-requestid'), path).toMatch(/^req_/);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body, path).toEqual({ message: expect.stringContaining('shutting down') });
      }
      // HTTP/2 (the AWS SDK on a fresh client): the SDK raises Bedrock's exception.
      const late = sdk(MASTER_KEY, draining.url);
      const err = await late
        .send(
          new ConverseCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'late' }] }] }),
        )
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } });
      late.destroy();
      // The Anthropic paths keep Anthropic's shape.
      const anthropic = await fetch(`${draining.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: '{}',
      });
      expect(anthropic.status).toBe(503);
      expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    } finally {
      for (let e = await events.next(); !e.done; e = await events.next()) {
        // finish the in-flight stream so the drain completes
      }
      await closing;
      client.destroy();
    }
  });
});

describe('configured only by the environment, as an AWS app would be', () => {
  it('AWS_ENDPOINT_URL_BEDROCK_RUNTIME + AWS_BEARER_TOKEN_BEDROCK: a default client converses', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ text: 'env-configured answer', usage: USAGE });
    // A child process: the gateway in this one reads the same variables for its own upstream.
    const script = `
      import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
      const out = await new BedrockRuntimeClient({}).send(new ConverseCommand({
        modelId: '${QWEN}', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      console.log(JSON.stringify(out.output.message.content[0]));`;
    const run = await runProcess(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmpdir(),
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: running.gateway.url,
        AWS_BEARER_TOKEN_BEDROCK: secret,
        AWS_REGION: 'us-east-1',
      },
      timeoutMs: 30_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual({ text: 'env-configured answer' });
    const [record] = await usageOf(id);
    expect(record).toMatchObject({ inputTokens: 321, door: 'bedrock' });
  });
});

describe('refusals in Bedrock shape', () => {
  const converse = (client: BedrockRuntimeClient, modelId = QWEN) =>
    client.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));

  const refusedBeforeBedrock: [
    string,
    () => Promise<BedrockRuntimeClient>,
    string,
    number,
    RegExp,
    string,
  ][] = [
    [
      'a revoked key',
      async () => {
        const { id, secret } = await key();
        await running.gateway.store.revokeKey(id, new Date().toISOString());
        return sdk(secret);
      },
      'UnrecognizedClientException',
      403,
      /revoked/,
      QWEN,
    ],
    [
      "a model outside the key's globs",
      async () => sdk((await key({}, { models: ['qwen.*'] })).secret),
      'AccessDeniedException',
      403,
      /may not use model/,
      CLAUDE,
    ],
    [
      'a SigV4-signed call without an abproxy key',
      async () =>
        new BedrockRuntimeClient({
          endpoint: running.gateway.url,
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
          maxAttempts: 1,
        }),
      'UnrecognizedClientException',
      403,
      /SigV4/,
      QWEN,
    ],
  ];
  it.each(refusedBeforeBedrock)(
    '%s: %s, nothing forwarded',
    async (_label, client, name, status, message, model) => {
      const err = await converse(await client(), model).catch((e) => e);
      expect(err.name).toBe(name);
      expect(err.$metadata.httpStatusCode).toBe(status);
      expect(err.message).toMatch(message);
      expect(running.emulator.requests).toHaveLength(0);
    },
  );

  it('an exhausted budget: ServiceQuotaExceededException, not retried', async () => {
    // Room for the first call's worst case (Sonnet's output cap, no maxTokens asked); it spends $1.80.
    const { secret } = await key({ budgetUsd: 1.5 });
    running.emulator.enqueue({ text: 'x', usage: { inputTokens: 100_000, outputTokens: 100_000 } });
    await converse(sdk(secret), CLAUDE.replace('us.', ''));
    let err: unknown;
    for (let i = 0; i < 100 && !err; i++) {
      err = await converse(sdk(secret)).then(
        () => undefined,
        (e) => e,
      );
      if (!err) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(err).toBeInstanceOf(ServiceQuotaExceededException);
    expect((err as Error).message).toMatch(/monthly budget/);
    expect((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
  });

  it('a rate limit: ThrottlingException 429 with retry-after', async () => {
    const { secret } = await key({ requestsPerMinute: 1 });
    running.emulator.enqueue({ text: 'ok' });
    await converse(sdk(secret));
    const err = await converse(sdk(secret)).catch((e) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.$metadata.httpStatusCode).toBe(429);
    expect(err.$response?.headers?.['retry-after']).toMatch(/^\d+$/);
  });

  it('a cap on concurrent requests: ThrottlingException 429 while a stream holds the slot, then served', async () => {
    const { secret } = await key({ concurrentRequests: 1 });
    running.emulator.enqueue(
      { text: 'one two three four', chunkDelayMs: 120, chunkSize: 4 },
      { text: 'after' },
    );
    const stream = await sdk(secret).send(
      new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'slow' }] }] }),
    );
    const err = await converse(sdk(secret)).catch((e) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.$metadata.httpStatusCode).toBe(429);
    expect(err.message).toMatch(/requests in flight/);
    expect(err.$response?.headers?.['retry-after']).toBe('1');
    let text = '';
    for await (const event of stream.stream!) text += event.contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe('one two three four');
    const after = await converse(sdk(secret));
    expect(after.output?.message?.content?.[0]?.text).toBe('after');
    expect(running.emulator.requests.filter((r) => r.operation.startsWith('Converse'))).toHaveLength(2);
  });

  it("a tokens-per-minute limit, settled with Bedrock's counts: ThrottlingException", async () => {
    const { id, secret } = await key({ tokensPerMinute: 100 });
    running.emulator.enqueue({ text: 'ok', usage: USAGE }); // 366 tokens: over the minute's 100 once settled
    await converse(sdk(secret));
    await usageOf(id);
    const err = await converse(sdk(secret)).catch((e) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.message).toMatch(/tokens per minute/);
    expect(running.emulator.requests.filter((r) => r.operation === 'Converse')).toHaveLength(1);
  });

  it('an upstream fault keeps its Bedrock name, and the usage record its status', async () => {
    const { id, secret } = await key();
    running.emulator.enqueue({ error: { name: 'ValidationException', message: 'messages: bad shape' } });
    const err = await converse(sdk(secret)).catch((e) => e);
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/bad shape/);
    const [record] = await usageOf(id);
    expect(record).toMatchObject({ status: 400, door: 'bedrock' });
  });

  it.each([
    // Anthropic's mapping would say 404 and 529: the door's client got Bedrock's 400 and 429.
    ['ValidationException', 'The provided model identifier is invalid.', 400],
    ['ModelNotReadyException', 'the model is not ready', 429],
  ])('%s: the usage record has the status the door client got', async (name, message, status) => {
    const { id, secret } = await key();
    running.emulator.enqueue({ error: { name, message } });
    const err = await converse(sdk(secret)).catch((e) => e);
    expect(err.name).toBe(name);
    expect(err.$metadata.httpStatusCode).toBe(status);
    const [record] = await usageOf(id);
    expect(record).toMatchObject({ status, door: 'bedrock' });
  });
});

describe('hostile input on the door', () => {
  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${running.gateway.url}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-master-key', 'content-type': 'application/json', ...headers },
      body,
    });

  async function expectBedrockError(res: Response, status: number, name: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('x-amzn-errortype')).toBe(name);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^req_/);
    const json = (await res.json()) as { message?: unknown };
    expect(typeof json.message).toBe('string');
  }

  it('a bad percent-encoding of the model id: ValidationException', async () => {
    await expectBedrockError(await post('/model/%E0%A4%A/converse', '{}'), 400, 'ValidationException');
  });

  it('a model id with control characters: ValidationException', async () => {
    await expectBedrockError(await post('/model/a%0Ab/converse', '{}'), 400, 'ValidationException');
  });

  it("an empty model id: Bedrock's ValidationException for modelId (400), not an unknown operation", async () => {
    for (const operation of ['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream']) {
      const res = await post(`/model//${operation}`, '{}');
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
      expect(((await res.json()) as { message: string }).message).toBe(
        "1 validation error detected: Value '' at 'modelId' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    expect(running.emulator.requests).toHaveLength(0);
  });

  it('an unknown operation: 404 in Bedrock shape', async () => {
    await expectBedrockError(await post(`/model/${QWEN}/explode`, '{}'), 404, 'ResourceNotFoundException');
  });

  it('an invalid Converse body: ValidationException, nothing forwarded', async () => {
    await expectBedrockError(await post(`/model/${QWEN}/converse`, '{not json'), 400, 'ValidationException');
    await expectBedrockError(await post(`/model/${QWEN}/converse`, '[1,2]'), 400, 'ValidationException');
    expect(running.emulator.requests).toHaveLength(0);
  });

  it('a huge body from the AWS SDK (over h2c): ValidationException 413, whatever its size', async () => {
    const small = await startServer(testConfig({ maxBodyBytes: 1024 }));
    try {
      // 30 MB: answered before the SDK had sent it, its HTTP/2 client failed its own stream with
      // ENHANCE_YOUR_CALM and never read the 413.
      for (const size of [10_000, 30_000_000]) {
        const client = sdk(MASTER_KEY, small.url);
        const err = await client
          .send(new InvokeModelCommand({ modelId: QWEN, body: JSON.stringify({ pad: 'x'.repeat(size) }) }))
          .catch((e) => e);
        client.destroy();
        expect(err.name, String(err.message)).toBe('ValidationException');
        expect(err.$metadata.httpStatusCode).toBe(413);
      }
    } finally {
      await small.close();
    }
  });

  it('a key refusal answered before a large body arrived reaches the AWS SDK as its exception (over h2c)', async () => {
    // 20 MB (within the body limit): refused on the key before the body was read, the SDK's HTTP/2
    // client failed its own stream with ENHANCE_YOUR_CALM and never read the 403 or the 429.
    const { secret } = await key({ requestsPerMinute: 1 });
    running.emulator.enqueue({ text: 'ok' });
    await sdk(secret).send(
      new ConverseCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    const body = JSON.stringify({ pad: 'x'.repeat(20_000_000) });
    for (const [token, name, status] of [
      ['abp_unknown', 'UnrecognizedClientException', 403],
      [secret, 'ThrottlingException', 429],
    ] as const) {
      const client = sdk(token);
      const err = await client.send(new InvokeModelCommand({ modelId: QWEN, body })).catch((e) => e);
      client.destroy();
      expect(err.name, String(err.message)).toBe(name);
      expect(err.$metadata.httpStatusCode).toBe(status);
    }
    expect(running.emulator.requests.filter((r) => r.operation === 'InvokeModel')).toHaveLength(0);
  });

  it('nested deeper than the gateway walks, with or without a tier: ValidationException, never a 500', async () => {
    const deep = (tier: boolean) =>
      `{"messages":[{"role":"user","content":[{"text":"hi"}]}],${tier ? '"serviceTier":{"type":"flex"},' : ''}"additionalModelRequestFields":{"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
    await expectBedrockError(await post(`/model/${QWEN}/converse`, deep(false)), 400, 'ValidationException');
    await expectBedrockError(await post(`/model/${QWEN}/converse`, deep(true)), 400, 'ValidationException');
    await expectBedrockError(
      await post(`/model/${QWEN}/converse-stream`, deep(true)),
      400,
      'ValidationException',
    );
    expect(running.emulator.requests).toHaveLength(0);
  });

  it('a Converse body that is not UTF-8 is refused (what is checked is what Bedrock would read)', async () => {
    const body = Buffer.concat([
      Buffer.from('{"messages":[{"role":"user","content":[{"text":"hi '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}]}'),
    ]);
    await expectBedrockError(await post(`/model/${QWEN}/converse`, body), 400, 'ValidationException');
    expect(running.emulator.requests).toHaveLength(0);
  });

  it("V8's excerpt of a broken body stays out of the error message", async () => {
    const res = await post(`/model/${QWEN}/converse`, '{"pw": hunter2}');
    expect(res.status).toBe(400);
    const { message } = (await res.json()) as { message: string };
    expect(message).toMatch(/Unexpected token/);
    expect(message).not.toContain('hunter');
  });

  it('a huge body: 413 ValidationException', async () => {
    const small = await startServer(testConfig({ maxBodyBytes: 1024 }));
    try {
      const res = await fetch(`${small.url}/model/${QWEN}/invoke`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-master-key', 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'x'.repeat(10_000) }),
      });
      await expectBedrockError(res, 413, 'ValidationException');
    } finally {
      await small.close();
    }
  });

  it('a form body: 415 ValidationException', async () => {
    await expectBedrockError(
      await post(`/model/${QWEN}/invoke`, 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'ValidationException',
    );
  });

  it('a SigV4 signature next to an abproxy key in x-api-key: the key decides, the call goes through', async () => {
    running.emulator.enqueue({ text: 'signed and keyed' });
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const signed = {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00',
      'content-type': 'application/json',
    };
    const refused = await fetch(`${running.gateway.url}/model/${QWEN}/converse`, {
      method: 'POST',
      headers: signed,
      body,
    });
    await expectBedrockError(refused, 403, 'UnrecognizedClientException');
    const res = await fetch(`${running.gateway.url}/model/${QWEN}/converse`, {
      method: 'POST',
      headers: { ...signed, 'x-api-key': 'test-master-key' },
      body,
    });
    expect(res.status).toBe(200);
    const call = running.emulator.requests.find((r) => r.operation === 'Converse');
    expect(String(call?.headers.authorization)).not.toContain('Signature=00');
  });

  it('no key at all: UnrecognizedClientException', async () => {
    const res = await fetch(`${running.gateway.url}/model/${QWEN}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await expectBedrockError(res, 403, 'UnrecognizedClientException');
  });
});

describe('control-plane reads', () => {
  const get = (path: string) =>
    fetch(`${running.gateway.url}${path}`, { headers: { authorization: 'Bearer test-master-key' } });

  it('GET /inference-profiles?type=SYSTEM_DEFINED lists the catalogue in Bedrock shape', async () => {
    const res = await get('/inference-profiles?type=SYSTEM_DEFINED');
    expect(res.status).toBe(200);
    const json = (await res.json()) as {
      inferenceProfileSummaries: { inferenceProfileId: string; type: string }[];
    };
    expect(json.inferenceProfileSummaries.length).toBeGreaterThan(0);
    expect(json.inferenceProfileSummaries.every((p) => p.type === 'SYSTEM_DEFINED')).toBe(true);
    expect(json.inferenceProfileSummaries.map((p) => p.inferenceProfileId)).toContain(CLAUDE);
  });

  it('ListInferenceProfiles pages by maxResults and nextToken, as the SDK paginator walks them', async () => {
    const bedrock = doorControlClient(MASTER_KEY, running.gateway.url);
    const all = (await bedrock.send(new ListInferenceProfilesCommand({}))).inferenceProfileSummaries ?? [];
    expect(all.length).toBeGreaterThan(3);
    const first = await bedrock.send(new ListInferenceProfilesCommand({ maxResults: 2 }));
    expect(first.inferenceProfileSummaries).toHaveLength(2);
    expect(first.nextToken).toEqual(expect.any(String));
    const pages: number[] = [];
    const walked: string[] = [];
    for await (const page of paginateListInferenceProfiles({ client: bedrock, pageSize: 3 }, {})) {
      pages.push(page.inferenceProfileSummaries?.length ?? 0);
      walked.push(...(page.inferenceProfileSummaries ?? []).map((p) => p.inferenceProfileId!));
    }
    expect(walked).toEqual(all.map((p) => p.inferenceProfileId));
    expect(pages.every((n) => n <= 3)).toBe(true);
    // Bedrock's bounds: 1 to 1000 results a page; a token it did not issue is a ValidationException.
    for (const maxResults of [0, 1001]) {
      const err = await bedrock.send(new ListInferenceProfilesCommand({ maxResults })).catch((e) => e);
      expect(err.name).toBe('ValidationException');
      expect(err.$metadata.httpStatusCode).toBe(400);
    }
    const bad = await bedrock
      .send(new ListInferenceProfilesCommand({ nextToken: 'not-a-token' }))
      .catch((e) => e);
    expect(bad.name).toBe('ValidationException');
    expect(bad.$metadata.httpStatusCode).toBe(400);
  });

  it('GET /foundation-models and /foundation-models/{id}', async () => {
    const list = (await (await get('/foundation-models')).json()) as {
      modelSummaries: { modelId: string }[];
    };
    expect(list.modelSummaries.map((m) => m.modelId)).toContain(QWEN);
    const one = await get(`/foundation-models/${encodeURIComponent(QWEN)}`);
    expect(((await one.json()) as { modelDetails: { modelId: string } }).modelDetails.modelId).toBe(QWEN);
    const missing = await get('/foundation-models/nope.nothing');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
  });

  it("ListFoundationModels' filters (output modality, inference type, customization) narrow the list", async () => {
    const bedrock = doorControlClient(MASTER_KEY, running.gateway.url);
    const ids = async (input: ListFoundationModelsCommandInput) =>
      ((await bedrock.send(new ListFoundationModelsCommand(input))).modelSummaries ?? []).map(
        (m) => m.modelId,
      );
    const all = await ids({});
    // The catalogue's models all answer text: asking for embedding models finds none.
    expect(await ids({ byOutputModality: 'EMBEDDING' })).toEqual([]);
    expect(await ids({ byOutputModality: 'TEXT' })).toEqual(all);
    // Sonnet 4.5 is served through inference profiles only; Qwen on demand too.
    const onDemand = await ids({ byInferenceType: 'ON_DEMAND' });
    expect(onDemand).toContain(QWEN);
    expect(onDemand).not.toContain('anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(await ids({ byInferenceType: 'PROVISIONED' })).toEqual([]);
    expect(await ids({ byCustomizationType: 'FINE_TUNING' })).toEqual([]);
  });
});

describe('the HTTP/2 upstream transport (ABPROXY_UPSTREAM_HTTP=2)', () => {
  it('forwards a stream and a plain call through the SDK client', async () => {
    const h2 = await startServer(testConfig({ upstreamHttp: '2' }));
    try {
      const client = sdk(MASTER_KEY, h2.url);
      running.emulator.enqueue({ text: 'over h2', chunkSize: 2 }, { text: 'plain h2' });
      const out = await client.send(
        new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      );
      let text = '';
      for await (const event of out.stream!) text += event.contentBlockDelta?.delta?.text ?? '';
      expect(text).toBe('over h2');
      const plain = await client.send(
        new ConverseCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      );
      expect(plain.output?.message?.content?.[0]?.text).toBe('plain h2');
      const runtime = running.emulator.requests.filter((r) => r.modelId !== undefined);
      expect(runtime.map((r) => r.httpVersion)).toEqual(runtime.map(() => '2'));
      // An upstream refusal through this transport keeps its name too.
      running.emulator.enqueue({ error: { name: 'ValidationException', message: 'nope over h2' } });
      const err = await client
        .send(new ConverseCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))
        .catch((e) => e);
      expect(err.name).toBe('ValidationException');
    } finally {
      await h2.close();
    }
  });
});
