/**
 * The native Claude path: Claude models go to InvokeModel / InvokeModelWithResponseStream with the
 * Anthropic body itself; only Bedrock-accepted fields and betas reach Bedrock.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { createAndStream, gatewayWithEmulator, type Json, startGateway } from '../helpers/gateway.ts';

const SONNET_45 = 'claude-sonnet-4-5-20250929';
const CLAUDE_CODE_BETAS = [
  'claude-code-20250219',
  'interleaved-thinking-2025-05-14',
  'context-management-2025-06-27',
  'fine-grained-tool-streaming-2025-05-14',
  'effort-2025-11-24',
  'some-future-beta-2027-01-01',
];
const user = (text: string) => [{ role: 'user' as const, content: text }];
const lastCall = (operation: string) =>
  world.emulator.requests.filter((r) => r.operation === operation).at(-1);

const world = gatewayWithEmulator();

describe('native Claude path', () => {
  it('sends the Anthropic body to InvokeModel on the inference profile, with only accepted betas', async () => {
    world.emulator.enqueue({ text: 'native hello', usage: { inputTokens: 21, outputTokens: 3 } });
    const { data, response } = await world.client.messages
      .create(
        {
          model: SONNET_45,
          max_tokens: 32_000,
          thinking: { type: 'enabled', budget_tokens: 31_999, display: 'omitted' } as never,
          metadata: { user_id: 'user_abc' },
          messages: user('hi'),
        },
        { headers: { 'anthropic-beta': CLAUDE_CODE_BETAS.join(',') }, timeout: 30_000 },
      )
      .withResponse();
    expect(data.content.at(-1)).toMatchObject({ type: 'text', text: 'native hello' });
    expect(data.model).toBe(SONNET_45);
    expect(data.usage).toMatchObject({ input_tokens: 21, output_tokens: 3 });

    const call = lastCall('InvokeModel');
    expect(call?.status).toBe(200);
    expect(call?.modelId).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    const body = call?.body as Record<string, unknown>;
    expect(body.anthropic_version).toBe('bedrock-2023-05-31');
    expect(body).not.toHaveProperty('model');
    expect(body).not.toHaveProperty('stream');
    // Sonnet 4.5 refuses thinking.display: stripped up front instead of costing Claude Code a retry.
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 31_999 });
    const betas = body.anthropic_beta as string[];
    expect(betas).toContain('interleaved-thinking-2025-05-14');
    expect(betas).not.toContain('claude-code-20250219');
    expect(betas).not.toContain('some-future-beta-2027-01-01');
    expect(response.headers.get('x-abproxy-warnings')).toContain('some-future-beta-2027-01-01');
  });

  it('takes more than four cache_control marks (as Anthropic clients may send): the earliest are removed', async () => {
    const eph = { type: 'ephemeral' as const };
    const { data, response } = await world.client.messages
      .create({
        model: SONNET_45,
        max_tokens: 64,
        system: [{ type: 'text', text: 'rules', cache_control: eph }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'a', cache_control: eph }] },
          { role: 'assistant', content: 'b' },
          { role: 'user', content: [{ type: 'text', text: 'c', cache_control: eph }] },
          { role: 'assistant', content: 'd' },
          { role: 'user', content: [{ type: 'text', text: 'e', cache_control: eph }] },
          { role: 'assistant', content: 'f' },
          { role: 'user', content: [{ type: 'text', text: 'g', cache_control: eph }] },
        ],
      })
      .withResponse();
    expect(data.type).toBe('message');
    const body = lastCall('InvokeModel')?.body as { system: object[]; messages: { content: object[] }[] };
    expect(body.system[0]).not.toHaveProperty('cache_control');
    expect(body.messages[0]!.content[0]).toHaveProperty('cache_control');
    expect(response.headers.get('x-abproxy-warnings')).toContain('cache_control');
  });

  it("service_tier is the gateway's to act on (it picks the tier), not reported as dropped", async () => {
    const { response } = await world.client.messages
      .create({ model: SONNET_45, max_tokens: 64, service_tier: 'standard_only', messages: user('hi') })
      .withResponse();
    expect(response.headers.get('x-abproxy-warnings')).toBeNull();
    expect(response.headers.get('x-abproxy-service-tier')).toBe('default');
    expect(lastCall('InvokeModel')?.body).not.toHaveProperty('service_tier');
  });

  it('a server tool Bedrock does not run is dropped with a warning, not passed to a Bedrock 400', async () => {
    const { data, response } = await world.client.messages
      .create({
        model: SONNET_45,
        max_tokens: 64,
        tools: [
          { name: 'Read', input_schema: { type: 'object' } },
          { type: 'code_execution_20250825', name: 'code_execution' },
        ],
        messages: user('hi'),
      })
      .withResponse();
    expect(data.type).toBe('message');
    expect(response.headers.get('x-abproxy-warnings')).toContain('dropped: code_execution');
    expect((lastCall('InvokeModel')?.body as Json | undefined)?.tools).toEqual([
      { name: 'Read', input_schema: { type: 'object' } },
    ]);
  });

  it('history of a server tool Bedrock does not run (code execution) is dropped, not sent to a Bedrock 400', async () => {
    const { data, response } = await world.client.messages
      .create({
        model: SONNET_45,
        max_tokens: 64,
        messages: [
          ...user('compute 2+2'),
          {
            role: 'assistant',
            content: [
              { type: 'server_tool_use', id: 'srvtoolu_1', name: 'code_execution', input: { code: '2+2' } },
              { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_1', content: { stdout: '4' } },
              { type: 'text', text: '4' },
            ],
          } as unknown as Anthropic.MessageParam,
          ...user('thanks'),
        ],
      })
      .withResponse();
    expect(data.content.at(-1)).toMatchObject({ type: 'text', text: 'Echo: thanks' });
    expect(response.headers.get('x-abproxy-warnings')).toContain('code_execution_tool_result');
  });

  it('a metadata key Bedrock does not take is dropped, not a failed call', async () => {
    const { data, response } = await world.client.messages
      .create({
        model: SONNET_45,
        max_tokens: 64,
        metadata: { user_id: 'u1', tenant: 'acme' } as never,
        messages: user('hi'),
      })
      .withResponse();
    expect(data.type).toBe('message');
    expect((lastCall('InvokeModel')!.body as { metadata: unknown }).metadata).toEqual({ user_id: 'u1' });
    expect(response.headers.get('x-abproxy-warnings')).toContain('metadata tenant dropped');
  });

  it('structured outputs and Opus 4.5 effort reach InvokeModel on the 4.5 models, and count_tokens is Bedrock’s', async () => {
    const format = {
      type: 'json_schema' as const,
      schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    };
    for (const model of [SONNET_45, 'claude-haiku-4-5-20251001', 'claude-opus-4-5-20251101']) {
      const effort = model.includes('opus') ? { effort: 'low' as const } : {};
      const params = { model, max_tokens: 64, output_config: { format, ...effort }, messages: user('hi') };
      const [created, streamed] = await createAndStream(world.client, params);
      expect([created.stop_reason, streamed.stop_reason]).toEqual(['end_turn', 'end_turn']);
      for (const operation of ['InvokeModel', 'InvokeModelWithResponseStream']) {
        const call = lastCall(operation);
        expect(call?.status, model).toBe(200);
        expect((call?.body as { output_config?: unknown } | undefined)?.output_config).toEqual({
          format,
          ...effort,
        });
      }
      await world.client.messages.countTokens({ model, output_config: { format }, messages: user('hi') });
      expect(lastCall('CountTokens')?.status, model).toBe(200);
    }
  });

  it('a JSON schema for a Claude without structured outputs is a 400 from the call and count_tokens, as on Converse', async () => {
    // Dropped with a warning, the schema never reached Claude and the client parsed free text as if it matched.
    const output_config = { format: { type: 'json_schema' as const, schema: { type: 'object' } } };
    const model = 'claude-sonnet-4-20250514';
    const refused = (e: { status?: number; message?: string }) => [e.status, e.message];
    const answers = [
      await world.client.messages
        .create({ model, max_tokens: 20, output_config, messages: user('hi') })
        .then(() => [200], refused),
      await world.client.messages
        .create({ model, max_tokens: 20, output_config, messages: user('hi'), stream: true })
        .then(() => [200], refused),
      await world.client.messages
        .countTokens({ model, output_config, messages: user('hi') })
        .then(() => [200], refused),
    ];
    for (const [status, message] of answers) {
      expect(status).toBe(400);
      expect(message).toMatch(
        /output_config\.format: .*claude-sonnet-4-2025.* does not support structured outputs/,
      );
    }
    expect(world.emulator.requests).toHaveLength(0);
  });

  it('a conversation compacted on Opus 4.6 goes on there, and on models without compaction with its summary', async () => {
    const summary = 'Summary: the tokenizer in src/lib.rs is done; the parser is next.';
    const messages = [
      ...user('build a parser'),
      { role: 'assistant', content: [{ type: 'compaction', content: summary, signature: 'sig' }] },
      ...user('continue'),
    ] as Anthropic.MessageParam[];
    const headers = { 'anthropic-beta': 'compact-2026-01-12' };
    for (const model of ['claude-opus-4-6', SONNET_45, 'qwen.qwen3-32b-v1:0']) {
      const data = await world.client.messages.create({ model, max_tokens: 64, messages }, { headers });
      expect(data.content.at(-1), model).toMatchObject({ type: 'text', text: 'Echo: continue' });
    }
    const [opus, sonnet] = world.emulator.requests.filter((r) => r.operation === 'InvokeModel');
    expect(JSON.stringify(opus?.body)).toContain('"type":"compaction"');
    expect((sonnet?.body as Json | undefined)?.messages[1].content).toEqual([
      { type: 'text', text: summary },
    ]);
    expect(world.lastBody('Converse').messages[1].content).toEqual([{ text: summary }]);
    // count_tokens on a model Bedrock cannot count for estimates what is sent: not what the summary replaced.
    const long = [...user('x'.repeat(40_000)), ...messages];
    const count = await world.client.messages
      .countTokens({ model: 'qwen.qwen3-32b-v1:0', messages: long }, { headers })
      .withResponse();
    expect(count.response.headers.get('x-abproxy-token-count')).toBe('estimate');
    expect(count.data.input_tokens).toBeLessThan(1_000);
    // What the summary replaced is dropped, as Anthropic drops it.
    expect(JSON.stringify(sonnet?.body)).not.toContain('build a parser');
    expect(JSON.stringify(world.lastBody('Converse'))).not.toContain('build a parser');
  });

  it('streams Claude events through with the requested model name and exact usage', async () => {
    world.emulator.enqueue({
      text: 'streamed natively ✓ 日本',
      chunkSize: 4,
      usage: { inputTokens: 40, outputTokens: 7, cacheReadInputTokens: 30, cacheWriteInputTokens: 5 },
    });
    const stream = world.client.messages.stream({ model: SONNET_45, max_tokens: 500, messages: user('go') });
    const starts: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_start') starts.push(event.message.model);
    });
    const message = await stream.finalMessage();
    expect(starts).toEqual([SONNET_45]);
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'streamed natively ✓ 日本' }),
    ]);
    expect(message.usage).toMatchObject({
      input_tokens: 40,
      output_tokens: 7,
      cache_read_input_tokens: 30,
      cache_creation_input_tokens: 5,
    });
    expect(JSON.stringify(message)).not.toContain('invocationMetrics');
    expect(lastCall('InvokeModelWithResponseStream')?.status).toBe(200);
  });

  it("thinking: disabled on Opus 4.7 (Bedrock refuses the value) is sent as no thinking, the model's default off", async () => {
    const message = await world.client.messages.create({
      model: 'claude-opus-4-7',
      max_tokens: 100,
      thinking: { type: 'disabled' },
      messages: user('hi'),
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
    expect(lastCall('InvokeModel')?.body).not.toHaveProperty('thinking');
  });

  it("temperature on Opus 4.7 is Claude's own 400, its wording intact (Anthropic refuses it the same way)", async () => {
    const error = await world.client.messages
      // The SDK's own types already leave temperature out for this model.
      .create({ model: 'claude-opus-4-7', max_tokens: 100, temperature: 0.5, messages: user('hi') } as never)
      .then(
        () => undefined,
        (e: unknown) => e as { status?: number; error?: { error?: { type?: string; message?: string } } },
      );
    expect(error?.status).toBe(400);
    expect(error?.error?.error?.type).toBe('invalid_request_error');
    expect(error?.error?.error?.message).toContain('`temperature` is deprecated for this model.');
  });

  it("passes Claude's citations through intact: the SDK's stream helper assembles what the whole answer has", async () => {
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'claude-opus-4-7',
      max_tokens: 1024,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'search_result',
              source: 'https://docs.example/sky',
              title: 'Sky facts',
              content: [{ type: 'text', text: 'The sky is blue because of Rayleigh scattering.' }],
              citations: { enabled: true },
            },
            { type: 'text', text: 'Why is the sky blue?' },
          ],
        },
      ],
    };
    const [created, streamed] = await createAndStream(world.client, params);
    const citation = {
      type: 'search_result_location',
      cited_text: 'The sky is blue because of Rayleigh scattering.',
      search_result_index: 0,
      start_block_index: 0,
      end_block_index: 1,
      source: 'https://docs.example/sky',
      title: 'Sky facts',
    };
    for (const message of [created, streamed]) {
      expect(message.content.at(-1)).toEqual({
        type: 'text',
        text: 'The sky is blue because of Rayleigh scattering.',
        citations: [citation],
      });
    }
    expect(lastCall('InvokeModelWithResponseStream')?.modelId).toBe('us.anthropic.claude-opus-4-7');
  });

  it('returns Claude thinking with its signature and accepts it back on the next turn', async () => {
    world.emulator.enqueue({ reasoning: { text: 'Let me think about 2+2.' }, text: '4' });
    const first = await world.client.messages.create({
      model: SONNET_45,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: user('2+2?'),
    });
    const thinking = first.content.find((block) => block.type === 'thinking');
    expect(thinking).toMatchObject({ thinking: 'Let me think about 2+2.', signature: expect.any(String) });

    world.emulator.enqueue({ reasoning: { text: 'Easy.' }, text: '8' });
    const second = await world.client.messages.create({
      model: SONNET_45,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [...user('2+2?'), { role: 'assistant', content: first.content }, ...user('and 4+4?')],
    });
    expect(second.content.at(-1)).toMatchObject({ type: 'text', text: '8' });
    // The emulator verifies Claude's signatures like Bedrock: a changed signature would be a 400.
    expect(lastCall('InvokeModel')?.status).toBe(200);
  });

  it('reports a mid-stream Bedrock failure as an SSE error event the SDK throws', async () => {
    world.emulator.enqueue({
      text: 'this will not finish',
      chunkSize: 2,
      errorAfterEvents: { events: 3, name: 'modelStreamErrorException', message: 'model crashed' },
    });
    const stream = world.client.messages.stream({ model: SONNET_45, max_tokens: 500, messages: user('go') });
    await expect(stream.finalMessage()).rejects.toThrow(/model crashed/);
  });

  it('maps throttling before the stream to 429 with retry-after', async () => {
    world.emulator.enqueue({ error: { name: 'ThrottlingException', message: 'slow down' } });
    const err = await world.client.messages
      .create({ model: SONNET_45, max_tokens: 100, messages: user('hi'), stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toMatch(
      /^\d+$/,
    );
  });

  it('uses Converse for Claude when ABPROXY_CLAUDE_PATH=converse', async () => {
    const viaConverse = await startGateway({}, { ABPROXY_CLAUDE_PATH: 'converse' });
    try {
      world.emulator.enqueue({ text: 'via converse' });
      const data = await viaConverse.client.messages.create({
        model: SONNET_45,
        max_tokens: 100,
        messages: user('hi'),
      });
      expect(data.content.at(-1)).toMatchObject({ text: 'via converse' });
      expect(lastCall('Converse')?.status).toBe(200);
      expect(lastCall('InvokeModel')).toBeUndefined();

      // A 1-hour cache mark reaches Bedrock as a 1-hour cache point (it was sent as a 5-minute one).
      const hour = { type: 'ephemeral' as const, ttl: '1h' as const };
      await viaConverse.client.messages.create({
        model: SONNET_45,
        max_tokens: 100,
        system: [{ type: 'text', text: 'house rules', cache_control: hour }],
        messages: user('hi'),
      });
      expect((lastCall('Converse')?.body as Json | undefined)?.system).toEqual([
        { text: 'house rules' },
        { cachePoint: { type: 'default', ttl: '1h' } },
      ]);
    } finally {
      await viaConverse.server.close();
    }
  });
});
