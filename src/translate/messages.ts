/**
 * Anthropic `messages` → Converse `messages`: turns that Converse accepts.
 *
 * - `role: "system"` entries (Claude Code's reminders): those before the first user/assistant turn join
 *   the system prompt; later ones become user text at that point of the conversation. A mid-conversation
 *   system prompt does not exist on Converse, and Claude Code's reminders are self-describing
 *   (`<system-reminder>` tags), so the model reads them the same way in a user turn.
 * - Turns left empty (blank text, dropped blocks) are removed; consecutive same-role turns are merged;
 *   a history that would start with the assistant gets a minimal user turn first.
 * - In a user turn toolResults come first; in an assistant turn reasoning comes first (Claude's rules).
 * - A user turn with a document but no text gets a short text: Bedrock refuses documents without one.
 */
import type { ContentBlock, Message } from '@aws-sdk/client-bedrock-runtime';
import type { MessageParam } from '../anthropic/types.ts';
import type { BlockContext } from './block-context.ts';
import { convertContent, type Unit, type UnitKind } from './content.ts';

export const FIRST_TURN_PLACEHOLDER = '(start of conversation)';
export const DOCUMENT_PLACEHOLDER = '(document attached)';

export interface ConvertedMessages {
  messages: Message[];
  /** Text and cache points of the leading `role: "system"` entries, for the system prompt. */
  leadingSystem: ContentBlock[];
}

interface Turn {
  role: 'user' | 'assistant';
  units: Unit[];
}

const LEADING_KIND: Record<Turn['role'], UnitKind> = { user: 'toolResult', assistant: 'reasoning' };

function orderedBlocks(turn: Turn): ContentBlock[] {
  const lead = LEADING_KIND[turn.role];
  const first = turn.units.filter((u) => u.kind === lead);
  const rest = turn.units.filter((u) => u.kind !== lead);
  return [...first, ...rest].flatMap((u) => u.blocks);
}

function withDocumentText(blocks: ContentBlock[]): ContentBlock[] {
  if (!blocks.some((b) => b.document !== undefined) || blocks.some((b) => b.text !== undefined))
    return blocks;
  const at = blocks.at(-1)?.cachePoint !== undefined ? blocks.length - 1 : blocks.length;
  return [...blocks.slice(0, at), { text: DOCUMENT_PLACEHOLDER }, ...blocks.slice(at)];
}

export function convertMessages(messages: readonly MessageParam[], ctx: BlockContext): ConvertedMessages {
  const leadingSystem: ContentBlock[] = [];
  const turns: Turn[] = [];
  let leading = true;

  messages.forEach((message, i) => {
    const units = convertContent(message.content, `messages.${i}`, ctx);
    if (message.role === 'system' && leading) {
      for (const block of units.flatMap((u) => u.blocks)) {
        if (block.text !== undefined || block.cachePoint !== undefined) leadingSystem.push(block);
        else ctx.warnings.add(`non-text content of messages.${i} (role "system") dropped`);
      }
      return;
    }
    leading = false;
    if (units.every((u) => u.blocks.length === 0)) return;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const last = turns.at(-1);
    if (last?.role === role) last.units.push(...units);
    else turns.push({ role, units });
  });

  // Empty turns were skipped before merging, so the turns left alternate.
  const converted: Message[] = turns.map((turn) => {
    const blocks = orderedBlocks(turn);
    return { role: turn.role, content: turn.role === 'user' ? withDocumentText(blocks) : blocks };
  });
  if (converted[0]?.role !== 'user') {
    converted.unshift({ role: 'user', content: [{ text: FIRST_TURN_PLACEHOLDER }] });
  }
  return { messages: converted, leadingSystem };
}
