import { describe, expect, it } from 'vitest';
import { formatSse } from '../anthropic/sse.ts';
import { BEDROCK_ERRORS, fromBedrockError } from '../upstream/aws-errors.ts';
import { createInvokeStream, fromInvokeResponse, InvokeStreamTranslator } from './invoke-stream.ts';
import { ONE_TEXT_BLOCK } from './stream-events.fixture.ts';
import { billedUsage } from './usage.ts';

const chunk = (event: unknown) => ({ chunk: { bytes: new TextEncoder().encode(JSON.stringify(event)) } });

/** Decoded chunks of a real-shaped InvokeModelWithResponseStream answer (Claude Sonnet 4.5). */
function bedrockChunks(): Array<Record<string, unknown>> {
  return [
    {
      type: 'message_start',
      message: {
        id: 'msg_bdrk_01AbC',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 12,
          cache_creation_input_tokens: 2048,
          cache_read_input_tokens: 30_000,
          output_tokens: 1,
        },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Héllo' } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 7 },
    },
    {
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: 12,
        outputTokenCount: 7,
        invocationLatency: 812,
        firstByteLatency: 301,
        cacheReadInputTokenCount: 30_000,
        cacheWriteInputTokenCount: 2048,
      },
    },
  ];
}

describe('createInvokeStream', () => {
  it('estimates the output of a stream cut before message_delta from the deltas forwarded', () => {
    const stream = createInvokeStream({ model: 'claude-sonnet-4-5' });
    const [start, blockStart] = bedrockChunks();
    stream.push(start!);
    stream.push(blockStart!);
    // 75 deltas of 8 characters forwarded as raw bytes (the pass-through path), one parsed (thinking).
    for (let i = 0; i < 75; i++) {
      stream.passedThrough(
        JSON.stringify({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: 'abcdefgh' },
        }),
      );
    }
    stream.passedThrough(
      JSON.stringify({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'signature_delta', signature: 'x'.repeat(400) },
      }),
    );
    stream.push({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'thinking_delta', thinking: 'x'.repeat(40) },
    });
    expect(stream.usageIsEstimated).toBe(true);
    // (75 × 8 + 40) / 4 characters per token; message_start's placeholder (1) is not the answer.
    expect(stream.usage()).toEqual({
      input_tokens: 12,
      output_tokens: 160,
      cache_creation_input_tokens: 2048,
      cache_read_input_tokens: 30_000,
    });
  });

  it('estimates a cut answer in another script a token a character (as the input estimate counts it)', () => {
    const stream = createInvokeStream({ model: 'claude-sonnet-4-5' });
    const [start, blockStart] = bedrockChunks();
    stream.push(start!);
    stream.push(blockStart!);
    // 100 characters of text forwarded as raw bytes, 100 of thinking parsed.
    const text = { type: 'text_delta', text: '中文回答'.repeat(25) };
    stream.passedThrough(JSON.stringify({ type: 'content_block_delta', index: 0, delta: text }));
    stream.push({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'thinking_delta', thinking: '思考'.repeat(50) },
    });
    expect(stream.usage().output_tokens).toBe(200);
  });

  it('counts the delta value however it is escaped or whatever it contains', () => {
    const stream = createInvokeStream({ model: 'claude-sonnet-4-5' });
    const text = 'a":"b\\":"c\n"}}';
    stream.passedThrough(
      JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    );
    // The escaped form is counted (JSON.stringify(text) without its quotes): close enough for 4 chars a token.
    expect(stream.usage().output_tokens).toBe(Math.ceil((JSON.stringify(text).length - 2) / 4));
  });

  it('reports exact usage once message_delta arrived', () => {
    const stream = createInvokeStream({ model: 'claude-sonnet-4-5' });
    for (const chunk of bedrockChunks()) stream.push(chunk);
    expect(stream.usageIsEstimated).toBe(false);
    expect(stream.usage().output_tokens).toBe(7);
  });

  it('renames the model, keeps the id, hides the Bedrock metrics and records usage', () => {
    const stream = createInvokeStream({ model: 'claude-sonnet-4-5' });
    const wire = bedrockChunks()
      .map((chunk) => stream.push(chunk))
      .map((event) => formatSse(event.type as string, event))
      .join('');
    expect(wire).toContain('"model":"claude-sonnet-4-5"');
    expect(wire).not.toContain('claude-sonnet-4-5-20250929');
    expect(wire).toContain('"id":"msg_bdrk_01AbC"');
    expect(wire).not.toContain('amazon-bedrock');
    expect(
      wire
        .split('\n\n')
        .filter(Boolean)
        .map((f) => f.split('\n')[0]),
    ).toEqual([
      'event: message_start',
      'event: content_block_start',
      'event: content_block_delta',
      'event: content_block_stop',
      'event: message_delta',
      'event: message_stop',
    ]);
    expect(stream.usage()).toEqual({
      input_tokens: 12,
      output_tokens: 7,
      cache_creation_input_tokens: 2048,
      cache_read_input_tokens: 30_000,
    });
  });

  it('takes the final counts from message_delta when it carries them', () => {
    const stream = createInvokeStream({ model: 'm' });
    const chunks = bedrockChunks();
    (chunks[4] as { usage: object }).usage = {
      output_tokens: 9,
      input_tokens: 15,
      cache_read_input_tokens: 29_000,
    };
    for (const chunk of chunks) stream.push(chunk);
    expect(stream.usage()).toMatchObject({
      input_tokens: 15,
      output_tokens: 9,
      cache_read_input_tokens: 29_000,
    });
  });

  it("bills a compaction's own sampling: the final usage sums message_delta's iterations", () => {
    const stream = createInvokeStream({ model: 'm' });
    const chunks = bedrockChunks();
    const iterations = [
      { type: 'compaction', input_tokens: 150_000, output_tokens: 3_000, cache_read_input_tokens: 0 },
      { type: 'message', input_tokens: 3_100, output_tokens: 9, cache_read_input_tokens: 0 },
    ];
    (chunks[4] as { usage: object }).usage = { output_tokens: 9, input_tokens: 3_100, iterations };
    const sent = chunks.map((chunk) => stream.push(chunk));
    // The client sees Claude's own counts; the gateway bills the sum.
    expect((sent[4] as { usage: object }).usage).toMatchObject({ input_tokens: 3_100, output_tokens: 9 });
    expect(billedUsage(stream.usage())).toMatchObject({
      input_tokens: 153_100,
      output_tokens: 3_009,
      cache_read_input_tokens: 0,
    });
  });

  it('falls back to the invocation metrics when events lack usage', () => {
    const stream = createInvokeStream({ model: 'm' });
    const chunks = bedrockChunks();
    delete (chunks[0] as { message: { usage?: unknown } }).message.usage;
    delete (chunks[4] as { usage?: unknown }).usage;
    const sent = chunks.map((chunk) => stream.push(chunk));
    // message_delta always carries usage for the SDKs.
    expect(sent[4]).toHaveProperty('usage');
    expect(stream.usage()).toEqual({
      input_tokens: 12,
      output_tokens: 7,
      cache_creation_input_tokens: 2048,
      cache_read_input_tokens: 30_000,
    });
  });

  it('reports zeros before anything arrived', () => {
    expect(createInvokeStream({ model: 'm' }).usage()).toEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });
});

