import { describe, expect, it } from 'vitest';
import {
  canonicalClaudeId,
  claudeAlias,
  claudeDisplayName,
  geoPrefixesFor,
  isClaudeLike,
  parseBedrockClaudeId,
  parseClientClaudeName,
} from './aliases.ts';

describe('parseClientClaudeName', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', { tier: 'sonnet', version: [4, 5], date: '20250929' }],
    ['claude-sonnet-4-5', { tier: 'sonnet', version: [4, 5], date: null }],
    ['claude-opus-5-5', { tier: 'opus', version: [5, 5], date: null }],
    ['claude-sonnet-4-0', { tier: 'sonnet', version: [4, 0], date: null }],
    ['claude-sonnet-4', { tier: 'sonnet', version: [4, 0], date: null }],
    ['claude-3-7-sonnet-latest', { tier: 'sonnet', version: [3, 7], date: null }],
    ['claude-3-5-haiku-20241022', { tier: 'haiku', version: [3, 5], date: '20241022' }],
    ['claude-3-haiku-20240307', { tier: 'haiku', version: [3, 0], date: '20240307' }],
    ['claude-haiku-4-5', { tier: 'haiku', version: [4, 5], date: null }],
    ['claude-fable-5-1', { tier: 'fable', version: [5, 1], date: null }],
    ['claude-sonnet-4.5', { tier: 'sonnet', version: [4, 5], date: null }],
    ['claude-sonnet-4-5[1m]', { tier: 'sonnet', version: [4, 5], date: null }],
    ['Sonnet', { tier: 'sonnet', version: null, date: null }],
  ])('%s', (name, expected) => {
    expect(parseClientClaudeName(name)).toMatchObject(expected);
  });

  it('rejects names that are not Claude names', () => {
    expect(parseClientClaudeName('claude-')).toBeNull();
    expect(parseClientClaudeName('claude-sonnet-x')).toBeNull();
    expect(parseClientClaudeName('gpt-4o')).toBeNull();
  });
});

describe('parseBedrockClaudeId', () => {
  it('reads dated, versioned and bare Bedrock ids', () => {
    expect(parseBedrockClaudeId('anthropic.claude-3-5-sonnet-20241022-v2:0')).toMatchObject({
      tier: 'sonnet',
      version: [3, 5],
      date: '20241022',
      revision: 2,
    });
    expect(parseBedrockClaudeId('anthropic.claude-opus-4-6-v1')).toMatchObject({
      tier: 'opus',
      version: [4, 6],
      date: null,
    });
    expect(parseBedrockClaudeId('anthropic.claude-opus-5-5')).toMatchObject({
      tier: 'opus',
      version: [5, 5],
    });
    expect(parseBedrockClaudeId('anthropic.claude-3-haiku-20240307-v1:0:200k')).toMatchObject({
      tier: 'haiku',
    });
    expect(parseBedrockClaudeId('meta.llama3-70b-instruct-v1:0')).toBeNull();
  });
});

describe('names for listing', () => {
  it('spells ids the way the Anthropic API does', () => {
    const sonnet4 = parseBedrockClaudeId('anthropic.claude-sonnet-4-20250514-v1:0')!;
    expect(canonicalClaudeId(sonnet4)).toBe('claude-sonnet-4-20250514');
    expect(claudeAlias(sonnet4)).toBe('claude-sonnet-4-0');
    const sonnet37 = parseBedrockClaudeId('anthropic.claude-3-7-sonnet-20250219-v1:0')!;
    expect(canonicalClaudeId(sonnet37)).toBe('claude-3-7-sonnet-20250219');
    expect(claudeAlias(sonnet37)).toBe('claude-3-7-sonnet');
    const haiku3 = parseBedrockClaudeId('anthropic.claude-3-haiku-20240307-v1:0')!;
    expect(claudeAlias(haiku3)).toBe('claude-3-haiku');
    expect(canonicalClaudeId(parseBedrockClaudeId('anthropic.claude-opus-4-6-v1')!)).toBe('claude-opus-4-6');
  });

  it('makes readable display names', () => {
    expect(claudeDisplayName(parseBedrockClaudeId('anthropic.claude-3-5-sonnet-20241022-v2:0')!)).toBe(
      'Claude 3.5 Sonnet',
    );
    expect(claudeDisplayName(parseBedrockClaudeId('anthropic.claude-3-haiku-20240307-v1:0')!)).toBe(
      'Claude 3 Haiku',
    );
    expect(claudeDisplayName(parseBedrockClaudeId('anthropic.claude-sonnet-4-20250514-v1:0')!)).toBe(
      'Claude Sonnet 4',
    );
    expect(claudeDisplayName(parseBedrockClaudeId('anthropic.claude-opus-4-6-v1')!)).toBe('Claude Opus 4.6');
  });
});

describe('isClaudeLike / geoPrefixesFor', () => {
  it('only treats client-style Claude names as aliases', () => {
    expect(isClaudeLike('claude-opus-5-5')).toBe(true);
    expect(isClaudeLike('opus')).toBe(true);
    expect(isClaudeLike('us.anthropic.claude-opus-4-6-v1')).toBe(false);
    expect(isClaudeLike('anthropic.claude-opus-4-6-v1')).toBe(false);
    expect(isClaudeLike('qwen.qwen3-coder-480b-a35b-v1:0')).toBe(false);
  });

  it('picks the geo profile prefixes of a region', () => {
    expect(geoPrefixesFor('us-west-2')).toEqual(['us']);
    expect(geoPrefixesFor('eu-central-1')).toEqual(['eu']);
    expect(geoPrefixesFor('ap-south-1')).toEqual(['apac']);
    expect(geoPrefixesFor('ap-northeast-1')).toEqual(['jp', 'apac']);
    expect(geoPrefixesFor('us-gov-west-1')).toEqual(['us-gov']);
    expect(geoPrefixesFor('sa-east-1')).toEqual([]);
  });
});
