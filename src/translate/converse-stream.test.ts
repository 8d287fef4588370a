import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { apiErrorOf } from '../anthropic/api-error.fixture.ts';
import type { StreamEvent } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { BEDROCK_ERRORS, fromBedrockError } from '../upstream/aws-errors.ts';
import { ConverseStreamTranslator, type StreamContext } from './converse-stream.ts';
import { verifyThinking } from './thinking-signature.ts';
import { ToolNameMap } from './tool-names.ts';

function ctx(): StreamContext {
  return {
    messageId: 'msg_s1',
    model: 'claude-opus-4-5',
    caps: { family: 'deepseek' } as ModelCapabilities,
    toolNames: new ToolNameMap(['Bash']),
    signingSecret: 'k',
    inputTokensEstimate: 42,
  };
}

const text = (t: string, i = 0): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: i, delta: { text: t } },
});
const stop = (i = 0): ConverseStreamOutput => ({ contentBlockStop: { contentBlockIndex: i } });
const messageStop = (stopReason = 'end_turn'): ConverseStreamOutput => ({
  messageStop: { stopReason: stopReason as 'end_turn' },
});
const metadata = (inputTokens = 10, outputTokens = 3): ConverseStreamOutput => ({
  metadata: {
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    metrics: { latencyMs: 1 },
  },
});
const toolStart = (i: number, id: string, name: string): ConverseStreamOutput => ({
  contentBlockStart: { contentBlockIndex: i, start: { toolUse: { toolUseId: id, name } } },
});
const toolInput = (i: number, input: string): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: i, delta: { toolUse: { input } } },
});

function run(
  events: ConverseStreamOutput[],
  translator = new ConverseStreamTranslator(ctx()),
): StreamEvent[] {
  const out = [...translator.start()];
  for (const event of events) out.push(...translator.push(event));
  out.push(...translator.end());
  return out;
}

const types = (events: StreamEvent[]) => events.map((e) => e.type);

