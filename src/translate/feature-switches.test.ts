import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../anthropic/types.ts';
import { applyFeatureSwitches } from './feature-switches.ts';

const ALL_ON = {
  enableToolUse: true,
  enableExtendedThinking: true,
  enableDocumentSupport: true,
  promptCachingEnabled: true,
};

const request = (): MessagesRequest => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 4096,
  thinking: { type: 'enabled', budget_tokens: 2048 },
  system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
  tools: [{ name: 'Read', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
  tool_choice: { type: 'auto' },
  messages: [
    {
      role: 'user',
      content: [
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } },
        { type: 'text', text: 'summarise', cache_control: { type: 'ephemeral' } },
      ],
    },
  ],
});

describe('applyFeatureSwitches', () => {
  it('changes nothing when every feature is on', () => {
    const req = request();
    const { request: out, warnings } = applyFeatureSwitches(req, ALL_ON);
    expect(out).toEqual(req);
    expect(warnings).toEqual([]);
  });

  it('removes thinking, tools, documents and cache_control when switched off, without touching the input', () => {
    const req = request();
    const before = structuredClone(req);
    const { request: out, warnings } = applyFeatureSwitches(req, {
      enableToolUse: false,
      enableExtendedThinking: false,
      enableDocumentSupport: false,
      promptCachingEnabled: false,
    });
    expect(out.thinking).toBeUndefined();
    expect(out.tools).toBeUndefined();
    expect(out.tool_choice).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('cache_control');
    expect(out.messages[0]!.content).toEqual([{ type: 'text', text: 'summarise' }]);
    expect(warnings).toHaveLength(3);
    expect(req).toEqual(before);
  });

  it('keeps tools (minus cache_control) when only caching is off', () => {
    const { request: out } = applyFeatureSwitches(request(), { ...ALL_ON, promptCachingEnabled: false });
    expect(out.tools).toEqual([{ name: 'Read', input_schema: { type: 'object' } }]);
    expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });

  it('applies the switches inside tool results, and never leaves a turn empty', () => {
    const req: MessagesRequest = {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              content: [
                { type: 'text', text: 'out', cache_control: { type: 'ephemeral' } },
                { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } },
              ],
            },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } }],
        },
      ],
    };
    const { request: out, warnings } = applyFeatureSwitches(req, {
      ...ALL_ON,
      enableDocumentSupport: false,
      promptCachingEnabled: false,
    });
    expect(out.messages[1]!.content).toEqual([
      { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'out' }] },
    ]);
    expect(out.messages[2]!.content).toEqual([{ type: 'text', text: '(document omitted)' }]);
    expect(warnings).toEqual(['2 document(s) removed: documents are switched off (ENABLE_DOCUMENT_SUPPORT)']);
  });
});
