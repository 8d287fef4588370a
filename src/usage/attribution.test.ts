import { describe, expect, it } from 'vitest';
import { attributionOf, cleanLabel, MAX_ATTRIBUTION_ID, MAX_USER_ID } from './attribution.ts';

describe('attributionOf', () => {
  it('takes what Claude Code sends', () => {
    const userId =
      '{"device_id":"a1de","account_uuid":"","session_id":"ccbea37d-8128-423f-9b65-886da8c576ac"}';
    expect(
      attributionOf(
        {
          'x-claude-code-session-id': 'ccbea37d-8128-423f-9b65-886da8c576ac',
          'x-claude-code-agent-id': 'aae8ee539403d09f1',
          'x-claude-code-parent-agent-id': 'a0123456789abcdef',
        },
        userId,
      ),
    ).toEqual({
      sessionId: 'ccbea37d-8128-423f-9b65-886da8c576ac',
      agentId: 'aae8ee539403d09f1',
      parentAgentId: 'a0123456789abcdef',
      userId,
    });
  });

  it('leaves out what is absent, empty or not a string', () => {
    expect(attributionOf({ 'x-claude-code-session-id': '   ' }, 42)).toEqual({});
    expect(attributionOf({}, null)).toEqual({});
    expect(attributionOf({ 'x-claude-code-agent-id': ['a', 'b'] })).toEqual({});
  });

  it('bounds hostile lengths', () => {
    const out = attributionOf({ 'x-claude-code-session-id': 's'.repeat(100_000) }, 'u'.repeat(100_000));
    expect(out.sessionId).toHaveLength(MAX_ATTRIBUTION_ID);
    expect(out.sessionId!.endsWith('…')).toBe(true);
    expect(out.userId).toHaveLength(MAX_USER_ID);
  });
});

describe('cleanLabel', () => {
  it('replaces terminal controls, bidi overrides, line breaks and lone surrogates', () => {
    expect(cleanLabel('a\u001b[31mred\u009b2J')).toBe('a\uFFFD[31mred\uFFFD2J');
    expect(cleanLabel('evil\u202egnp.exe')).toBe('evil\uFFFDgnp.exe');
    expect(cleanLabel('two\r\nlines\u2028')).toBe('two\uFFFD\uFFFDlines\uFFFD');
    expect(cleanLabel('x\ud800y')).toBe('x\uFFFDy');
    expect(cleanLabel('tab\there')).toBe('tab\uFFFDhere');
  });

  it('keeps printable text, including non-Latin scripts and emoji', () => {
    expect(cleanLabel('sess-日本語-🚀')).toBe('sess-日本語-🚀');
  });

  it('never cuts an emoji in half', () => {
    const text = `${'a'.repeat(MAX_ATTRIBUTION_ID - 2)}🚀🚀`;
    const out = cleanLabel(text)!;
    expect(out.length).toBeLessThanOrEqual(MAX_ATTRIBUTION_ID);
    expect(out.isWellFormed()).toBe(true);
  });
});