describe('ConverseStreamTranslator', () => {
  it('starts with message_start carrying the input estimate and the requested model', () => {
    const [start] = new ConverseStreamTranslator(ctx()).start();
    expect(start).toMatchObject({
      type: 'message_start',
      message: {
        id: 'msg_s1',
        model: 'claude-opus-4-5',
        content: [],
        stop_reason: null,
        usage: { input_tokens: 42 },
      },
    });
  });

  it('holds message_delta until metadata brings usage, then ends with message_stop', () => {
    const translator = new ConverseStreamTranslator(ctx());
    translator.start();
    translator.push({ messageStart: { role: 'assistant' } });
    translator.push(text('Hi'));
    expect(types(translator.push(messageStop()))).toEqual(['content_block_stop']);
    const tail = translator.push(metadata(11, 2));
    expect(tail).toEqual([
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: {
          input_tokens: 11,
          output_tokens: 2,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
      { type: 'message_stop' },
    ]);
    expect(translator.end()).toEqual([]);
  });

  it('opens a text block on the first delta when Bedrock sends no contentBlockStart', () => {
    const out = run([text('a'), text('b'), stop(), messageStop(), metadata()]);
    expect(out.slice(1, 5)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'b' } },
      { type: 'content_block_stop', index: 0 },
    ]);
  });

  it('never emits an empty text block', () => {
    const out = run([
      text('', 0),
      stop(0),
      toolStart(1, 't1', 'Bash'),
      stop(1),
      messageStop('tool_use'),
      metadata(),
    ]);
    expect(out.filter((e) => e.type === 'content_block_start')).toEqual([
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't1', name: 'Bash', input: {} },
      },
    ]);
  });

  it('numbers Anthropic blocks 0..n whatever Bedrock’s contentBlockIndex is', () => {
    const out = run([
      text('x', 3),
      stop(3),
      toolStart(7, 't', 'Bash'),
      toolInput(7, '{}'),
      stop(7),
      messageStop(),
      metadata(),
    ]);
    const indexes = out.flatMap((e) => ('index' in e ? [e.index] : []));
    expect(indexes).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('closes a block Bedrock never stopped when the next one begins, and ignores its late stop', () => {
    const out = run([text('a', 0), toolStart(1, 't', 'Bash'), stop(0), stop(1), messageStop(), metadata()]);
    expect(types(out)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('splits reasoning and text arriving under one Bedrock index into two blocks', () => {
    const out = run([
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'think' } } } },
      text('answer', 0),
      stop(0),
      messageStop(),
      metadata(),
    ]);
    const starts = out.filter((e) => e.type === 'content_block_start');
    expect(starts.map((e) => [e.index, e.content_block.type])).toEqual([
      [0, 'thinking'],
      [1, 'text'],
    ]);
    const signature = out.find((e) => e.type === 'content_block_delta' && e.delta.type === 'signature_delta');
    expect(signature).toMatchObject({ index: 0 });
    if (signature?.type !== 'content_block_delta' || signature.delta.type !== 'signature_delta')
      throw new Error();
    expect(verifyThinking('k', 'think', signature.delta.signature)).toBe(true);
  });

  it('sends one signature_delta with Claude’s signature even when it arrives in pieces', () => {
    const reasoning = (r: { text: string } | { signature: string }): ConverseStreamOutput => ({
      contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: r } },
    });
    const out = run([
      reasoning({ text: 't' }),
      reasoning({ signature: 'AB' }),
      reasoning({ signature: 'CD' }),
      stop(),
      messageStop(),
      metadata(),
    ]);
    const signatures = out.filter(
      (e) => e.type === 'content_block_delta' && e.delta.type === 'signature_delta',
    );
    expect(signatures).toEqual([
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'ABCD' } },
    ]);
  });

  it('keeps stop_sequence when Claude names it', () => {
    const out = run([
      text('1, 2'),
      {
        messageStop: {
          stopReason: 'stop_sequence',
          additionalModelResponseFields: { delta: { stop_sequence: ', 3' } },
        },
      },
      metadata(),
    ]);
    expect(out.at(-2)).toMatchObject({
      type: 'message_delta',
      delta: { stop_reason: 'stop_sequence', stop_sequence: ', 3' },
    });
  });

  it("an open model's stop on the request's only stop sequence names it; with several it stays null", () => {
    const stop = { messageStop: { stopReason: 'stop_sequence' as const } };
    const one = run(
      [text('1, 2'), stop, metadata()],
      new ConverseStreamTranslator({ ...ctx(), stopSequences: ['###'] }),
    );
    expect(one.at(-2)).toMatchObject({ delta: { stop_reason: 'stop_sequence', stop_sequence: '###' } });
    const two = run(
      [text('1, 2'), stop, metadata()],
      new ConverseStreamTranslator({ ...ctx(), stopSequences: ['###', 'END'] }),
    );
    expect(two.at(-2)).toMatchObject({ delta: { stop_reason: 'stop_sequence', stop_sequence: null } });
  });

  it('reports tool_use for a message with tool calls that Bedrock ended with end_turn (gpt-oss), and says so', () => {
    const translator = new ConverseStreamTranslator(ctx());
    const out = run(
      [
        toolStart(0, 'tooluse_1', 'Bash'),
        toolInput(0, '{"command":"ls"}'),
        stop(0),
        messageStop('end_turn'),
        metadata(),
      ],
      translator,
    );
    expect(out.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' } });
    expect(translator.warnings).toEqual([expect.stringContaining('end_turn for a message with tool calls')]);
  });

  it('reports end_turn for a text-only message that Bedrock ended with tool_use', () => {
    const out = run([text('All done.'), stop(), messageStop('tool_use'), metadata()]);
    expect(out.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'end_turn' } });
    const withTool = run([
      text('Listing.'),
      stop(),
      toolStart(1, 'tooluse_2', 'Bash'),
      stop(1),
      messageStop('tool_use'),
      metadata(),
    ]);
    expect(withTool.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' } });
    const cut = run([
      toolStart(0, 'tooluse_3', 'Bash'),
      toolInput(0, '{"comm'),
      messageStop('max_tokens'),
      metadata(),
    ]);
    expect(cut.at(-2)).toMatchObject({ delta: { stop_reason: 'max_tokens' } });
    // A call Bedrock calls malformed is not one to run.
    const malformed = run([
      toolStart(0, 'tooluse_4', 'Bash'),
      toolInput(0, '{"comm'),
      stop(0),
      messageStop('malformed_tool_use'),
      metadata(),
    ]);
    expect(malformed.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' } });
  });

  it('finishes at end() with estimated usage when metadata never came, and says so', () => {
    const translator = new ConverseStreamTranslator(ctx());
    const out = run([text('12345678'), messageStop('max_tokens')], translator);
    expect(out.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: {
        input_tokens: 42,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(translator.usageIsExact).toBe(false);
    expect(translator.warnings).toEqual([expect.stringContaining('without metadata')]);
  });

  it('estimates a cut answer in another script as the input estimate counts it: a token a character', () => {
    const translator = new ConverseStreamTranslator(ctx());
    translator.start();
    translator.push(text('中文回答'.repeat(25)));
    // 100 CJK characters: 4 characters a token would bill a quarter of what the prompt estimate counts.
    expect(translator.usage().output_tokens).toBe(100);
  });

  it('accepts metadata before messageStop', () => {
    const out = run([text('x'), metadata(5, 1), messageStop()]);
    expect(out.at(-2)).toMatchObject({ type: 'message_delta', usage: { input_tokens: 5, output_tokens: 1 } });
  });

  it('reports usage seen so far for a client that disconnects mid-stream', () => {
    const translator = new ConverseStreamTranslator(ctx());
    translator.start();
    translator.push(text('a'.repeat(40)));
    expect(translator.usage()).toMatchObject({ input_tokens: 42, output_tokens: 10 });
    expect(translator.usageIsExact).toBe(false);
    translator.push(messageStop());
    translator.push({
      metadata: {
        usage: { inputTokens: 30, outputTokens: 12, totalTokens: 42, cacheReadInputTokens: 5 },
        metrics: { latencyMs: 1 },
      },
    });
    expect(translator.usage()).toEqual({
      input_tokens: 30,
      output_tokens: 12,
      cache_read_input_tokens: 5,
      cache_creation_input_tokens: 0,
    });
    expect(translator.usageIsExact).toBe(true);
  });

  it.each([
    'throttlingException',
    'serviceUnavailableException',
    'modelNotReadyException',
    'modelTimeoutException',
    'modelStreamErrorException',
    'internalServerException',
    'validationException',
  ])('throws %s as the fault table says, as if it came before the stream', (member) => {
    const translator = new ConverseStreamTranslator(ctx());
    translator.start();
    translator.push(text('partial'));
    let thrown: unknown;
    try {
      translator.push({ [member]: { message: 'boom' } } as unknown as ConverseStreamOutput);
    } catch (err) {
      thrown = err;
    }
    const err = fromBedrockError(thrown);
    const row = BEDROCK_ERRORS[member[0]!.toUpperCase() + member.slice(1)]!;
    expect({ status: err.status, type: err.type }).toEqual({ status: row.status, type: row.type });
    expect(err.message).toContain('boom');
  });

  it.each([
    ['a delta for a closed block', [text('a', 0), stop(0), text('b', 0)]],
    ['tool input without contentBlockStart', [toolInput(0, '{}')]],
    ['text inside a tool_use block', [toolStart(0, 't', 'Bash'), text('x', 0)]],
    ['a content event after messageStop', [text('a'), messageStop(), text('b', 1)]],
    ['an event after message_stop', [messageStop(), metadata(), metadata()]],
    ['a repeated tool start', [toolStart(0, 't', 'Bash'), toolStart(0, 't', 'Bash')]],
  ])('rejects %s with api_error', (_what, events) => {
    const translator = new ConverseStreamTranslator(ctx());
    translator.start();
    const err = apiErrorOf(() => {
      for (const event of events) translator.push(event);
    });
    expect(err.type).toBe('api_error');
  });

  it('fails at end() when Bedrock never sent messageStop, rather than inventing a stop reason', () => {
    const translator = new ConverseStreamTranslator(ctx());
    translator.start();
    translator.push(text('cut'));
    expect(apiErrorOf(() => translator.end()).message).toMatch(/before messageStop/);
  });

  it('ignores unknown events and deltas with a warning', () => {
    const translator = new ConverseStreamTranslator(ctx());
    const out = run(
      [
        { $unknown: ['newThing', {}] },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { citation: { title: 'doc' } } } },
        text('ok'),
        messageStop(),
        metadata(),
      ],
      translator,
    );
    expect(types(out)).toContain('message_stop');
    expect(translator.warnings).toEqual([
      expect.stringContaining('newThing'),
      expect.stringContaining('citation'),
    ]);
  });
});
