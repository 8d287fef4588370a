/**
 * Deterministic token accounting: about four characters a token, a flat cost per image or binary
 * document, and prompt-cache bookkeeping (first sight of a cached prefix writes, later sights read).
 */
import { createHash } from 'node:crypto';
import { estimateTextTokens } from './reply.ts';

const BINARY_KEYS = new Set(['bytes', 'data']);
const BINARY_TOKEN_COST = 1500;

export function estimateValueTokens(value: unknown): number {
  let chars = 0;
  let binaries = 0;
  const walk = (v: unknown, key?: string): void => {
    if (typeof v === 'string') {
      if (key && BINARY_KEYS.has(key) && v.length > 64) binaries += 1;
      else chars += v.length;
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) walk(item, k);
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      chars += String(v).length;
    }
  };
  walk(value);
  return estimateTextTokens(chars) + binaries * BINARY_TOKEN_COST;
}

/** One piece of the prompt in model order; `cacheAfter` marks a cache breakpoint after it. */
export interface PromptSegment {
  value: unknown;
  cacheAfter: boolean;
  /** The breakpoint's lifetime (`1h` or the default 5m). */
  cacheTtl?: string;
}

export interface PromptUsage {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  /** Of the writes, those up to the last 1-hour breakpoint (Anthropic: longer lifetimes come first). */
  cacheWrite1hInputTokens: number;
}

export function promptUsage(segments: PromptSegment[], caching: boolean, memory: Set<string>): PromptUsage {
  let total = 0;
  let prefixTokens = 0;
  let prefixEnd = -1;
  let hourTokens = 0;
  segments.forEach((segment, i) => {
    total += estimateValueTokens(segment.value);
    if (segment.cacheAfter) {
      prefixTokens = total;
      prefixEnd = i;
      if (segment.cacheTtl === '1h') hourTokens = total;
    }
  });
  if (!caching || prefixEnd < 0)
    return {
      inputTokens: Math.max(1, total),
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      cacheWrite1hInputTokens: 0,
    };
  const key = createHash('sha256')
    .update(JSON.stringify(segments.slice(0, prefixEnd + 1).map((s) => s.value)))
    .digest('hex');
  const hit = memory.has(key);
  memory.add(key);
  return {
    inputTokens: Math.max(1, total - prefixTokens),
    cacheReadInputTokens: hit ? prefixTokens : 0,
    cacheWriteInputTokens: hit ? 0 : prefixTokens,
    cacheWrite1hInputTokens: hit ? 0 : hourTokens,
  };
}
