/**
 * Conformance: usage, stop reasons and the echoed model name, in both modes, through the Anthropic SDK.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import {
  ask,
  createAndStream,
  gatewayWithEmulator,
  type Json,
  postMessages,
  send,
} from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5-20250929';

const world = gatewayWithEmulator({ claudePath: 'converse' });

const USAGE = { inputTokens: 1234, outputTokens: 56, cacheReadInputTokens: 700, cacheWriteInputTokens: 300 };
const EXPECTED_USAGE = {
  input_tokens: 1234,
  output_tokens: 56,
  cache_read_input_tokens: 700,
  cache_creation_input_tokens: 300,
};

interface SseEvent {
  event: string;
  data: Json;
}

async function rawStream(url: string, body: object): Promise<SseEvent[]> {
  const res = await postMessages(url, JSON.stringify({ ...body, stream: true }));
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}');
      return { event, data };
    });
}

describe('usage', () => {
  for (const model of [QWEN, CLAUDE]) {
    it(`non-stream usage is Bedrock's, field for field (${model})`, async () => {
      world.emulator.enqueue({ text: 'hello', usage: USAGE });
      const message = await world.client.messages.create({ model, max_tokens: 100, messages: ask('hi') });
      expect(message.usage).toMatchObject(EXPECTED_USAGE);
    });

    it(`stream usage folds into the final message exactly (${model})`, async () => {
      world.emulator.enqueue({ text: 'hello there', chunkSize: 2, usage: USAGE });
      const message = await world.client.messages
        .stream({ model, max_tokens: 100, messages: ask('hi') })
        .finalMessage();
      expect(message.usage).toMatchObject(EXPECTED_USAGE);
    });
  }

  it('message_start carries usage, message_delta carries the final usage', async () => {
    world.emulator.enqueue({ text: 'abc def', chunkSize: 2, usage: USAGE });
    const events = await rawStream(world.gateway.url, { model: QWEN, max_tokens: 100, messages: ask('hi') });
    const start = events.find((e) => e.event === 'message_start')!;
    expect(start.data.message.usage).toMatchObject({
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
    });
    const delta = events.find((e) => e.event === 'message_delta')!;
    expect(delta.data.usage).toMatchObject({ output_tokens: 56 });
    expect(delta.data.delta).toMatchObject({ stop_reason: 'end_turn' });
    // Every frame's event name matches its data type (the SDK dispatches on both).
    for (const e of events) expect(e.data.type).toBe(e.event);
  });
});

/**
 * Stop reasons, the echoed model name and a prompt-cache round trip on each Claude path: Converse (the
 * table on an open model, which takes the same translation), and Claude's own Messages API on the
 * runtime host (`messages`) and the mantle host (`mantle`).
 */
describe.each(['converse', 'messages', 'mantle'] as const)('ABPROXY_CLAUDE_PATH=%s', (claudePath) => {
  const world = gatewayWithEmulator({ claudePath });
  const converse = claudePath === 'converse';

  describe('stop reasons', () => {
    const table: [string, Anthropic.StopReason][] = [
      ['end_turn', 'end_turn'],
      ['max_tokens', 'max_tokens'],
      ['stop_sequence', 'stop_sequence'],
      ['guardrail_intervened', 'refusal'],
      ['model_context_window_exceeded', 'model_context_window_exceeded'],
      // Converse's own stop reasons.
      ...(converse
        ? ([
            ['content_filtered', 'refusal'],
            ['malformed_model_output', 'end_turn'],
            ['malformed_tool_use', 'end_turn'],
          ] as [string, Anthropic.StopReason][])
        : []),
    ];
    for (const stream of [false, true]) {
      const mode = stream ? 'stream' : 'non-stream';
      it.each(table)(`${mode}: Bedrock %s → %s`, async (bedrock, anthropic) => {
        world.emulator.enqueue({ text: 'some text', stopReason: bedrock });
        const model = converse ? QWEN : CLAUDE;
        const params = { model, max_tokens: 100, stop_sequences: ['STOP'], messages: ask('hi') };
        const message = await send(world.client, params, stream);
        expect(message.stop_reason).toBe(anthropic);
        // Converse does not say which sequence matched; Claude's own API does.
        if (bedrock === 'stop_sequence' && !converse) expect(message.stop_sequence).toBe('STOP');
      });
    }
  });

  it.each([
    ['a Claude alias', CLAUDE],
    ['a Claude alias without a date', 'claude-sonnet-4-5'],
    ...(converse
      ? [
          ['a Bedrock id', QWEN],
          ['an inference profile id', 'us.amazon.nova-lite-v1:0'],
        ]
      : []),
  ])('the model name is echoed as the client sent it: %s', async (_label, model) => {
    const [created, streamed] = await createAndStream(world.client, {
      model: model!,
      max_tokens: 20,
      messages: ask('hi'),
    });
    expect(created.model).toBe(model);
    expect(streamed.model).toBe(model);
  });

  it('a real prompt-cache round trip reports creation, then read (Claude)', async () => {
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'Long stable instructions. '.repeat(200), cache_control: { type: 'ephemeral' } },
    ];
    const first = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 50,
      system,
      messages: ask('q1'),
    });
    const second = await world.client.messages
      .stream({ model: CLAUDE, max_tokens: 50, system, messages: ask('q2') })
      .finalMessage();
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
  });

  it('top-level cache_control (automatic caching) caches the conversation so far (Claude)', async () => {
    const params = {
      model: CLAUDE,
      max_tokens: 50,
      cache_control: { type: 'ephemeral' },
      messages: ask('A long document to discuss. '.repeat(200)),
    } as Anthropic.MessageCreateParamsNonStreaming;
    const first = await world.client.messages.create(params);
    const second = await world.client.messages.create(params);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
  });
});

