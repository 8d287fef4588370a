/**
 * Bedrock TokenUsage → Anthropic usage. Both APIs count input the same way: Bedrock's `inputTokens`
 * excludes tokens read from or written to the prompt cache (they are reported beside it), exactly as
 * Anthropic's `input_tokens` excludes `cache_read_input_tokens` and `cache_creation_input_tokens`,
 * so every field maps one to one and nothing is subtracted or added. A count that is not a whole
 * number from 0 up (a broken upstream's string, negative or 1e300) becomes one (tokenCount).
 */
import type { TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { CacheCreation, Usage } from '../anthropic/types.ts';
import { tokenCount } from '../usage/bounds.ts';

/**
 * Characters per token of a stream's output while Bedrock has not reported its counts (a client gone,
 * a cut stream, a missing metadata event): every path that estimates output uses this one ratio.
 */
export const CHARS_PER_TOKEN = 4;

/**
 * Output text (`text[start, end)`) in CHARS_PER_TOKEN units: an ASCII character is one, any other a whole
 * token, as the input estimate counts them (token-estimate.ts): tokenizers split CJK, emoji and accented
 * text finely, and at 4 characters a token a Chinese answer cut before Bedrock's counts was billed a
 * quarter of what the same text costs as a prompt.
 */
export function outputChars(text: string, start = 0, end = text.length): number {
  let chars = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) chars++;
    else if (code < 0xdc00 || code > 0xdfff) chars += CHARS_PER_TOKEN; // a surrogate pair counts once
  }
  return chars;
}

const COUNTS = [
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

/**
 * What a Claude answer consumed and is billed for. When a server-side compaction ran, Claude's top-level
 * counts leave out the compaction's own sampling; "sum across all entries in the usage.iterations array"
 * (Bedrock's compaction page) gives the whole. Without iterations the counts are as given.
 */
export function billedUsage(usage: Usage): Usage {
  const { iterations } = usage;
  if (!Array.isArray(iterations) || iterations.length === 0) return usage;
  const billed = { ...usage };
  for (const key of COUNTS) {
    billed[key] = iterations.reduce<number>(
      (sum, iteration) => sum + tokenCount((iteration as Partial<Record<string, unknown>> | null)?.[key]),
      0,
    );
  }
  return billed;
}

export function fromBedrockUsage(usage: TokenUsage | undefined): Usage {
  const converted: Usage = {
    input_tokens: tokenCount(usage?.inputTokens),
    output_tokens: tokenCount(usage?.outputTokens),
    cache_creation_input_tokens: tokenCount(usage?.cacheWriteInputTokens),
    cache_read_input_tokens: tokenCount(usage?.cacheReadInputTokens),
  };
  const split = cacheWritesByLifetime(usage?.cacheDetails);
  if (split) converted.cache_creation = split;
  return converted;
}

/**
 * Converse splits its cache writes by lifetime in `cacheDetails`, as Anthropic's cache_creation does;
 * undefined when it gave none.
 */
export function cacheWritesByLifetime(cacheDetails: unknown): CacheCreation | undefined {
  if (!Array.isArray(cacheDetails) || cacheDetails.length === 0) return undefined;
  const split = { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 };
  for (const detail of cacheDetails as ({ ttl?: unknown; inputTokens?: unknown } | null)[]) {
    const tokens = tokenCount(detail?.inputTokens);
    if (detail?.ttl === '1h') split.ephemeral_1h_input_tokens += tokens;
    else split.ephemeral_5m_input_tokens += tokens;
  }
  return split;
}

/** A cache_creation object from an upstream answer, its counts bounded; undefined when it is not one. */
export function cacheCreationOf(value: unknown): CacheCreation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return {
    ephemeral_5m_input_tokens: tokenCount(v.ephemeral_5m_input_tokens),
    ephemeral_1h_input_tokens: tokenCount(v.ephemeral_1h_input_tokens),
  };
}
