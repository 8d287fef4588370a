import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import {
  exceptionFrame,
  InvokeChunkStream,
  invokeAnswerText,
  invokeBodyToMessagesApi,
  invokeUsageHeaders,
} from './invoke-via-messages.ts';
import { ONE_TEXT_BLOCK } from './stream-events.fixture.ts';

type Json = Record<string, unknown>;
const codec = new EventStreamCodec(toUtf8, fromUtf8);

function decode(frame: Uint8Array): { headers: Record<string, string>; body: Json } {
  const message = codec.decode(frame);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = String(value.value);
  return { headers, body: JSON.parse(toUtf8(message.body)) as Json };
}

/** The Anthropic events inside InvokeModel chunk frames. */
function eventsOf(frames: Uint8Array[]): Json[] {
  return frames.map((frame) => {
    const { headers, body } = decode(frame);
    expect(headers).toMatchObject({ ':event-type': 'chunk', ':message-type': 'event' });
    return JSON.parse(Buffer.from(String(body.bytes), 'base64').toString('utf8')) as Json;
  });
}

const sse = (event: Json) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;

const STREAM = [
  {
    type: 'message_start',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'anthropic.claude-opus-5-5',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 40, output_tokens: 1, cache_read_input_tokens: 5 },
    },
  },
  { type: 'ping' },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } },
  { type: 'message_stop' },
]
  .map(sse)
  .join('');

const OPUS = { baseModelId: 'anthropic.claude-opus-5-5', caps: { maxOutputTokens: 128_000 } };
const convert = (body: Json, stream = false) => invokeBodyToMessagesApi(body, OPUS, { stream });

describe('invokeBodyToMessagesApi', () => {
  it('moves the version and betas out of the body, sets stream, keeps the rest', () => {
    const out = convert(
      {
        anthropic_version: 'bedrock-2023-05-31',
        anthropic_beta: ['interleaved-thinking-2025-05-14', ' '],
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        thinking: { type: 'adaptive' },
      },
      true,
    );
    expect(out.betas).toEqual(['interleaved-thinking-2025-05-14']);
    expect(JSON.parse(out.body)).toEqual({
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      thinking: { type: 'adaptive' },
      stream: true,
    });
    expect(out.warnings).toEqual([]);
    const plain = convert({
      stream: true,
      model: 'x',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'a' }],
    });
    expect(JSON.parse(plain.body)).toEqual({ max_tokens: 1, messages: [{ role: 'user', content: 'a' }] });
  });

  it("shapes Claude Code's Bedrock-mode body as /v1/messages' mantle path does, saying what changed", () => {
    const out = convert({
      anthropic_version: 'bedrock-2023-05-31',
      anthropic_beta: ['interleaved-thinking-2025-05-14', 'thinking-token-count-2026-05-13'],
      max_tokens: 1000,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'system', content: '<system-reminder>x</system-reminder>' },
        { role: 'user', content: 'again' },
      ],
      inference_geo: 'us',
      tools: [{ name: 't', input_schema: { type: 'object' }, strict: true }],
    });
    const body = JSON.parse(out.body) as { messages: Json[]; tools: Json[] } & Json;
    expect(out.betas).toEqual(['interleaved-thinking-2025-05-14']);
    expect(body.messages.map((m) => m.role)).not.toContain('system');
    expect(JSON.stringify(body.messages)).toContain('<system-reminder>x</system-reminder>');
    expect(body.inference_geo).toBeUndefined();
    expect(body.tools[0]!.strict).toBeUndefined();
    expect(out.warnings.join('; ')).toMatch(
      /inference_geo.*strict.*betas not sent to Bedrock: thinking-token-count/,
    );
  });

  it('refuses what is not a Claude body, naming the field', () => {
    expect(() => convert({ anthropic_beta: 'x' })).toThrow(ApiError);
    expect(() => convert({ anthropic_beta: [1] })).toThrow(/array of strings/);
    expect(() => convert({ messages: [{ role: 'user', content: 'a' }] })).toThrow(/max_tokens/);
    expect(() => convert({ max_tokens: 5, messages: 'hi' })).toThrow(/messages/);
  });
});

describe('the non-stream answer', () => {
  it("is the message with the caller's model id, and Bedrock's token-count headers", () => {
    expect(JSON.parse(invokeAnswerText({ type: 'message', model: 'anthropic.x' }, 'us.x'))).toEqual({
      type: 'message',
      model: 'us.x',
    });
    expect(
      invokeUsageHeaders({
        input_tokens: 3,
        output_tokens: 4,
        cache_read_input_tokens: null,
        cache_creation_input_tokens: 2,
      }),
    ).toEqual({
      'x-amzn-bedrock-input-token-count': '3',
      'x-amzn-bedrock-output-token-count': '4',
      'x-amzn-bedrock-cache-read-input-token-count': '0',
      'x-amzn-bedrock-cache-write-input-token-count': '2',
    });
  });
});

describe('InvokeChunkStream', () => {
  it('re-wraps each SSE event as a chunk, whatever the chunking; drops pings; metrics on message_stop', () => {
    const bytes = Buffer.from(STREAM);
    for (const size of [1, 7, bytes.length]) {
      const stream = new InvokeChunkStream({ model: 'us.anthropic.claude-opus-5-5' });
      const frames: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) frames.push(...stream.push(bytes.subarray(i, i + size)));
      frames.push(...stream.end());
      const events = eventsOf(frames);
      expect(events.map((e) => e.type)).toEqual(ONE_TEXT_BLOCK);
      expect((events[0]!.message as Json).model).toBe('us.anthropic.claude-opus-5-5');
      expect(events.at(-1)!['amazon-bedrock-invocationMetrics']).toMatchObject({
        inputTokenCount: 40,
        outputTokenCount: 9,
        cacheReadInputTokenCount: 5,
        cacheWriteInputTokenCount: 0,
      });
      expect(stream.usage()).toMatchObject({ input_tokens: 40, output_tokens: 9 });
      expect(stream.usageIsEstimated).toBe(false);
    }
  });

  it('throws an error event with its Anthropic type, after the frames before it', () => {
    const stream = new InvokeChunkStream({ model: 'm' });
    const text =
      STREAM.slice(0, STREAM.indexOf('event: content_block_stop')) +
      sse({ type: 'error', error: { type: 'overloaded_error', message: 'busy' } });
    const frames = stream.push(Buffer.from(text));
    expect(eventsOf(frames).map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
    ]);
    expect(() => stream.push(new Uint8Array())).toThrow(/busy/);
  });

  it('throws when the stream ends before message_stop', () => {
    const stream = new InvokeChunkStream({ model: 'm' });
    stream.push(Buffer.from(STREAM.slice(0, STREAM.indexOf('event: message_stop'))));
    expect(() => stream.end()).toThrow(/before message_stop/);
  });
});

describe('exceptionFrame', () => {
  it("names the exception in the stream's spelling; one the stream union lacks is an internal error", () => {
    expect(decode(exceptionFrame('ThrottlingException', 'slow down'))).toEqual({
      headers: {
        ':exception-type': 'throttlingException',
        ':content-type': 'application/json',
        ':message-type': 'exception',
      },
      body: { message: 'slow down' },
    });
    expect(decode(exceptionFrame('AccessDeniedException', 'no')).headers[':exception-type']).toBe(
      'internalServerException',
    );
  });
});
