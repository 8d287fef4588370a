/**
 * Thinking in the history of a native Claude body, made valid for Bedrock after a model switch (the
 * Converse path does the same in reasoning.ts and to-converse.ts):
 * - thinking blocks Claude did not sign (this gateway's `abp1.` signature on an open model's reasoning,
 *   or none) are removed: Bedrock answers "Invalid `signature` in `thinking` block"; so are an open
 *   model's redacted_thinking blocks (marked `abpr1.`: Claude cannot decrypt them);
 * - with thinking on, the assistant turn that opened the current tool loop must start with Claude's
 *   thinking; when it does not (the turn came from another model), thinking is off for this call.
 */
import type { ContentBlockParam, MessageParam } from '../anthropic/types.ts';
import { isGatewaySignature, isOpenRedacted } from './thinking-signature.ts';

function claudeSigned(block: ContentBlockParam): boolean {
  if (block.type === 'redacted_thinking')
    return typeof block.data !== 'string' || !isOpenRedacted(block.data);
  if (block.type !== 'thinking') return true;
  const signature = block.signature ?? '';
  return signature !== '' && !isGatewaySignature(signature);
}

/** The same array when every thinking block is Claude's own; a message never loses its last block. */
export function dropForeignThinking(messages: MessageParam[]): { messages: MessageParam[]; dropped: number } {
  let out: MessageParam[] | undefined;
  let dropped = 0;
  messages.forEach((message, i) => {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) return;
    const kept = message.content.filter(claudeSigned);
    if (kept.length === message.content.length || kept.length === 0) return;
    dropped += message.content.length - kept.length;
    out ??= messages.slice();
    out[i] = { ...message, content: kept };
  });
  return { messages: out ?? messages, dropped };
}

/** True when the last turn answers tools and the assistant turn before it does not start with thinking. */
export function toolLoopLacksThinking(messages: readonly MessageParam[]): boolean {
  const last = messages.at(-1);
  const assistant = messages.at(-2);
  if (last?.role !== 'user' || assistant?.role !== 'assistant') return false;
  if (!Array.isArray(last.content) || !last.content.some((b) => b.type === 'tool_result')) return false;
  const first = Array.isArray(assistant.content) ? assistant.content[0] : undefined;
  return first?.type !== 'thinking' && first?.type !== 'redacted_thinking';
}
