import { describe, expect, it } from 'vitest';
import { boundText, MAX_RECORD_TEXT } from './bounds.ts';

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