describe("stop reasons Bedrock adds to Claude's body", () => {
  it.each([
    ['guardrail_intervened', 'refusal'],
    ['content_filtered', 'refusal'],
    ['end_turn', 'end_turn'],
    ['pause_turn', 'pause_turn'],
    ['refusal', 'refusal'],
  ])('%s → %s in both modes', (upstream, expected) => {
    const stream = createInvokeStream({ model: 'claude-sonnet-4-5' });
    const delta = stream.push({
      type: 'message_delta',
      delta: { stop_reason: upstream },
      usage: { output_tokens: 1 },
    });
    expect((delta.delta as { stop_reason: string }).stop_reason).toBe(expected);
    const message = fromInvokeResponse(
      { type: 'message', content: [], stop_reason: upstream, usage: { input_tokens: 1, output_tokens: 1 } },
      { model: 'claude-sonnet-4-5' },
    );
    expect(message.stop_reason).toBe(expected);
  });
});

describe('fromInvokeResponse', () => {
  it('renames the model and completes usage, keeping content and extra usage fields', () => {
    const message = fromInvokeResponse(
      {
        id: 'msg_bdrk_02',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'thinking', thinking: '', signature: 'EqQB' },
          { type: 'text', text: 'Hi', citations: null },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 2, server_tool_use: { web_search_requests: 0 } },
      },
      { model: 'claude-sonnet-4-5' },
    );
    expect(message.model).toBe('claude-sonnet-4-5');
    expect(message.id).toBe('msg_bdrk_02');
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: '', signature: 'EqQB' });
    expect(message.usage).toEqual({
      input_tokens: 3,
      output_tokens: 2,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      server_tool_use: { web_search_requests: 0 },
    });
  });

  it('refuses something that is not a message', () => {
    expect(() => fromInvokeResponse({ message: 'oops' }, { model: 'm' })).toThrow('not an Anthropic message');
  });

  it('refuses a message without its content blocks (a broken 2xx), and reads a usage that is no object as none', () => {
    expect(() => fromInvokeResponse({ type: 'message' }, { model: 'm' })).toThrow('not an Anthropic message');
    expect(() => fromInvokeResponse({ type: 'message', content: 'oops' }, { model: 'm' })).toThrow(
      'not an Anthropic message',
    );
    const message = fromInvokeResponse({ type: 'message', content: [], usage: 'x' }, { model: 'm' });
    expect(message.usage).toEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });
});

