/**
 * A realistic Claude Code request through the real capability table and family parameters, checked
 * against the strict Bedrock emulator's request validation for Claude and for open models.
 */
import type { ContentBlock, ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { findModel } from '../../test/emulator/models.ts';
import { signClaudeThinking } from '../../test/emulator/signature.ts';
import { validateConverseRequest } from '../../test/emulator/validate-converse.ts';
import { capabilitiesFor } from '../models/capabilities.ts';
import { claudeCodeRequest } from './claude-code-request.fixture.ts';
import { signThinking } from './thinking-signature.ts';
import { type TranslatedRequest, toConverseRequest } from './to-converse.ts';

const SECRET = 'gateway-secret';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** The JSON body the SDK would send: bytes as base64, modelId in the URL instead. */
function wireBody(input: ConverseStreamCommandInput): unknown {
  const encode = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (Array.isArray(value)) return value.map(encode);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
    }
    return value;
  };
  const { modelId: _modelId, ...body } = input;
  return encode(body);
}

function translate(baseModelId: string, sign: (thinking: string) => string): TranslatedRequest {
  const request = claudeCodeRequest({ sign, pngBase64: PNG.toString('base64') });
  return toConverseRequest(request, {
    modelId: `us.${baseModelId}`,
    caps: capabilitiesFor(baseModelId),
    signingSecret: SECRET,
  });
}

function validate(baseModelId: string, out: TranslatedRequest): void {
  const model = findModel(baseModelId);
  if (!model) throw new Error(`emulator has no ${baseModelId}`);
  validateConverseRequest(wireBody(out.input), { model, stream: true });
}

const blocks = (out: TranslatedRequest): ContentBlock[] =>
  (out.input.messages ?? []).flatMap((m) => m.content ?? []);

describe('a Claude Code request', () => {
  describe.each(['anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-6'])(
    'to %s',
    (id) => {
      const out = translate(id, signClaudeThinking);

      it('passes Bedrock validation', () => {
        expect(() => validate(id, out)).not.toThrow();
      });

      it('replays the thinking with its signatures, each first in its turn', () => {
        const assistants = (out.input.messages ?? []).filter((m) => m.role === 'assistant');
        expect(assistants).toHaveLength(3);
        for (const turn of assistants) {
          expect(turn.content?.[0]?.reasoningContent?.reasoningText?.signature).toBeTruthy();
        }
        expect(out.input.additionalModelRequestFields).toHaveProperty('thinking');
      });

      it('keeps the system prompt without the billing line, and at most 4 cache points', () => {
        const system = out.input.system ?? [];
        expect(system.map((b) => b.text).filter(Boolean)).toEqual([
          "You are Claude Code, Anthropic's official CLI for Claude.",
          'You are an interactive CLI tool that helps users with software engineering tasks.',
        ]);
        const points = [...system, ...blocks(out), ...(out.input.toolConfig?.tools ?? [])].filter(
          (b) => b.cachePoint,
        );
        expect(points).toHaveLength(4);
      });

      it('sends every custom tool, deferred ones included, under names Bedrock accepts', () => {
        const specs = (out.input.toolConfig?.tools ?? []).flatMap((t) => (t.toolSpec ? [t.toolSpec] : []));
        expect(specs).toHaveLength(17);
        for (const spec of specs) expect(spec.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
        const back = specs.map((s) => out.toolNames.toAnthropic(s.name ?? ''));
        expect(back).toContain('mcp__github__get.issue');
        expect(back).toContain('mcp__db__query:readonly');
        expect(back).not.toContain('web_search');
        expect(out.input.toolConfig?.toolChoice).toEqual({ auto: {} });
      });

      it('keeps the reminder, the image, the empty result and the tool reference meaningful', () => {
        const all = blocks(out);
        expect(all.some((b) => b.text?.includes('TodoWrite tool'))).toBe(true);
        const results = all.flatMap((b) => (b.toolResult ? [b.toolResult] : []));
        expect(results.map((r) => r.content?.[0])).toEqual([
          { text: '1\texport function parse() {}' },
          { image: { format: 'png', source: { bytes: PNG } } },
          { text: `Tool available: ${out.input.toolConfig?.tools?.[12]?.toolSpec?.name}` },
          { text: '(empty)' },
        ]);
        expect(out.input.requestMetadata?.user_id).toMatch(/^[a-zA-Z0-9\s._:/=+$@-]{1,256}$/);
        expect(out.warnings.join('\n')).toMatch(/web_search[\s\S]*context_management/);
      });
    },
  );

  describe.each(['qwen.qwen3-coder-480b-a35b-v1:0', 'openai.gpt-oss-120b-1:0'])('to %s', (id) => {
    it('passes Bedrock validation with its own (gateway-signed) thinking in history', () => {
      const out = translate(id, (thinking) => signThinking(SECRET, thinking));
      expect(() => validate(id, out)).not.toThrow();
      // Neither model takes images: the screenshot becomes a note instead of failing the request.
      expect(blocks(out).some((b) => b.toolResult?.content?.[0]?.text?.includes('image omitted'))).toBe(true);
      expect(blocks(out).some((b) => b.cachePoint)).toBe(false);
    });

    it("passes Bedrock validation after a switch from Claude (Claude's thinking dropped)", () => {
      const out = translate(id, signClaudeThinking);
      expect(() => validate(id, out)).not.toThrow();
      expect(blocks(out).some((b) => b.reasoningContent)).toBe(false);
    });
  });

  it('to Claude after a switch from an open model: thinking switched off for the turn, still valid', () => {
    const id = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
    const out = translate(id, (thinking) => signThinking(SECRET, thinking));
    expect(() => validate(id, out)).not.toThrow();
    expect(out.input.additionalModelRequestFields ?? {}).not.toHaveProperty('thinking');
    expect(out.warnings.join()).toContain('thinking switched off');
  });
});
