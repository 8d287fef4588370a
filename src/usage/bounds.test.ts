import { describe, expect, it } from 'vitest';
import { boundText, MAX_CALL_TOKENS, MAX_RECORD_TEXT, tokenCount } from './bounds.ts';

describe('boundText', () => {
  it('keeps short text and cuts long text to the bound, marked', () => {
    expect(boundText('claude-sonnet-4-5')).toBe('claude-sonnet-4-5');
    const cut = boundText(`claude-sonnet-4-5[${'a'.repeat(420_000)}]`);
    expect(cut).toHaveLength(MAX_RECORD_TEXT);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('never leaves half of a surrogate pair', () => {
    const cut = boundText(`${'a'.repeat(4)}😀😀😀`, 6);
    expect(cut).toBe('aaaa…');
    expect(boundText('😀'.repeat(10), 6)).toBe('😀😀…');
  });
});

describe('tokenCount', () => {
  it('keeps whole counts and makes anything else one a budget can hold', () => {
    expect(tokenCount(1234)).toBe(1234);
    expect(tokenCount(0)).toBe(0);
    expect(tokenCount(12.7)).toBe(12);
    for (const bad of [-5, Number.NaN, Number.NEGATIVE_INFINITY, '12', null, undefined, {}]) {
      expect(tokenCount(bad)).toBe(0);
    }
    expect(tokenCount(1e20)).toBe(MAX_CALL_TOKENS);
    expect(tokenCount(Number.POSITIVE_INFINITY)).toBe(0);
  });
});