describe('token counts from a broken answer', () => {
  it('are never negative or infinite (a usage record would charge a negative cost)', () => {
    const message = fromInvokeResponse(
      {
        type: 'message',
        content: [],
        usage: { input_tokens: -5, output_tokens: Number.POSITIVE_INFINITY, cache_read_input_tokens: 3 },
      },
      { model: 'm' },
    );
    expect(message.usage).toEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 3,
    });
  });
});

describe('InvokeStreamTranslator', () => {
  it('forwards content deltas as Bedrock sent them and rewrites the rest', () => {
    const translator = new InvokeStreamTranslator({ model: 'claude-sonnet-4-5' });
    expect(translator.start()).toEqual([]);
    const out = bedrockChunks().flatMap((event) => translator.push(chunk(event)));
    expect(out.map((e) => e.type)).toEqual(ONE_TEXT_BLOCK);
    const delta = bedrockChunks()[2];
    expect(out[2]!.frame).toBe(`event: content_block_delta\ndata: ${JSON.stringify(delta)}\n\n`);
    expect(out[0]!.frame).toContain('"model":"claude-sonnet-4-5"');
    expect(out[5]!.frame).not.toContain('amazon-bedrock');
    expect(translator.end()).toEqual([]);
    expect(translator.usage()).toMatchObject({ input_tokens: 12, output_tokens: 7 });
  });

  it('throws an exception event as the fault table reads it', () => {
    const translator = new InvokeStreamTranslator({ model: 'm' });
    translator.push(chunk(bedrockChunks()[0]));
    let thrown: unknown;
    try {
      translator.push({ modelTimeoutException: { message: 'slow' } } as never);
    } catch (err) {
      thrown = err;
    }
    const err = fromBedrockError(thrown);
    expect({ status: err.status, type: err.type }).toEqual({
      status: BEDROCK_ERRORS.ModelTimeoutException!.status,
      type: BEDROCK_ERRORS.ModelTimeoutException!.type,
    });
  });

  it('fails a stream that ends before message_stop', () => {
    const translator = new InvokeStreamTranslator({ model: 'm' });
    translator.push(chunk(bedrockChunks()[0]));
    expect(() => translator.end()).toThrow('before message_stop');
  });
});
