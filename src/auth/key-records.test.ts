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

  it('bounds model globs and limits far above real use (3,000 globs, a 1e308 budget were taken)', () => {
    expect(() => keyEdit({ models: Array.from({ length: 101 }, (_, i) => `m${i}.*`) })).toThrow(
      /at most 100 model globs \(got 101\)/,
    );
    expect(() => keyEdit({ models: ['x'.repeat(257)] })).toThrow(/at most 256 characters/);
    expect(() => keyEdit({ budgetUsd: 1e308 })).toThrow(/at most 1,000,000,000/);
    expect(() => keyEdit({ rateLimit: 1e21 })).toThrow(KeySpecError);
    expect(keyEdit({ rateLimit: 1_000_000_000, budgetUsd: 50_000 }).limits).toMatchObject({
      requestsPerMinute: 1_000_000_000,
      budgetUsd: 50_000,
    });
  });

  it('reads a cap on concurrent requests: a positive integer, from text or a number', () => {
    expect(keyEdit({ concurrentRequests: '8' }).limits.concurrentRequests).toBe(8);
    expect(keyEdit({ concurrentRequests: 3 }).limits.concurrentRequests).toBe(3);
    expect(keyEdit({ concurrentRequests: '' }).limits.concurrentRequests).toBeUndefined();
    for (const bad of ['0', '-1', '2.5', 'many', 1e10]) {
      expect(() => keyEdit({ concurrentRequests: bad })).toThrow(KeySpecError);
    }
  });

  it('reads limits written in decimal only: 0x10 is not 16 requests a minute', () => {
    expect(keyEdit({ rateLimit: ' 60 ', budgetUsd: '2.50' }).limits).toMatchObject({
      requestsPerMinute: 60,
      budgetUsd: 2.5,
    });
    for (const bad of ['0x10', '0b11', '0o17', '1_000']) {
      expect(() => keyEdit({ rateLimit: bad }), bad).toThrow(/--rate-limit|expected a positive integer/);
      expect(() => keyEdit({ budgetUsd: bad }), bad).toThrow(KeySpecError);
    }
  });

  it('refuses a web_search flag that is neither a boolean nor text (was a TypeError, a 500 in the admin API)', () => {
    for (const webSearch of [0, 1, 1.5, [], [true], {}, { on: true }]) {
      expect(() => keyEdit({ webSearch: webSearch as unknown as boolean })).toThrow(KeySpecError);
    }
    expect(keyEdit({ webSearch: 'off' }).limits.webTools).toBe(false);
  });
});