describe('stop reasons', () => {
  it('tool_use in both modes', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'ls', input_schema: { type: 'object', properties: {} } }];
    world.emulator.enqueue({ toolCalls: [{ name: 'ls' }] }, { toolCalls: [{ name: 'ls' }] });
    const [a, b] = await createAndStream(world.client, {
      model: QWEN,
      max_tokens: 100,
      tools,
      messages: ask('list'),
    });
    expect([a.stop_reason, b.stop_reason]).toEqual(['tool_use', 'tool_use']);
  });

  it('a real max_tokens cut (no script) is reported as max_tokens', async () => {
    const message = await world.client.messages.create({
      model: QWEN,
      max_tokens: 3,
      messages: ask('please repeat this rather long sentence back to me in full'),
    });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBe(3);
  });
});

describe('default configuration (Claude on its native path)', () => {
  const native = gatewayWithEmulator();
  const hi = { model: CLAUDE, max_tokens: 100, messages: ask('hi') };

  it('usage, stop reason and model name hold in both modes', async () => {
    native.emulator.enqueue({ text: 'hello', usage: USAGE }, { text: 'hello', chunkSize: 2, usage: USAGE });
    for (const message of await createAndStream(native.client, hi)) {
      expect(message.usage).toMatchObject(EXPECTED_USAGE);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.model).toBe(CLAUDE);
    }
  });

  it('maps a guardrail stop to refusal in both modes', async () => {
    native.emulator.enqueue(
      { text: 'no', stopReason: 'guardrail_intervened' },
      { text: 'no', stopReason: 'guardrail_intervened' },
    );
    const [created, streamed] = await createAndStream(native.client, hi);
    expect([created.stop_reason, streamed.stop_reason]).toEqual(['refusal', 'refusal']);
  });
});

describe('server-side compaction (Claude on its native path)', () => {
  const native = gatewayWithEmulator({ usageDrainMs: 50 });
  const COMPACTION = { inputTokens: 150_000, outputTokens: 3_000 };

  const recordOf = async (requestId: string | null) => {
    for (let i = 0; i < 100; i++) {
      const records = await native.gateway.store.listUsage({ since: '2000-01-01T00:00:00.000Z' });
      const record = records.find((r) => r.requestId === requestId);
      if (record) return record;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  };

  for (const stream of [false, true]) {
    it(`records the compaction's tokens too, while the client sees Claude's own counts (${stream ? 'stream' : 'non-stream'})`, async () => {
      native.emulator.enqueue({ text: 'hello', usage: USAGE, compaction: COMPACTION });
      const res = await postMessages(
        native.gateway.url,
        JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 100, stream, messages: ask('hi') }),
        { 'anthropic-beta': 'compact-2026-01-12' },
      );
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).toContain('"input_tokens":1234');
      const record = await recordOf(res.headers.get('request-id'));
      expect(record).toMatchObject({
        inputTokens: 1234 + 150_000,
        outputTokens: 56 + 3_000,
        cacheReadInputTokens: 700,
        cacheWriteInputTokens: 300,
      });
    });
  }
});
