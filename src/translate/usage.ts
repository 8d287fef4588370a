/**
 * Bedrock TokenUsage → Anthropic usage. Both APIs count input the same way: Bedrock's `inputTokens`
 * excludes tokens read from or written to the prompt cache (they are reported beside it), exactly as
 * Anthropic's `input_tokens` excludes `cache_read_input_tokens` and `cache_creation_input_tokens`,
 * so every field maps one to one and nothing is subtracted or added. A count that is not a whole
 * number from 0 up (a broken upstream's string, negative or 1e300) becomes one (tokenCount).
 */
import type { TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { Usage } from '../anthropic/types.ts';
import { tokenCount } from '../usage/bounds.ts';

/**
 * Characters per token of a stream's output while Bedrock has not reported its counts (a client gone,
 * a cut stream, a missing metadata event): every path that estimates output uses this one ratio.
 */
export const CHARS_PER_TOKEN = 4;

export function fromBedrockUsage(usage: TokenUsage | undefined): Usage {
  return {
    input_tokens: tokenCount(usage?.inputTokens),
    output_tokens: tokenCount(usage?.outputTokens),
    cache_creation_input_tokens: tokenCount(usage?.cacheWriteInputTokens),
    cache_read_input_tokens: tokenCount(usage?.cacheReadInputTokens),
  };
}
