import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';
import {
  base62,
  checkImportableKey,
  displayPrefix,
  generateKey,
  hashKey,
  newKeyId,
  sameHash,
} from './key-format.ts';
import { modelAllowed, parseModelGlobs } from './model-globs.ts';

describe('key format', () => {
  it('makes abp_ keys of 43 base62 characters that differ every time', () => {
    const keys = new Set(Array.from({ length: 200 }, generateKey));
    expect(keys.size).toBe(200);
    for (const key of keys) {
      expect(key).toMatch(/^abp_[0-9A-Za-z]{43}$/);
      expect(checkImportableKey(key)).toBeUndefined();
    }
    expect(newKeyId()).toMatch(/^key_[0-9A-Za-z]{15}$/);
  });

  it('encodes the extremes of 32 bytes within the fixed width', () => {
    expect(base62(new Uint8Array(32), 43)).toBe('0'.repeat(43));
    expect(base62(new Uint8Array(32).fill(255), 43)).toHaveLength(43);
  });

  it('accepts seed sk- keys and refuses anything else', () => {
    expect(checkImportableKey('sk-0123456789abcdef')).toBeUndefined();
    for (const bad of ['sk-short', 'abp_tooShort', 'hello', 'sk-has space in it 12345'])
      expect(checkImportableKey(bad)).toBeDefined();
  });

  it('hashes with SHA-256, keeps a short display prefix, compares hashes exactly', () => {
    const key = generateKey();
    expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(key)).not.toBe(hashKey(`${key}x`));
    expect(displayPrefix(key)).toBe(key.slice(0, 12));
    expect(displayPrefix('sk-abcdefghijklmnop')).toBe('sk-abcdefgh');
    expect(sameHash(hashKey(key), hashKey(key))).toBe(true);
    expect(sameHash(hashKey(key), hashKey('other'))).toBe(false);
    expect(sameHash(hashKey(key), '')).toBe(false);
  });
});

describe('durations and model globs', () => {
  it('parses 30d, 12h, 90m, 2w and refuses the rest', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    for (const bad of ['0d', '1y', 'soon', '', '-1d']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('refuses durations over 100 years, whose dates ISO 8601 parsers refuse (+021192-…)', () => {
    expect(parseDuration('36500d')).toBe(36_500 * 86_400_000);
    expect(parseDuration('5200w')).toBe(5_200 * 604_800_000);
    for (const long of ['36501d', '999999w', '999999d']) expect(parseDuration(long), long).toBeUndefined();
  });

  it('matches any of the names a model goes by, case-insensitively, with * and ?', () => {
    const globs = parseModelGlobs(' claude-* , qwen.qwen3-?2b*,');
    expect(globs).toEqual(['claude-*', 'qwen.qwen3-?2b*']);
    expect(modelAllowed(globs, ['Claude-Sonnet-4-5'])).toBe(true);
    expect(modelAllowed(globs, ['qwen.qwen3-32b-v1:0'])).toBe(true);
    expect(modelAllowed(globs, ['qwen.qwen3-coder-480b-a35b-v1:0'])).toBe(false);
    expect(
      modelAllowed(['anthropic.*'], ['claude-sonnet-4-6', 'us.anthropic.claude-x', 'anthropic.claude-x']),
    ).toBe(true);
    expect(modelAllowed(['a.b'], ['aXb'])).toBe(false);
    expect(modelAllowed(undefined, ['anything'])).toBe(true);
  });
});
