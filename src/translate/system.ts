/**
 * Anthropic `system` (string or text blocks) → Converse system blocks: text, plus a cachePoint after each
 * block marked with cache_control where the model caches. Blank blocks are dropped.
 * Claude Code's per-session billing line is left out (see billing-line.ts).
 */
import type { ContentBlock, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { isBillingLine } from './billing-line.ts';

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
    if (block.cache_control && caps.caching) out.push({ cachePoint: { type: 'default' } });
  }
  return out;
}

/** System blocks as message content, for models without a system prompt (folded into the first user turn). */
export function systemAsContent(system: readonly SystemContentBlock[]): ContentBlock[] {
  return system.flatMap((block): ContentBlock[] => {
    if (block.text !== undefined) return [{ text: block.text }];
    if (block.cachePoint !== undefined) return [{ cachePoint: block.cachePoint }];
    return [];
  });
}

/** Text and cache points of message content, for the system prompt (leading `role: "system"` entries). */
export function contentAsSystem(blocks: readonly ContentBlock[]): SystemContentBlock[] {
  return blocks.flatMap((block): SystemContentBlock[] => {
    if (block.text !== undefined) return [{ text: block.text }];
    if (block.cachePoint !== undefined) return [{ cachePoint: block.cachePoint }];
    return [];
  });
}
