import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { ModelCapabilities } from '../models/types.ts';
import { converseResponseAsStream } from './converse-as-stream.ts';
import { ConverseStreamTranslator } from './converse-stream.ts';
import { foldStream } from './fold-stream.ts';
import { fromConverseResponse, type ResponseContext } from './from-converse.ts';
import { ToolNameMap } from './tool-names.ts';

function context(): ResponseContext {
  return {
    messageId: 'msg_1',
    model: 'meta.llama4-maverick-17b-instruct-v1:0',
    caps: { family: 'llama' } as ModelCapabilities,
    toolNames: new ToolNameMap(['Read']),
    signingSecret: 'k',
  };
}

describe('converseResponseAsStream', () => {
  it('streams the same message, tool call and usage that the non-streaming answer holds', () => {
    const response = {
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'Read the file first.' } } },
            { text: 'Let me look.' },
            { toolUse: { toolUseId: 'tooluse_1', name: 'Read', input: { file_path: '/tmp/a b.txt' } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 },
      metrics: { latencyMs: 5 },
    } as ConverseResponse;

    const translator = new ConverseStreamTranslator({ ...context(), inputTokensEstimate: 100 });
    const events = [...translator.start()];
    for (const event of converseResponseAsStream(response).result) events.push(...translator.push(event));
    events.push(...translator.end());

    const whole = fromConverseResponse({ ...response, $metadata: {} }, context());
    const streamed = foldStream(events);
    expect(streamed.content).toEqual(whole.content);
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.usage).toMatchObject({ output_tokens: 30 });
    expect(events.at(-1)?.type).toBe('message_stop');
  });

  it('bills a replay cut after its first block exactly: Bedrock made (and billed) the whole answer', () => {
    const response = {
      output: { message: { role: 'assistant', content: [{ text: 'a'.repeat(400) }, { text: 'b' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 120, outputTokens: 101, totalTokens: 221 },
      metrics: { latencyMs: 5 },
    } as ConverseResponse;
    const translator = new ConverseStreamTranslator({ ...context(), inputTokensEstimate: 100 });
    translator.start();
    const replay = converseResponseAsStream(response).result;
    // The client hangs up after the first text delta.
    for (const event of replay.slice(0, replay.findIndex((e) => e.contentBlockDelta) + 1))
      translator.push(event);
    expect(translator.usageIsEstimated).toBe(false);
    expect(translator.usage()).toMatchObject({ input_tokens: 120, output_tokens: 101 });
  });

  it('skips empty text and still ends the message', () => {
    const events = converseResponseAsStream({
      output: { message: { role: 'assistant', content: [{ text: '' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 1, outputTokens: 0, totalTokens: 1 },
      metrics: { latencyMs: 1 },
    } as ConverseResponse);
    expect(events.result.map((e) => Object.keys(e)[0])).toEqual(['messageStart', 'metadata', 'messageStop']);
  });
});
