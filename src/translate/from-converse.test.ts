import type { ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { ModelCapabilities } from '../models/types.ts';
import { fromConverseResponse, type ResponseContext, translateConverseResponse } from './from-converse.ts';
import { verifyThinking } from './thinking-signature.ts';
import { ToolNameMap } from './tool-names.ts';

const caps = { family: 'qwen' } as ModelCapabilities;

function ctx(): ResponseContext {
  return {
    messageId: 'msg_123',
    model: 'claude-sonnet-4-5',
    caps,
    toolNames: new ToolNameMap(['Read', 'mcp__github.create_issue']),
    signingSecret: 'secret',
  };
}

function output(
  content: NonNullable<NonNullable<ConverseCommandOutput['output']>['message']>['content'],
  extra: Partial<ConverseCommandOutput> = {},
): ConverseCommandOutput {
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: 'end_turn',
    usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    metrics: { latencyMs: 100 },
    $metadata: {},
    ...extra,
  };
}

describe('fromConverseResponse', () => {
  it('builds an Anthropic message with the gateway id and the requested model name', () => {
    const message = fromConverseResponse(output([{ text: 'Hello' }]), ctx());
    expect(message).toEqual({
      id: 'msg_123',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('drops empty text blocks', () => {
    const message = fromConverseResponse(output([{ text: '' }, { text: 'kept' }]), ctx());
    expect(message.content).toEqual([{ type: 'text', text: 'kept' }]);
  });

  it('turns toolUse into tool_use with the client’s own tool name', () => {
    const names = ctx().toolNames;
    const bedrockName = names.toBedrock('mcp__github.create_issue');
    const message = fromConverseResponse(
      output([{ toolUse: { toolUseId: 'tooluse_1', name: bedrockName, input: { title: 'Bug' } } }], {
        stopReason: 'tool_use',
      }),
      { ...ctx(), toolNames: names },
    );
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'tooluse_1', name: 'mcp__github.create_issue', input: { title: 'Bug' } },
    ]);
  });

  it('signs open-model reasoning with the gateway secret and puts it first', () => {
    const message = fromConverseResponse(
      output([{ text: 'Answer' }, { reasoningContent: { reasoningText: { text: 'Let me think.' } } }]),
      ctx(),
    );
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinking = message.content[0];
    if (thinking?.type !== 'thinking') throw new Error('expected thinking');
    expect(thinking.thinking).toBe('Let me think.');
    expect(verifyThinking('secret', 'Let me think.', thinking.signature)).toBe(true);
  });

  it('keeps Claude’s own reasoning signature untouched', () => {
    const message = fromConverseResponse(
      output([
        { reasoningContent: { reasoningText: { text: 'Hmm.', signature: 'EqQBCkYIBxgC' } } },
        { text: 'Hi' },
      ]),
      ctx(),
    );
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: 'Hmm.', signature: 'EqQBCkYIBxgC' });
  });

  it("returns Claude's redacted reasoning as base64 redacted_thinking, an open model's marked as its own", () => {
    const redacted = output([
      { reasoningContent: { redactedContent: new TextEncoder().encode('opaque') } },
      { text: 'Hi' },
    ]);
    const claude = fromConverseResponse(redacted, {
      ...ctx(),
      caps: { family: 'claude' } as ModelCapabilities,
    });
    expect(claude.content[0]).toEqual({
      type: 'redacted_thinking',
      data: Buffer.from('opaque').toString('base64'),
    });
    // Not base64 (the '.'), so never taken for Claude's: dropped if the conversation moves to Claude.
    expect(fromConverseResponse(redacted, ctx()).content[0]).toEqual({
      type: 'redacted_thinking',
      data: `abpr1.${Buffer.from('opaque').toString('base64')}`,
    });
  });

  it('fills stop_sequence only when Bedrock names the matched sequence', () => {
    const named = fromConverseResponse(
      output([{ text: '1, 2' }], {
        stopReason: 'stop_sequence',
        additionalModelResponseFields: { stop_sequence: ', 3' },
      }),
      ctx(),
    );
    expect(named).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: ', 3' });
    const unnamed = fromConverseResponse(output([{ text: '1, 2' }], { stopReason: 'stop_sequence' }), ctx());
    expect(unnamed).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: null });
  });

  it('reports guardrail and content-filter stops as refusal', () => {
    for (const stopReason of ['guardrail_intervened', 'content_filtered'] as const) {
      expect(fromConverseResponse(output([{ text: 'No.' }], { stopReason }), ctx()).stop_reason).toBe(
        'refusal',
      );
    }
  });

  it('maps cache usage exactly', () => {
    const message = fromConverseResponse(
      output([{ text: 'x' }], {
        usage: {
          inputTokens: 3,
          outputTokens: 2,
          totalTokens: 905,
          cacheReadInputTokens: 800,
          cacheWriteInputTokens: 100,
        },
      }),
      ctx(),
    );
    expect(message.usage).toEqual({
      input_tokens: 3,
      output_tokens: 2,
      cache_read_input_tokens: 800,
      cache_creation_input_tokens: 100,
    });
  });

  it("keeps cited text with Anthropic's citation, drops blocks Anthropic has no place for, and warns", () => {
    const { result, warnings } = translateConverseResponse(
      output([
        {
          citationsContent: {
            content: [{ text: 'Cited ' }, { text: 'fact.' }],
            citations: [
              {
                title: 'notes.txt',
                sourceContent: [{ text: 'fact' }],
                location: { documentChar: { documentIndex: 0, start: 10, end: 14 } },
              },
            ],
          },
        },
        { image: { format: 'png', source: { bytes: new Uint8Array([1]) } } },
      ]),
      ctx(),
    );
    expect(result.content).toEqual([
      {
        type: 'text',
        text: 'Cited fact.',
        citations: [
          {
            type: 'char_location',
            cited_text: 'fact',
            document_index: 0,
            document_title: 'notes.txt',
            start_char_index: 10,
            end_char_index: 14,
          },
        ],
      },
    ]);
    expect(warnings).toEqual([expect.stringContaining("'image'")]);
  });

  it('warns about an unknown stop reason instead of hiding it', () => {
    const { result, warnings } = translateConverseResponse(
      output([{ text: 'x' }], { stopReason: 'brand_new' as ConverseCommandOutput['stopReason'] }),
      ctx(),
    );
    expect(result.stop_reason).toBe('end_turn');
    expect(warnings).toEqual([expect.stringContaining('brand_new')]);
  });
});
