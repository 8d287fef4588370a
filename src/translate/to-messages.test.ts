import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../anthropic/types.ts';
import { claudeFeaturesFor } from '../models/claude-features.ts';
import { claudeCodeRequest } from './claude-code-request.fixture.ts';
import { toMessagesApiBody } from './to-messages.ts';

const SONNET_4_5 = 'anthropic.claude-sonnet-4-5-20250929-v1:0';

function shape(req: MessagesRequest, betas: string[] = [], stream = false) {
  const result = toMessagesApiBody(req, {
    baseModelId: SONNET_4_5,
    betas,
    features: claudeFeaturesFor(SONNET_4_5),
    maxOutputTokens: 64_000,
    stream,
  });
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
}

const hi: MessagesRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'hi' }],
};

describe('toMessagesApiBody', () => {
  it('has no anthropic_version, model or betas in the body; stream only when streaming', () => {
    const plain = shape(hi, ['interleaved-thinking-2025-05-14']);
    expect(plain.json).toEqual({ max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.betas).toEqual(['interleaved-thinking-2025-05-14']);
    expect(shape(hi, [], true).json.stream).toBe(true);
  });

  it('filters betas by the same allow-list as InvokeModel', () => {
    const { betas, droppedBetas } = shape(hi, ['claude-code-20250219', 'context-1m-2025-08-07']);
    expect(betas).toEqual(['context-1m-2025-08-07']);
    expect(droppedBetas).toEqual(['claude-code-20250219']);
  });

  it('drops inference_geo, tool strict and server tools, each reported', () => {
    const req = {
      ...hi,
      inference_geo: 'us',
      tools: [
        { name: 'Read', input_schema: { type: 'object' }, strict: true },
        { type: 'web_fetch_20250910', name: 'web_fetch', input_schema: {} },
      ],
      tool_choice: { type: 'tool', name: 'web_fetch' },
    } as unknown as MessagesRequest;
    const { json, warnings } = shape(req);
    expect(json.inference_geo).toBeUndefined();
    expect(json.tools).toEqual([{ name: 'Read', input_schema: { type: 'object' } }]);
    // A choice naming a dropped tool would be refused.
    expect(json.tool_choice).toBeUndefined();
    for (const word of ['inference_geo', 'web_fetch', 'strict']) expect(warnings.join('\n')).toContain(word);
    // The client's request is not changed.
    expect((req.tools as unknown[]).length).toBe(2);
  });

  it('refuses output_config.format (the client would parse an answer that never saw the schema)', () => {
    const format = { type: 'json_schema' as const, schema: { type: 'object' } };
    expect(() => shape({ ...hi, output_config: { format } })).toThrow(
      /output_config\.format: .*Messages API.*takes no structured outputs/,
    );
  });

  it('keeps the billing line out, like every path', () => {
    const { body } = shape(claudeCodeRequest({ sign: () => 'sig', pngBase64: 'iVBORw0KGgo=' }));
    expect(body).not.toContain('x-anthropic-billing-header');
  });
});
