import { describe, expect, it } from 'vitest';
import { CLAUDE_FEATURE_TABLE, claudeFeaturesFor, mergeClaudeFeatureOverrides } from './claude-features.ts';

describe('claudeFeaturesFor', () => {
  it.each([
    ['anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3', []],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3.5-sonnet', []],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3.7-sonnet', ['enabled', 'disabled']],
    ['anthropic.claude-sonnet-4-20250514-v1:0', 'claude-4', ['enabled', 'disabled']],
    ['anthropic.claude-opus-4-20250514-v1:0', 'claude-4', ['enabled', 'disabled']],
    ['anthropic.claude-opus-4-1-20250805-v1:0', 'claude-4', ['enabled', 'disabled']],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4.5', ['enabled', 'disabled']],
    ['anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4.5', ['enabled', 'disabled']],
    ['anthropic.claude-opus-4-5-20251101-v1:0', 'claude-opus-4.5', ['enabled', 'disabled']],
    ['anthropic.claude-opus-4-6-v1', 'claude-4.6', ['enabled', 'adaptive', 'disabled']],
    ['anthropic.claude-sonnet-4-6', 'claude-4.6', ['enabled', 'adaptive', 'disabled']],
    ['anthropic.claude-opus-4-7', 'claude-opus-4.7', ['adaptive', 'disabled']],
    ['anthropic.claude-opus-4-8', 'claude-opus-4.7', ['adaptive', 'disabled']],
    ['anthropic.claude-sonnet-5', 'claude-5', ['adaptive', 'disabled']],
    ['anthropic.claude-opus-5', 'claude-5', ['adaptive', 'disabled']],
    ['anthropic.claude-sonnet-5-5', 'claude-5.5', ['adaptive']],
    ['anthropic.claude-haiku-5-5', 'claude-5.5', ['adaptive']],
    ['anthropic.claude-fable-5-2', 'claude-5.5', ['adaptive']],
  ])('%s is %s with thinking %j', (id, generation, thinking) => {
    const features = claudeFeaturesFor(id);
    expect(features.generation).toBe(generation);
    expect(features.thinkingTypes).toEqual(thinking);
  });

  it('gives unknown future Claude ids the newest generation', () => {
    expect(claudeFeaturesFor('anthropic.claude-opus-6-1').generation).toBe(
      CLAUDE_FEATURE_TABLE.generations[0]?.features.generation,
    );
    expect(claudeFeaturesFor('anthropic.claude-saga-1').thinkingTypes).toEqual(['adaptive']);
  });

  it('allows thinking.display only from Opus 4.7 on', () => {
    expect(claudeFeaturesFor('anthropic.claude-sonnet-4-5-20250929-v1:0').thinkingDisplay).toBe(false);
    expect(claudeFeaturesFor('anthropic.claude-opus-4-6-v1').thinkingDisplay).toBe(false);
    expect(claudeFeaturesFor('anthropic.claude-opus-4-7').thinkingDisplay).toBe(true);
    expect(claudeFeaturesFor('anthropic.claude-sonnet-5-5').thinkingDisplay).toBe(true);
  });

  it.each([
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'context_management', false],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'thinking', true],
    ['anthropic.claude-sonnet-4-20250514-v1:0', 'context_management', true],
    ['anthropic.claude-sonnet-4-20250514-v1:0', 'output_config', false],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'output_config', true],
    ['anthropic.claude-sonnet-5-5', 'metadata', true],
    ['anthropic.claude-sonnet-5-5', 'service_tier', false],
    ['anthropic.claude-sonnet-5-5', 'container', false],
    ['anthropic.claude-sonnet-5-5', 'mcp_servers', false],
    ['anthropic.claude-sonnet-5-5', 'speed', false],
  ])('%s accepts field %s: %s', (id, field, accepted) => {
    expect(claudeFeaturesFor(id).fields.includes(field)).toBe(accepted);
  });

  it.each([
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'output-128k-2025-02-19', true],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'output-128k-2025-02-19', false],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'interleaved-thinking-2025-05-14', false],
    ['anthropic.claude-sonnet-4-20250514-v1:0', 'interleaved-thinking-2025-05-14', true],
    ['anthropic.claude-sonnet-4-20250514-v1:0', 'context-1m-2025-08-07', true],
    ['anthropic.claude-haiku-4-5-20251001-v1:0', 'tool-search-tool-2025-10-19', false],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'tool-search-tool-2025-10-19', true],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'effort-2025-11-24', false],
    ['anthropic.claude-opus-4-5-20251101-v1:0', 'effort-2025-11-24', true],
    ['anthropic.claude-sonnet-5-5', 'effort-2025-11-24', true],
    ['anthropic.claude-sonnet-5-5', 'fine-grained-tool-streaming-2025-05-14', false],
    ['anthropic.claude-sonnet-5-5', 'prompt-caching-scope-2026-01-05', false],
    ['anthropic.claude-sonnet-5-5', 'claude-code-20250219', false],
  ])('%s accepts beta %s: %s', (id, beta, accepted) => {
    expect(claudeFeaturesFor(id).betas.includes(beta)).toBe(accepted);
  });
});

describe('mergeClaudeFeatureOverrides', () => {
  it('allows a new beta and field for the matching models only', () => {
    const table = mergeClaudeFeatureOverrides(CLAUDE_FEATURE_TABLE, {
      'sonnet-5-5': { addBetas: ['fine-grained-tool-streaming-2025-05-14'], addFields: ['speed'] },
    });
    const sonnet = claudeFeaturesFor('anthropic.claude-sonnet-5-5', table);
    expect(sonnet.betas).toContain('fine-grained-tool-streaming-2025-05-14');
    expect(sonnet.fields).toContain('speed');
    expect(claudeFeaturesFor('anthropic.claude-opus-5-5', table).betas).not.toContain(
      'fine-grained-tool-streaming-2025-05-14',
    );
    // The built-in table is not changed.
    expect(claudeFeaturesFor('anthropic.claude-sonnet-5-5').fields).not.toContain('speed');
  });

  it('removes, replaces and applies "*" to every model', () => {
    const table = mergeClaudeFeatureOverrides(CLAUDE_FEATURE_TABLE, {
      '*': { removeFields: ['metadata'] },
      'opus-4-6': { thinkingDisplay: true, efforts: ['high', 'low'] },
    });
    expect(claudeFeaturesFor('anthropic.claude-3-7-sonnet-20250219-v1:0', table).fields).not.toContain(
      'metadata',
    );
    const opus = claudeFeaturesFor('anthropic.claude-opus-4-6-v1', table);
    expect(opus.thinkingDisplay).toBe(true);
    expect(opus.efforts).toEqual(['low', 'high']);
  });

  it.each([
    [[], 'must be an object'],
    [{ '(': {} }, 'not a valid regular expression'],
    [{ opus: { addBetas: 'x' } }, 'addBetas must be a list of strings'],
    [{ opus: { thinkingTypes: ['sometimes'] } }, "'sometimes' is not one of"],
    [{ opus: { cacheTTL: true } }, "unknown setting 'cacheTTL'"],
    [{ opus: { outputFormat: 'yes' } }, 'outputFormat must be true or false'],
  ])('refuses bad config %j', (overrides, message) => {
    expect(() => mergeClaudeFeatureOverrides(CLAUDE_FEATURE_TABLE, overrides)).toThrow(message);
  });
});
