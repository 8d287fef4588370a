import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { describe, expect, it } from 'vitest';
import { billedUsage } from '../../translate/usage.ts';
import { endOfAnswer, type StreamFrame, StreamUsage, usageOfAnswer } from './usage.ts';
import { WholeFrames } from './whole-frames.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function frame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':message-type': { type: 'string', value: 'event' },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: text(payload),
  });
}

const chunk = (event: unknown) =>
  frame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });

function watch(bytes: Uint8Array[], splitAt = 0): StreamUsage {
  const usage = new StreamUsage();
  const watcher = new WholeFrames((f: StreamFrame) => usage.push(f));
  const all = Buffer.concat(bytes);
  if (splitAt === 0) watcher.push(all);
  else for (let i = 0; i < all.length; i += splitAt) watcher.push(all.subarray(i, i + splitAt));
  return usage;
}

describe('usage of a whole answer', () => {
  it('Converse usage', () => {
    const body = text({ output: {}, usage: { inputTokens: 10, outputTokens: 3, cacheReadInputTokens: 4 } });
    expect(usageOfAnswer('converse', body, {})).toEqual({
      input_tokens: 10,
      output_tokens: 3,
      cache_read_input_tokens: 4,
      cache_creation_input_tokens: 0,
    });
  });

  it("InvokeModel: Claude's usage, else Bedrock's token-count headers", () => {
    const claude = text({ usage: { input_tokens: 5, output_tokens: 2, cache_creation_input_tokens: 9 } });
    expect(usageOfAnswer('invoke', claude, {})).toMatchObject({
      input_tokens: 5,
      cache_creation_input_tokens: 9,
    });
    const other = text({ generation: 'hi' });
    expect(
      usageOfAnswer('invoke', other, {
        'x-amzn-bedrock-input-token-count': '8',
        'x-amzn-bedrock-output-token-count': '1',
      }),
    ).toMatchObject({ input_tokens: 8, output_tokens: 1 });
    expect(usageOfAnswer('invoke', new Uint8Array([0xff]), {})).toBeUndefined();
  });

  it('InvokeModel after a server-side compaction: the iterations go along, so their sum is what is billed', () => {
    const iterations = [
      { type: 'compaction', input_tokens: 150_000, output_tokens: 3_000 },
      { type: 'message', input_tokens: 5, output_tokens: 2 },
    ];
    const found = usageOfAnswer(
      'invoke',
      text({ usage: { input_tokens: 5, output_tokens: 2, iterations } }),
      {},
    );
    expect(billedUsage(found!)).toMatchObject({ input_tokens: 150_005, output_tokens: 3_002 });
  });
});

