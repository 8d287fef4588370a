/**
 * Bedrock TokenUsage → Anthropic usage. Both APIs count input the same way: Bedrock's `inputTokens`
 * excludes tokens read from or written to the prompt cache (they are reported beside it), exactly as
 * Anthropic's `input_tokens` excludes `cache_read_input_tokens` and `cache_creation_input_tokens`,
 * so every field maps one to one and nothing is subtracted or added.
 */
import type { TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { Usage } from '../anthropic/types.ts';

export function fromBedrockUsage(usage: TokenUsage | undefined): Usage {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    cache_creation_input_tokens: usage?.cacheWriteInputTokens ?? 0,
    cache_read_input_tokens: usage?.cacheReadInputTokens ?? 0,
  };
}
