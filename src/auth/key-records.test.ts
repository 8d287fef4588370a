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
});