describe('usage of a stream, in any chunking', () => {
  const invokeStream = [
    chunk({ type: 'message_start', message: { usage: { input_tokens: 20, output_tokens: 1 } } }),
    chunk({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'héllo' } }),
    chunk({ type: 'message_delta', usage: { output_tokens: 7 } }),
    chunk({
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: 20,
        outputTokenCount: 7,
        cacheReadInputTokenCount: 3,
        cacheWriteInputTokenCount: 2,
      },
    }),
  ];

  for (const split of [0, 1, 7]) {
    it(`invoke stream: the invocation metrics win (split ${split})`, () => {
      const usage = watch(invokeStream, split);
      expect(usage.final).toBe(true);
      expect(usage.usage).toEqual({
        input_tokens: 20,
        output_tokens: 7,
        cache_read_input_tokens: 3,
        cache_creation_input_tokens: 2,
      });
    });
  }

  it('a cut invoke stream keeps what message_start and message_delta said', () => {
    const usage = watch(invokeStream.slice(0, 3));
    expect(usage.final).toBe(false);
    expect(usage.usage).toMatchObject({ input_tokens: 20, output_tokens: 7 });
  });

  it('ConverseStream: the metadata event', () => {
    const usage = watch([
      frame('messageStart', { role: 'assistant' }),
      frame('metadata', {
        usage: { inputTokens: 11, outputTokens: 4, cacheWriteInputTokens: 1 },
        metrics: {},
      }),
    ]);
    expect(usage.usage).toMatchObject({ input_tokens: 11, output_tokens: 4, cache_creation_input_tokens: 1 });
  });

  it('a ConverseStream cut before its metadata is billed an estimate: the input given, its text out', () => {
    const usage = watch([
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'x'.repeat(30) } }),
      frame('contentBlockDelta', {
        contentBlockIndex: 1,
        delta: { reasoningContent: { text: 'y'.repeat(10) } },
      }),
      frame('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{"a":1}' } } }),
      frame('messageStop', { stopReason: 'end_turn' }),
    ]);
    expect(usage.final).toBe(false);
    expect(usage.billed(120)).toEqual({
      usage: {
        input_tokens: 120,
        output_tokens: 12,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
      estimated: true,
    });
  });

  it('a cut stream in another script is billed a token a character out, as the input estimate counts it', () => {
    const usage = watch([
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: '中文回答'.repeat(25) } }),
    ]);
    expect(usage.billed(0).usage.output_tokens).toBe(100);
  });

  it("a cut invoke stream keeps message_start's input and bills at least its text out", () => {
    const usage = watch([
      invokeStream[0]!,
      chunk({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'z'.repeat(40) } }),
    ]);
    expect(usage.billed(999).usage).toMatchObject({ input_tokens: 20, output_tokens: 10 });
    expect(watch(invokeStream).billed(999)).toMatchObject({
      usage: { input_tokens: 20, output_tokens: 7 },
      estimated: false,
    });
  });

  it('a cut invoke stream of an open model bills at least the text it forwarded, whatever its shape', () => {
    const shapes: [string, unknown][] = [
      ['Nova', { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'x'.repeat(40) } } }],
      ['Llama', { generation: 'x'.repeat(40) }],
      ['OpenAI-style (gpt-oss, Qwen…)', { choices: [{ index: 0, delta: { content: 'x'.repeat(40) } }] }],
      ['Mistral', { outputs: [{ text: 'x'.repeat(40) }] }],
    ];
    for (const [name, event] of shapes) {
      expect(watch([chunk(event)]).billed(50).usage, name).toMatchObject({
        input_tokens: 50,
        output_tokens: 10,
      });
    }
  });

  it('an exception frame marks the stream failed', () => {
    const exception = codec.encode({
      headers: {
        ':exception-type': { type: 'string', value: 'throttlingException' },
        ':message-type': { type: 'string', value: 'exception' },
        ':content-type': { type: 'string', value: 'application/json' },
      },
      body: text({ message: 'slow down' }),
    });
    expect(watch([frame('messageStart', { role: 'assistant' })]).failed).toBe(false);
    expect(watch([frame('messageStart', { role: 'assistant' }), exception]).failed).toBe(true);
  });

  it('garbage fails the stream (UpstreamAnswerMalformed) before anything is counted', () => {
    const usage = new StreamUsage();
    const frames = new WholeFrames((f) => usage.push(f));
    expect(() => frames.push(new Uint8Array([0, 0, 0, 1, 2, 3, 4, 5]))).toThrow(
      expect.objectContaining({ name: 'UpstreamAnswerMalformed' }),
    );
    expect(() => frames.push(Buffer.concat(invokeStream))).toThrow(/corrupt/);
    expect(usage.usage).toBeUndefined();
  });
});

describe("how an open model's InvokeModel answer ended (its trace's finish reason)", () => {
  // Each model family's own InvokeModel shape, as Bedrock's model parameter pages give them.
  const shapes: [string, unknown, unknown, string][] = [
    [
      'Llama',
      { generation: 'hi', stop_reason: 'length' },
      { generation: '', stop_reason: 'length' },
      'length',
    ],
    [
      'OpenAI-style (gpt-oss, Qwen…)',
      { id: 'chatcmpl-1', choices: [{ index: 0, message: { content: 'hi' }, finish_reason: 'stop' }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      'stop',
    ],
    [
      'DeepSeek',
      { choices: [{ text: 'hi', stop_reason: 'length' }] },
      { choices: [{ text: '', stop_reason: 'length' }] },
      'length',
    ],
    [
      'Mistral',
      { outputs: [{ text: 'hi', stop_reason: 'stop' }] },
      { outputs: [{ text: '', stop_reason: 'stop' }] },
      'stop',
    ],
    [
      'Nova',
      { output: { message: { role: 'assistant', content: [{ text: 'hi' }] } }, stopReason: 'max_tokens' },
      { messageStop: { stopReason: 'max_tokens' } },
      'max_tokens',
    ],
    [
      'Titan',
      { results: [{ outputText: 'hi', completionReason: 'FINISH' }] },
      { completionReason: 'FINISH' },
      'FINISH',
    ],
  ];
  for (const [name, whole, last, reason] of shapes) {
    it(`${name}: whole and streamed`, () => {
      expect(endOfAnswer('invoke', text(whole)).stop_reason).toBe(reason);
      expect(watch([chunk({ generation: 'x' }), chunk(last)]).end.stop_reason).toBe(reason);
    });
  }

  it("Claude's own answer keeps its id and stop reason", () => {
    const claude = { id: 'msg_1', type: 'message', stop_reason: 'end_turn', content: [] };
    expect(endOfAnswer('invoke', text(claude))).toEqual({ id: 'msg_1', stop_reason: 'end_turn' });
  });
});
