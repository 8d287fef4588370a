/**
 * Anthropic `system` (string or text blocks) → Converse system blocks: text, plus a cachePoint after each
 * block marked with cache_control where the model caches. Blank blocks are dropped.
 * Claude Code's per-session billing line is left out (see billing-line.ts).
 */
import type { CachePointBlock, ContentBlock, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { isBillingLine } from './billing-line.ts';
import { cachePointFor } from './cache-points.ts';

export function convertSystem(
  system: MessagesRequest['system'],
  caps: ModelCapabilities,
): SystemContentBlock[] {
  if (system === undefined) return [];
  const blocks = typeof system === 'string' ? [{ type: 'text' as const, text: system }] : system;
  const out: SystemContentBlock[] = [];
  for (const block of blocks) {
    if (block.text.trim() === '' || isBillingLine(block.text)) continue;
    out.push({ text: block.text });
    if (block.cache_control && caps.caching) out.push(cachePointFor(block.cache_control, caps));
  }
  return out;
}

type TextOrCachePoint = { text: string } | { cachePoint: CachePointBlock };

/**
 * The text and cache points of system or message blocks, in a shape both accept: system blocks become the
 * first user turn of a model without a system prompt, and leading `role: "system"` entries join the system.
 */
export function textAndCachePoints(
  blocks: readonly (SystemContentBlock | ContentBlock)[],
): TextOrCachePoint[] {
  return blocks.flatMap((block): TextOrCachePoint[] => {
    if (block.text !== undefined) return [{ text: block.text }];
    if (block.cachePoint !== undefined) return [{ cachePoint: block.cachePoint }];
    return [];
  });
}
