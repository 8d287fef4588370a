import { describe, expect, it } from 'vitest';
import { blockContext, CLAUDE, OPEN, SECRET, TEXT_ONLY } from './caps.fixture.ts';
import { convertRedactedThinking, convertThinking } from './reasoning.ts';
import { signThinking } from './thinking-signature.ts';

const CLAUDE_SIGNATURE = 'EqQBCkYIBxgCKkD0claude-signature';

describe('convertThinking', () => {
  it('replays Claude thinking with its signature to Claude', () => {
    const block = convertThinking(
      { type: 'thinking', thinking: 'plan', signature: CLAUDE_SIGNATURE },
      blockContext(CLAUDE),
    );
    expect(block).toEqual({
      reasoningContent: { reasoningText: { text: 'plan', signature: CLAUDE_SIGNATURE } },
    });
  });

  it('keeps Claude thinking whose text was omitted (display: omitted)', () => {
    const block = convertThinking(
      { type: 'thinking', thinking: '', signature: CLAUDE_SIGNATURE },
      blockContext(CLAUDE),
    );
    expect(block?.reasoningContent).toEqual({ reasoningText: { text: '', signature: CLAUDE_SIGNATURE } });
  });

  it('does not send reasoning the gateway signed for an open model to Claude', () => {
    const ctx = blockContext(CLAUDE);
    const thinking = 'open model thoughts';
    expect(
      convertThinking({ type: 'thinking', thinking, signature: signThinking(SECRET, thinking) }, ctx),
    ).toBeUndefined();
    expect(ctx.warnings.size).toBe(1);
  });

  it('replays reasoning this gateway signed to an open model, without the signature', () => {
    const thinking = 'step 1, step 2';
    const block = convertThinking(
      { type: 'thinking', thinking, signature: signThinking(SECRET, thinking) },
      blockContext(OPEN),
    );
    expect(block).toEqual({ reasoningContent: { reasoningText: { text: thinking } } });
  });

  it.each([
    ['edited text', 'changed thoughts', signThinking(SECRET, 'original thoughts')],
    ['another secret', 'thoughts', signThinking('other-secret', 'thoughts')],
    ["Claude's signature", 'thoughts', CLAUDE_SIGNATURE],
  ])('drops reasoning for an open model with %s', (_case, thinking, signature) => {
    const ctx = blockContext(OPEN);
    expect(convertThinking({ type: 'thinking', thinking, signature }, ctx)).toBeUndefined();
    expect(ctx.warnings.size).toBe(1);
  });

  it('drops reasoning for a model that takes no reasoning history', () => {
    const thinking = 'x';
    const ctx = blockContext(TEXT_ONLY);
    expect(
      convertThinking({ type: 'thinking', thinking, signature: signThinking(SECRET, thinking) }, ctx),
    ).toBeUndefined();
    expect(ctx.warnings.size).toBe(1);
  });
});

describe('convertRedactedThinking', () => {
  it('passes redacted reasoning to Claude as bytes', () => {
    const data = Buffer.from('encrypted').toString('base64');
    expect(convertRedactedThinking({ type: 'redacted_thinking', data }, blockContext(CLAUDE))).toEqual({
      reasoningContent: { redactedContent: Buffer.from('encrypted') },
    });
  });

  it('drops it for other models', () => {
    const ctx = blockContext(OPEN);
    expect(convertRedactedThinking({ type: 'redacted_thinking', data: 'AAAA' }, ctx)).toBeUndefined();
    expect(ctx.warnings.size).toBe(1);
  });
});
