import { describe, expect, it } from 'vitest';
import { messagePath } from './message-path.ts';

const claude = {
  caps: { family: 'claude' as const },
  modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
  baseModelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
};
const qwen = { caps: { family: 'qwen' as const }, modelId: 'qwen.x', baseModelId: 'qwen.x' };

describe('messagePath', () => {
  it('Claude follows ABPROXY_CLAUDE_PATH; other families always Converse', () => {
    for (const path of ['invoke', 'converse', 'messages', 'mantle'] as const) {
      expect(messagePath({ claudePath: path }, claude)).toBe(path);
      expect(messagePath({ claudePath: path }, qwen)).toBe('converse');
    }
  });

  it('a per-model glob wins, matched on the client name, the Bedrock id or the base id', () => {
    const config = { claudePath: 'invoke' as const, claudePaths: { 'claude-haiku*': 'mantle' as const } };
    expect(messagePath(config, claude, 'claude-haiku-4-5')).toBe('mantle');
    expect(messagePath({ ...config, claudePaths: { '*haiku-4-5-2025*': 'messages' } }, claude)).toBe(
      'messages',
    );
    expect(
      messagePath(
        config,
        { ...claude, modelId: 'us.anthropic.claude-sonnet-4-5', baseModelId: 'x' },
        'sonnet',
      ),
    ).toBe('invoke');
    expect(messagePath({ ...config, claudePaths: { '*': 'mantle' } }, qwen)).toBe('converse');
  });

  describe('the host that serves the model (servedBy, from the cached catalogues)', () => {
    const opus55 = {
      caps: { family: 'claude' as const },
      modelId: 'anthropic.claude-opus-5-5',
      baseModelId: 'anthropic.claude-opus-5-5',
      servedBy: 'mantle' as const,
    };
    const runtimeOnly = { ...claude, servedBy: 'runtime' as const };

    it('sends a model only mantle serves to mantle, whatever ABPROXY_CLAUDE_PATH says', () => {
      for (const path of ['invoke', 'converse', 'messages', 'mantle'] as const) {
        expect(messagePath({ claudePath: path }, opus55, 'claude-opus-5-5')).toBe('mantle');
      }
    });

    it('sends a model the mantle list lacks to InvokeModel when ABPROXY_CLAUDE_PATH=mantle', () => {
      expect(messagePath({ claudePath: 'mantle' }, runtimeOnly)).toBe('invoke');
      for (const path of ['invoke', 'converse', 'messages'] as const) {
        expect(messagePath({ claudePath: path }, runtimeOnly)).toBe(path);
      }
    });

    it('follows ABPROXY_CLAUDE_PATH where both hosts serve the model or nothing is known', () => {
      for (const path of ['invoke', 'converse', 'messages', 'mantle'] as const) {
        expect(messagePath({ claudePath: path }, claude)).toBe(path);
      }
    });

    it('never overrides an ABPROXY_CLAUDE_PATHS entry, and never touches other families', () => {
      const told = { claudePath: 'invoke' as const, claudePaths: { '*opus-5-5*': 'converse' as const } };
      expect(messagePath(told, opus55, 'claude-opus-5-5')).toBe('converse');
      expect(messagePath({ claudePath: 'mantle', claudePaths: { '*haiku*': 'mantle' } }, runtimeOnly)).toBe(
        'mantle',
      );
      // An entry for another model leaves the automatic choice to this one.
      expect(messagePath(told, { ...opus55, modelId: 'anthropic.claude-fable-9', baseModelId: 'x' })).toBe(
        'mantle',
      );
      expect(messagePath({ claudePath: 'invoke' }, { ...qwen, servedBy: 'mantle' as const })).toBe(
        'converse',
      );
    });
  });
});
