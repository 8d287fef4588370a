/**
 * The `messages` and `mantle` Claude paths: Bedrock's own Anthropic Messages API on bedrock-runtime
 * and on the bedrock-mantle host (the emulator's second port), through the official Anthropic SDK.
 * What reaches Bedrock (path, host, SigV4 service, id form, pinned version, betas as a header, refused
 * fields dropped and reported), what comes back (the stream as Bedrock sent it, usage exact), and the
 * per-model override.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaudePath } from '../../src/config/settings.ts';
import type { RecordedRequest } from '../emulator/server.ts';
import {
  ask,
  createAndStream,
  gatewayWithEmulator,
  type Json,
  MASTER_KEY,
  postMessages,
  startGateway,
  storeKey,
} from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const USAGE = { inputTokens: 1234, outputTokens: 56, cacheReadInputTokens: 700, cacheWriteInputTokens: 300 };
const EXPECTED_USAGE = {
  input_tokens: 1234,
  output_tokens: 56,
  cache_read_input_tokens: 700,
  cache_creation_input_tokens: 300,
};

function service(call: RecordedRequest): string | undefined {
  const auth = String(call.headers.authorization ?? '');
  return /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth)?.[1];
}

describe.each([
  ['messages', 'runtime', 'bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
  ['mantle', 'mantle', 'bedrock-mantle', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
] as const)('ABPROXY_CLAUDE_PATH=%s', (path, host, signingService, modelId) => {
  const world = gatewayWithEmulator({ claudePath: path as ClaudePath });
  const apiCalls = () => world.calls('MessagesApi');

  it('reaches /anthropic/v1/messages on its host, signed for its service, with its id form', async () => {
    const [created, streamed] = await createAndStream(world.client, {
      model: CLAUDE,
      max_tokens: 50,
      messages: ask('hello there'),
    });
    expect(created.content).toMatchObject([{ type: 'text', text: 'Echo: hello there' }]);
    expect(streamed.content[0]).toMatchObject({ type: 'text', text: 'Echo: hello there' });
    expect(created.model).toBe(CLAUDE);
    expect(streamed.model).toBe(CLAUDE);
    const calls = apiCalls();
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.host).toBe(host);
      expect(call.path).toBe('/anthropic/v1/messages');
      expect(service(call)).toBe(signingService);
      expect((call.body as Json).model).toBe(modelId);
      expect((call.body as Json).anthropic_version).toBeUndefined();
    }
    expect((calls[0]!.body as Json).stream).toBeUndefined();
    expect((calls[1]!.body as Json).stream).toBe(true);
    expect(world.calls('InvokeModel')).toHaveLength(0);
    expect(world.calls('InvokeModelWithResponseStream')).toHaveLength(0);
  });

  it('pins anthropic-version upstream and sends allowed betas as a header', async () => {
    const res = await postMessages(
      world.gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: ask('hi') }),
      {
        'anthropic-version': '2026-10-21',
        'anthropic-beta': 'interleaved-thinking-2025-05-14,made-up-beta-2099-01-01',
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-abproxy-model')).toBe(modelId);
    expect(res.headers.get('x-abproxy-warnings')).toContain('made-up-beta-2099-01-01');
    const call = apiCalls().at(-1)!;
    expect(call.headers['anthropic-version']).toBe('2023-06-01');
    expect(call.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
  });

  it('drops what Bedrock refuses there and says so', async () => {
    const res = await postMessages(
      world.gateway.url,
      JSON.stringify({
        model: CLAUDE,
        max_tokens: 20,
        messages: ask('hi'),
        inference_geo: 'us',
        tools: [
          { name: 'Read', input_schema: { type: 'object' }, strict: true },
          { type: 'code_execution_20250522', name: 'code_execution' },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const warnings = res.headers.get('x-abproxy-warnings') ?? '';
    for (const word of ['inference_geo', 'strict', 'code_execution']) expect(warnings).toContain(word);
    const body = apiCalls().at(-1)!.body as Json;
    expect(body.inference_geo).toBeUndefined();
    expect(body.tools).toEqual([{ name: 'Read', input_schema: { type: 'object' } }]);
  });

  it('refuses a JSON schema, in the call and in count_tokens, as the invoke and converse paths do for a model without structured outputs', async () => {
    // Dropped, the schema never reached Claude: the client parsed free text as if it matched.
    const output_config = { format: { type: 'json_schema' as const, schema: { type: 'object' } } };
    const refused = (e: { status?: number; message?: string }) => [e.status, e.message];
    const created = await world.client.messages
      .create({ model: CLAUDE, max_tokens: 20, messages: ask('hi'), output_config })
      .then(() => [200], refused);
    const counted = await world.client.messages
      .countTokens({ model: CLAUDE, messages: ask('hi'), output_config })
      .then(() => [200], refused);
    for (const answer of [created, counted]) {
      expect(answer[0]).toBe(400);
      expect(answer[1]).toMatch(/output_config\.format: .*Messages API.*takes no structured outputs/);
    }
    expect(apiCalls()).toHaveLength(0);
  });

  it("usage is Bedrock's, field for field, streamed and not", async () => {
    world.emulator.enqueue(
      { text: 'hello', usage: USAGE },
      { text: 'hello there', chunkSize: 2, usage: USAGE },
    );
    for (const message of await createAndStream(world.client, {
      model: CLAUDE,
      max_tokens: 100,
      messages: ask('hi'),
    })) {
      expect(message.usage).toMatchObject(EXPECTED_USAGE);
      expect(message.stop_reason).toBe('end_turn');
    }
  });

  it('the stream reaches the client as Bedrock framed it (content deltas untouched)', async () => {
    world.emulator.enqueue({ text: 'abcdefgh', chunkSize: 3 });
    const res = await postMessages(
      world.gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: ask('hi'), stream: true }),
    );
    const text = await res.text();
    expect(text).toContain(
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"abc"}}\n\n',
    );
    expect(text).toContain('event: message_stop');
    expect(text).not.toContain('amazon-bedrock-invocationMetrics');
  });

  it('a tool loop with thinking works', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'Read', input_schema: { type: 'object', properties: {} } }];
    world.emulator.enqueue({
      reasoning: { text: 'I should read a' },
      toolCalls: [{ name: 'Read', input: { path: 'a' } }],
    });
    const first = await world.client.messages
      .stream({
        model: CLAUDE,
        max_tokens: 4000,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools,
        messages: ask('read a'),
      })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content[0]!.type).toBe('thinking');
    const use = first.content.find((b) => b.type === 'tool_use')!;
    world.emulator.enqueue({ text: 'file says {{toolResult}}' });
    const second = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools,
      messages: [
        ...ask('read a'),
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'forty-two' }] },
      ],
    });
    expect(second.content.at(-1)).toMatchObject({ type: 'text', text: 'file says forty-two' });
  });

  it('faults map through the one table, before and inside the stream', async () => {
    world.emulator.enqueue({ error: { name: 'ThrottlingException', status: 429, retryAfter: 7 } });
    const refused = await postMessages(
      world.gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: ask('hi') }),
    );
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(((await refused.json()) as Json).error.type).toBe('rate_limit_error');

    world.emulator.enqueue({
      text: 'a long answer that breaks',
      chunkSize: 2,
      errorAfterEvents: { events: 4, name: 'ServiceUnavailableException', message: 'too busy' },
    });
    const res = await postMessages(
      world.gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: ask('hi'), stream: true }),
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"too busy"/,
    );
  });

  it('count_tokens answers (Bedrock has none there: the invoke count)', async () => {
    const counted = await world.client.messages.countTokens({ model: CLAUDE, messages: ask('count me') });
    expect(counted.input_tokens).toBeGreaterThan(0);
  });
});

describe('per-model override', () => {
  const world = gatewayWithEmulator({ claudePath: 'invoke', claudePaths: { '*haiku-4-5*': 'mantle' } });

  it('routes one model to mantle while the rest invoke', async () => {
    await world.client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: ask('hi') });
    await world.client.messages.create({ model: CLAUDE, max_tokens: 20, messages: ask('hi') });
    const mantle = world.calls('MessagesApi');
    expect(mantle).toHaveLength(1);
    expect(mantle[0]!.host).toBe('mantle');
    expect((mantle[0]!.body as Json).model).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(world.calls('InvokeModel').map((c) => c.modelId)).toEqual([
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
  });
});

describe('transports and credentials', () => {
  const world = gatewayWithEmulator({ claudePath: 'mantle' });
  let h2: Awaited<ReturnType<typeof startGateway>>;
  let bearer: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    h2 = await startGateway({ claudePath: 'messages', upstreamHttp: '2' });
    bearer = await startGateway({
      claudePath: 'mantle',
      mantleEndpoint: world.emulator.mantleUrl,
      bedrockApiKey: 'bedrock-api-key-for-tests',
    });
  });
  afterAll(async () => {
    await h2.server.close();
    await bearer.server.close();
  });

  it('the SDK transport (HTTP/2) serves the messages path, streamed and not', async () => {
    const [created, streamed] = await createAndStream(h2.client, {
      model: CLAUDE,
      max_tokens: 20,
      messages: ask('over h2'),
    });
    expect(created.content[0]).toMatchObject({ text: 'Echo: over h2' });
    expect(streamed.content[0]).toMatchObject({ text: 'Echo: over h2' });
    const calls = world.calls('MessagesApi');
    expect(calls.map((c) => [c.host, c.httpVersion, service(c)])).toEqual([
      ['runtime', '2', 'bedrock'],
      ['runtime', '2', 'bedrock'],
    ]);
  });

  it("a 200 that is not an answer (an unknown route's UnknownOperationException) is a 502, never a message", async () => {
    // A mantle "host" whose base path lands on the runtime host's unknown /anthropic route.
    const lost = await startGateway({
      claudePath: 'mantle',
      mantleEndpoint: `${world.emulator.url}/anthropic/elsewhere`,
      bedrockApiKey: 'bedrock-api-key-for-tests',
    });
    try {
      for (const stream of [false, true]) {
        const res = await postMessages(
          lost.url,
          JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: ask('hi'), stream }),
        );
        expect(res.status).toBe(502);
        const body = (await res.json()) as Json;
        expect(body.error).toMatchObject({ type: 'api_error' });
        expect(body.error.message).toContain('UnknownOperationException');
        expect(res.headers.get('x-should-retry')).toBe('false');
      }
    } finally {
      await lost.server.close();
    }
  });

  it('the service tier travels as Bedrock’s tier header', async () => {
    const tiered = await startGateway({ claudePath: 'messages' });
    try {
      const key = await storeKey(tiered.server.store, {}, { serviceTier: 'reserved' });
      const res = await postMessages(
        tiered.url,
        JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: ask('hi'), stream: true }),
        { 'x-api-key': key.secret },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-abproxy-service-tier')).toBe('reserved');
      await res.text();
      expect(world.calls('MessagesApi').at(-1)!.headers['x-amzn-bedrock-service-tier']).toBe('reserved');
    } finally {
      await tiered.server.close();
    }
  });

  it('a Bedrock API key goes to mantle as a bearer token', async () => {
    const client = new Anthropic({ baseURL: bearer.url, apiKey: MASTER_KEY, maxRetries: 0 });
    await client.messages.create({ model: CLAUDE, max_tokens: 20, messages: ask('hi') });
    const call = world.calls('MessagesApi').at(-1)!;
    expect(call.host).toBe('mantle');
    expect(call.headers.authorization).toBe('Bearer bedrock-api-key-for-tests');
  });
});

describe('a model that exists only on mantle', () => {
  const OPUS_5_5 = 'anthropic.claude-opus-5-5';
  const world = gatewayWithEmulator({
    claudePath: 'invoke',
    claudePaths: { '*opus-5-5*': 'mantle' },
    modelMap: { 'claude-opus-5-5': OPUS_5_5 },
  });

  it('is reached by its bare id or a mapped alias while the rest invoke', async () => {
    for (const model of [OPUS_5_5, 'claude-opus-5-5']) {
      const [created, streamed] = await createAndStream(world.client, {
        model,
        max_tokens: 50,
        messages: ask('only here'),
      });
      expect(created.content.at(-1)).toMatchObject({ type: 'text', text: 'Echo: only here' });
      expect(streamed.model).toBe(model);
    }
    const calls = world.calls('MessagesApi');
    expect(calls.map((c) => [c.host, c.modelId])).toEqual(Array(4).fill(['mantle', OPUS_5_5]));
    await world.client.messages.create({ model: CLAUDE, max_tokens: 20, messages: ask('hi') });
    expect(world.calls('InvokeModel')).toHaveLength(1);
  });
});
