import { describe, expect, it } from 'vitest';
import { billedUsage, cacheCreationOf, fromBedrockUsage } from './usage.ts';

describe('fromBedrockUsage', () => {
  it('maps each Bedrock counter to its Anthropic field, cache tokens kept apart from input', () => {
    expect(
      fromBedrockUsage({
        inputTokens: 12,
        outputTokens: 34,
        totalTokens: 1546,
        cacheReadInputTokens: 1000,
        cacheWriteInputTokens: 500,
      }),
    ).toEqual({
      input_tokens: 12,
      output_tokens: 34,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 500,
    });
  });

  it('reports zero cache tokens when the model has no cache activity', () => {
    expect(fromBedrockUsage({ inputTokens: 7, outputTokens: 3, totalTokens: 10 })).toEqual({
      input_tokens: 7,
      output_tokens: 3,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });

  it('gives zeros rather than undefined when usage is missing', () => {
    expect(fromBedrockUsage(undefined)).toEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });
});

describe('cache writes by lifetime', () => {
  it("Converse's cacheDetails become Anthropic's cache_creation (1-hour writes cost more)", () => {
    const usage = fromBedrockUsage({
      inputTokens: 5,
      outputTokens: 7,
      totalTokens: 1512,
      cacheWriteInputTokens: 1500,
      cacheDetails: [
        { ttl: '1h', inputTokens: 1200 },
        { ttl: '5m', inputTokens: 300 },
      ],
    });
    expect(usage.cache_creation).toEqual({ ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 1200 });
    // No details, no split (the record prices every write at the 5-minute rate, as before).
    expect(
      fromBedrockUsage({ inputTokens: 1, outputTokens: 1, totalTokens: 2 }).cache_creation,
    ).toBeUndefined();
  });

  it("bounds a broken upstream's split like every other count", () => {
    const hostile = { ttl: '1h', inputTokens: -5e300 } as never;
    expect(
      fromBedrockUsage({
        inputTokens: 1,
        outputTokens: 1,
        totalTokens: 2,
        cacheDetails: [hostile, null as never],
      }).cache_creation,
    ).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 });
    expect(cacheCreationOf({ ephemeral_1h_input_tokens: '9e99', ephemeral_5m_input_tokens: 3 })).toEqual({
      ephemeral_5m_input_tokens: 3,
      ephemeral_1h_input_tokens: 0,
    });
    expect(cacheCreationOf('x')).toBeUndefined();
  });
});

describe('billedUsage', () => {
  const counts = {
    input_tokens: 3_100,
    output_tokens: 9,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };

  it("sums a compaction's iterations (Claude's top-level counts leave the compaction out)", () => {
    const iterations = [
      { type: 'compaction', input_tokens: 150_000, output_tokens: 3_000, cache_creation_input_tokens: 10 },
      { type: 'message', input_tokens: 3_100, output_tokens: 9, cache_read_input_tokens: 5 },
    ];
    expect(billedUsage({ ...counts, iterations })).toMatchObject({
      input_tokens: 153_100,
      output_tokens: 3_009,
      cache_creation_input_tokens: 10,
      cache_read_input_tokens: 5,
    });
  });

  it('keeps the counts as given without iterations, and counts broken entries as nothing', () => {
    expect(billedUsage(counts)).toBe(counts);
    expect(billedUsage({ ...counts, iterations: [] })).toEqual({ ...counts, iterations: [] });
    expect(
      billedUsage({ ...counts, iterations: [null, 'x', { input_tokens: -5, output_tokens: 2 }] }),
    ).toMatchObject({
      input_tokens: 0,
      output_tokens: 2,
    });
  });
});
