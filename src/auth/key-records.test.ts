import { describe, expect, it } from 'vitest';
import { KeySpecError, keyEdit } from './key-records.ts';

describe('keyEdit', () => {
  it('reads model globs from text or a list of text', () => {
    expect(keyEdit({ models: 'claude-*, qwen.*' }).models).toEqual(['claude-*', 'qwen.*']);
    expect(keyEdit({ models: [' claude-* ', 'qwen.*'] }).models).toEqual(['claude-*', 'qwen.*']);
  });

  it('refuses models that are not text (a JSON caller may send anything, e.g. deeply nested lists)', () => {
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    for (const models of [deep, [1, 2], [{ a: 'b' }], { glob: 'claude-*' }]) {
      expect(() => keyEdit({ models: models as string[] })).toThrow(KeySpecError);
    }
  });

  it('refuses a web_search flag that is neither a boolean nor text (was a TypeError, a 500 in the admin API)', () => {
    for (const webSearch of [0, 1, 1.5, [], [true], {}, { on: true }]) {
      expect(() => keyEdit({ webSearch: webSearch as unknown as boolean })).toThrow(KeySpecError);
    }
    expect(keyEdit({ webSearch: 'off' }).limits.webTools).toBe(false);
  });
});
