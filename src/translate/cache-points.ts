/**
 * Bedrock accepts at most 4 cache points per request, counted over tools, system and messages (the
 * order in which the prompt prefix is built). Anthropic clients may mark more. The latest ones are
 * kept: a cache point covers the whole prefix before it, so the last marks cover the most, and clients
 * such as Claude Code move their marks to the newest turns to extend the cached prefix as they go.
 */
import type { CachePointBlock, ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { CacheControl } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';

export const MAX_CACHE_POINTS = 4;

/**
 * The cache point for a block marked with `mark`: a 1-hour TTL is kept where the model has the 1-hour
 * cache (else the default 5 minutes, as the native path does).
 */
export function cachePointFor(mark: CacheControl, caps: ModelCapabilities): { cachePoint: CachePointBlock } {
  const hour = mark.ttl === '1h' && caps.cacheTtl === true;
  return { cachePoint: hour ? { type: 'default', ttl: '1h' } : { type: 'default' } };
}

type CacheInput = Pick<ConverseStreamCommandInput, 'toolConfig' | 'system' | 'messages'>;

function sequences(input: CacheInput): Array<Array<{ cachePoint?: unknown }>> {
  return [
    input.toolConfig?.tools ?? [],
    input.system ?? [],
    ...(input.messages ?? []).map((m) => m.content ?? []),
  ];
}

export function countCachePoints(input: CacheInput): number {
  let count = 0;
  for (const blocks of sequences(input))
    for (const block of blocks) if (block.cachePoint !== undefined) count++;
  return count;
}

/** Removes the earliest cache points beyond `max`, in place; returns how many were removed. */
export function limitCachePoints(input: CacheInput, max = MAX_CACHE_POINTS): number {
  let excess = countCachePoints(input) - max;
  if (excess <= 0) return 0;
  const removed = excess;
  for (const blocks of sequences(input)) {
    for (let k = 0; k < blocks.length && excess > 0; ) {
      if (blocks[k]?.cachePoint !== undefined) {
        blocks.splice(k, 1);
        excess--;
      } else {
        k++;
      }
    }
  }
  return removed;
}
