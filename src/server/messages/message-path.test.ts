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
});
