import { describe, expect, it } from 'vitest';
import { CLAUDE, OPEN } from './caps.fixture.ts';
import { convertSystem, textAndCachePoints } from './system.ts';

const cache = { type: 'ephemeral' as const };

describe('convertSystem', () => {
  it('takes a string, and drops a blank one', () => {
    expect(convertSystem('be brief', CLAUDE)).toEqual([{ text: 'be brief' }]);
    expect(convertSystem(' \n', CLAUDE)).toEqual([]);
    expect(convertSystem(undefined, CLAUDE)).toEqual([]);
  });

  it('keeps text blocks with a cache point after each marked one, where the model caches', () => {
    const system = [
      { type: 'text' as const, text: 'You are Claude Code.', cache_control: cache },
      { type: 'text' as const, text: '' },
      { type: 'text' as const, text: 'Rules…', cache_control: cache },
    ];
    expect(convertSystem(system, CLAUDE)).toEqual([
      { text: 'You are Claude Code.' },
      { cachePoint: { type: 'default' } },
      { text: 'Rules…' },
      { cachePoint: { type: 'default' } },
    ]);
    expect(convertSystem(system, OPEN)).toEqual([{ text: 'You are Claude Code.' }, { text: 'Rules…' }]);
  });

  it("leaves out Claude Code's per-session billing line, which would defeat prompt caching", () => {
    const system = [
      {
        type: 'text' as const,
        text: 'x-anthropic-billing-header: cc_version=2.1.331.a1b; cc_entrypoint=cli;',
      },
      { type: 'text' as const, text: 'You are Claude Code.' },
    ];
    expect(convertSystem(system, CLAUDE)).toEqual([{ text: 'You are Claude Code.' }]);
  });

  it('converts between system and message blocks without losing text or cache points', () => {
    const blocks = [{ text: 'a' }, { cachePoint: { type: 'default' as const } }];
    expect(textAndCachePoints(textAndCachePoints(blocks))).toEqual(blocks);
  });
});
