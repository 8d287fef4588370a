import { describe, expect, it } from 'vitest';
import { fromBedrockUsage } from './usage.ts';

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
