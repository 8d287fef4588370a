import {
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './server.ts';
import { runtimeClient } from './test-clients.ts';

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes));
const body = (extra: Record<string, unknown> = {}) => ({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 1000,
  messages: [{ role: 'user', content: 'hello claude' }],
  ...extra,
});

let emulator: Emulator;
let client: ReturnType<typeof runtimeClient>;
beforeAll(async () => {
  emulator = await startEmulator();
  client = runtimeClient(emulator.url);
});
afterAll(async () => {
  client.destroy();
  await emulator.close();
});
afterEach(() => emulator.reset());

describe('InvokeModel (Claude native)', () => {
  it('answers with an Anthropic message', async () => {
    const out = await client.send(
      new InvokeModelCommand({ modelId: HAIKU, body: encode(body()), contentType: 'application/json' }),
    );
    const message = decode(out.body);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5-20251001',
      content: [{ type: 'text', text: 'Echo: hello claude' }],
      stop_reason: 'end_turn',
    });
    expect(message.id).toMatch(/^msg_bdrk_/);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it('streams Anthropic events in chunks, with invocation metrics on message_stop', async () => {
    emulator.enqueue({ text: 'streamed words', reasoning: { text: 'pondering' }, chunkSize: 4 });
    const out = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: HAIKU,
        body: encode(body({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 1024 } })),
      }),
    );
    interface AnthropicEvent {
      type: string;
      delta?: { type?: string; text?: string; thinking?: string; signature?: string };
      [key: string]: unknown;
    }
    const events: AnthropicEvent[] = [];
    for await (const part of out.body ?? []) events.push(decode(part.chunk?.bytes));
    expect(events[0]?.type).toBe('message_start');
    expect(
      events
        .filter((e) => e.delta?.type === 'text_delta')
        .map((e) => e.delta?.text)
        .join(''),
    ).toBe('streamed words');
    expect(
      events
        .filter((e) => e.delta?.type === 'thinking_delta')
        .map((e) => e.delta?.thinking)
        .join(''),
    ).toBe('pondering');
    expect(events.some((e) => e.delta?.type === 'signature_delta' && e.delta.signature)).toBe(true);
    const stop = events.at(-1);
    expect(stop?.type).toBe('message_stop');
    expect(stop?.['amazon-bedrock-invocationMetrics']).toMatchObject({
      inputTokenCount: expect.any(Number),
      outputTokenCount: expect.any(Number),
      invocationLatency: expect.any(Number),
      firstByteLatency: expect.any(Number),
      cacheReadInputTokenCount: 0,
      cacheWriteInputTokenCount: 0,
    });
  });

  it.each([
    ['a model field', body({ model: 'claude' }), /extraneous key \[model\] is not permitted/],
    ['a stream field', body({ stream: true }), /extraneous key \[stream\] is not permitted/],
    [
      'no anthropic_version',
      { max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      /required key \[anthropic_version\] not found/,
    ],
    [
      'no max_tokens',
      { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: 'x' }] },
      /required key \[max_tokens\] not found/,
    ],
    ['an unknown beta', body({ anthropic_beta: ['not-a-beta'] }), /invalid beta flag/],
    [
      'a server tool Bedrock does not run',
      body({ tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] }),
      /code_execution_20250825 is not supported on Amazon Bedrock/,
    ],
    ['max_tokens over the cap', body({ max_tokens: 64_001 }), /max_tokens: 64001 > 64000/],
    [
      'a metadata key other than user_id',
      body({ metadata: { user_id: 'u', tenant: 't' } }),
      /metadata\.tenant: Extra inputs are not permitted/,
    ],
    [
      'a tool_use left unanswered',
      body({
        tools: [{ name: 'ls', input_schema: { type: 'object' } }],
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'ls', input: {} }] },
          { role: 'user', content: 'b' },
        ],
      }),
      /`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
    ],
  ])('refuses %s', async (_label, payload, message) => {
    const error = await client
      .send(new InvokeModelCommand({ modelId: HAIKU, body: encode(payload) }))
      .catch((e) => e);
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('cites a document or search result that asks for citations: citations on the text, citations_delta when streaming', async () => {
    const messages = [
      {
        role: 'user',
        content: [
          {
            type: 'search_result',
            source: 'kb://1',
            title: 'Old',
            content: [{ type: 'text', text: 'Not cited.' }],
          },
          {
            type: 'document',
            title: 'notes',
            source: { type: 'text', media_type: 'text/plain', data: 'Grass is green. Snow is white.' },
            citations: { enabled: true },
          },
          { type: 'text', text: 'What colour is grass?' },
        ],
      },
    ];
    const citation = {
      type: 'char_location',
      cited_text: 'Grass is green.',
      document_index: 0,
      document_title: 'notes',
      start_char_index: 0,
      end_char_index: 15,
    };
    const out = await client.send(
      new InvokeModelCommand({
        modelId: HAIKU,
        body: encode(body({ messages })),
        contentType: 'application/json',
      }),
    );
    expect(decode(out.body).content[1]).toEqual({
      type: 'text',
      text: 'Grass is green.',
      citations: [citation],
    });

    const streamed = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: HAIKU, body: encode(body({ messages })) }),
    );
    const events: { type: string; index?: number; delta?: { type?: string; citation?: unknown } }[] = [];
    for await (const part of streamed.body ?? []) events.push(decode(part.chunk?.bytes));
    const deltas = events.filter((e) => e.delta?.type === 'citations_delta');
    expect(deltas).toEqual([
      { type: 'content_block_delta', index: 1, delta: { type: 'citations_delta', citation } },
    ]);
  });

  it('takes output_config.format from Claude 4.5 on, and effort only where the model has it', async () => {
    const format = { type: 'json_schema', schema: { type: 'object' } };
    const send = (modelId: string, extra: Record<string, unknown>) =>
      client.send(new InvokeModelCommand({ modelId, body: encode(body(extra)) })).catch((e) => e);
    const SONNET_4 = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
    const OPUS_45 = 'us.anthropic.claude-opus-4-5-20251101-v1:0';
    expect(decode((await send(HAIKU, { output_config: { format } })).body).type).toBe('message');
    const effort = { output_config: { effort: 'low' }, anthropic_beta: ['effort-2025-11-24'] };
    expect(decode((await send(OPUS_45, effort)).body).type).toBe('message');
    expect((await send(SONNET_4, { output_config: { format } })).message).toMatch(
      /extraneous key \[output_config\]/,
    );
    expect((await send(HAIKU, { output_config: { effort: 'low' } })).message).toMatch(
      /output_config\.effort: Extra inputs are not permitted/,
    );
    expect((await send(OPUS_45, { output_config: { effort: 'low' } })).message).toMatch(
      /output_config\.effort: Extra inputs are not permitted/,
    );
    // Strict tool use is the other half of structured outputs.
    const tools = [{ name: 'ls', input_schema: { type: 'object' }, strict: true }];
    expect(decode((await send(HAIKU, { tools })).body).type).toBe('message');
    expect((await send(SONNET_4, { tools })).message).toMatch(/tools\.0\.custom\.strict: Extra inputs/);
  });

  it('takes compaction blocks on the 4.6 models under the compaction beta only', async () => {
    const messages = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: [{ type: 'compaction', content: 'summary', signature: 's' }] },
      { role: 'user', content: 'b' },
    ];
    const send = (modelId: string, extra: Record<string, unknown>) =>
      client
        .send(new InvokeModelCommand({ modelId, body: encode(body({ messages, ...extra })) }))
        .catch((e) => e);
    const OPUS_46 = 'us.anthropic.claude-opus-4-6-v1';
    const beta = { anthropic_beta: ['compact-2026-01-12'] };
    expect(decode((await send(OPUS_46, beta)).body).type).toBe('message');
    expect((await send(OPUS_46, {})).message).toMatch(/Input tag 'compaction' found/);
    expect((await send(HAIKU, beta)).message).toMatch(/Input tag 'compaction' found/);
  });

  it('accepts known betas', async () => {
    const payload = body({ anthropic_beta: ['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07'] });
    await expect(
      client.send(new InvokeModelCommand({ modelId: HAIKU, body: encode(payload) })),
    ).resolves.toBeDefined();
  });
});

describe('CountTokens', () => {
  it('counts a Converse-shaped input and grows with the prompt', async () => {
    const count = (text: string) =>
      client.send(
        new CountTokensCommand({
          modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          input: { converse: { messages: [{ role: 'user', content: [{ text }] }] } },
        }),
      );
    const small = await count('short');
    const large = await count('a much longer prompt '.repeat(20));
    expect(small.inputTokens).toBeGreaterThan(0);
    expect(large.inputTokens).toBeGreaterThan(small.inputTokens!);
  });

  it('counts an InvokeModel body', async () => {
    const out = await client.send(
      new CountTokensCommand({
        modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
        input: { invokeModel: { body: encode(body()) } },
      }),
    );
    expect(out.inputTokens).toBeGreaterThan(0);
  });

  it('is refused for models without token counting', async () => {
    const error = await client
      .send(
        new CountTokensCommand({
          modelId: 'qwen.qwen3-32b-v1:0',
          input: { converse: { messages: [{ role: 'user', content: [{ text: 'x' }] }] } },
        }),
      )
      .catch((e) => e);
    expect(error.name).toBe('ValidationException');
  });
});
