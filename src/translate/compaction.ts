/**
 * Anthropic's server-side compaction answers with a `compaction` block, which the client sends back in
 * its history; Anthropic then "drops all message blocks prior to the compaction block". Where the block
 * cannot go as it is (Converse; a Claude model without the compaction beta) it becomes the text of its
 * summary, and what it summarizes is dropped here as Anthropic would drop it: a model switched to after
 * a compaction gets the compacted conversation, not the whole one (which may not even fit its context).
 */
import type { MessageParam, OtherBlockParam } from '../anthropic/types.ts';

/** Opens a history that now starts with the assistant's summary: Bedrock wants a user turn first. */
const OPENER = '(earlier conversation compacted; its summary follows)';

/** A compaction block's summary as text; a failed compaction (no summary) says so rather than being blank. */
export function compactionSummary(block: OtherBlockParam): string {
  const summary = typeof block.content === 'string' ? block.content.trim() : '';
  return summary === '' ? '(earlier conversation compacted; no summary)' : summary;
}

/** What the client hears when the history before a compaction block is dropped. */
export function compactedWarning(dropped: number): string {
  return `${dropped} message(s) before the last compaction block dropped, as Anthropic does; its summary sent as text`;
}

const isCompaction = (block: unknown): boolean => (block as { type?: unknown }).type === 'compaction';

/**
 * The history from its last compaction block on (the same array when there is none), and how many
 * messages were dropped before it.
 */
export function fromLastCompaction(messages: MessageParam[]): { messages: MessageParam[]; dropped: number } {
  for (let m = messages.length - 1; m >= 0; m--) {
    const message = messages[m]!;
    if (!Array.isArray(message.content)) continue;
    const b = message.content.findLastIndex(isCompaction);
    if (b === -1) continue;
    if (m === 0 && b === 0) return { messages, dropped: 0 };
    const kept: MessageParam = b === 0 ? message : { ...message, content: message.content.slice(b) };
    const opener: MessageParam[] = kept.role === 'assistant' ? [{ role: 'user', content: OPENER }] : [];
    return { messages: [...opener, kept, ...messages.slice(m + 1)], dropped: m };
  }
  return { messages, dropped: 0 };
}
