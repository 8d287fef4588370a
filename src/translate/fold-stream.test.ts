import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { CITATIONS_DROPPED } from './converse-as-stream.ts';
import { ConverseStreamTranslator } from './converse-stream.ts';
import { foldStream } from './fold-stream.ts';
import { translateConverseResponse } from './from-converse.ts';
import { messageStart } from './stream-events.fixture.ts';
import { ToolNameMap } from './tool-names.ts';

const start = messageStart({
  input_tokens: 9,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
});

const ctx = () => ({
  messageId: 'msg_1',
  model: 'qwen',
  caps: { family: 'qwen' } as ModelCapabilities,
  toolNames: new ToolNameMap([]),
  signingSecret: 'k',
});

describe('foldStream', () => {
  it('accumulates blocks as the Anthropic SDK does, usage from message_delta over message_start', () => {
    const message = foldStream([
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'm.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_stop', index: 1 },
      {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 't', name: 'Read', input: {} },
      },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"a":' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '1}' } },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_creation_input_tokens: null,
          cache_read_input_tokens: 3,
        },
      },
      { type: 'message_stop' },
    ]);
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Hmm.', signature: 'sig' },
      { type: 'text', text: 'Hi' },
      { type: 'tool_use', id: 't', name: 'Read', input: { a: 1 } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toEqual({
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 3,
    });
  });

  it('refuses events that describe no message', () => {
    expect(() => foldStream([{ type: 'message_stop' }])).toThrow('before message_start');
    expect(() => foldStream([start, { type: 'content_block_stop', index: 4 }])).toThrow('no open block 4');
  });

  it("answers a model's broken tool input JSON as the upstream's fault (502), not a crash", () => {
    let thrown: unknown;
    try {
      foldStream([
        start,
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
        },
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '{"a": tru' },
        },
        { type: 'content_block_stop', index: 0 },
      ]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 502, type: 'api_error' });
  });
});

describe('one set of Converse response rules', () => {
  it('keeps cited text and its citations the same way streamed and not', () => {
    const citation = {
      title: 'Docs',
      source: 'https://docs.example',
      sourceContent: [{ text: 'Cited fact.' }],
      location: { searchResultLocation: { searchResultIndex: 0, start: 0, end: 1 } },
    };
    const translator = new ConverseStreamTranslator({ ...ctx(), inputTokensEstimate: 1 });
    const events = translator.start();
    const streamed: ConverseStreamOutput[] = [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Plain. ' } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { text: 'Cited fact.' } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { citation } } },
      {
        contentBlockDelta: {
          contentBlockIndex: 1,
          delta: { citation: { title: 'web', location: { web: {} } } },
        },
      },
      { contentBlockStop: { contentBlockIndex: 1 } },
      { messageStop: { stopReason: 'end_turn' } },
      { metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 1 } } },
    ];
    for (const event of streamed) events.push(...translator.push(event));
    events.push(...translator.end());

    const whole = translateConverseResponse(
      {
        $metadata: {},
        output: {
          message: {
            role: 'assistant',
            content: [
              { text: 'Plain. ' },
              {
                citationsContent: {
                  content: [{ text: 'Cited fact.' }],
                  citations: [citation, { title: 'web', location: { web: {} } }],
                },
              },
            ],
          },
        },
        stopReason: 'end_turn',
        usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
        metrics: { latencyMs: 1 },
      },
      ctx(),
    );
    const expected = [
      { type: 'text', text: 'Plain. ' },
      {
        type: 'text',
        text: 'Cited fact.',
        citations: [
          {
            type: 'search_result_location',
            cited_text: 'Cited fact.',
            search_result_index: 0,
            start_block_index: 0,
            end_block_index: 1,
            source: 'https://docs.example',
            title: 'Docs',
          },
        ],
      },
    ];
    expect(foldStream(events).content).toEqual(expected);
    expect(whole.result.content).toEqual(expected);
    // Only the web citation, which Anthropic has no form for, is reported.
    expect(translator.warnings).toEqual([CITATIONS_DROPPED]);
    expect(whole.warnings).toEqual([CITATIONS_DROPPED]);
  });
});
