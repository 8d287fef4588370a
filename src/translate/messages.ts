/**
 * Anthropic `messages` → Converse `messages`: turns that Converse accepts.
 *
 * - `role: "system"` entries (Claude Code's reminders): those before the first user/assistant turn join
 *   the system prompt; later ones become user text at that point of the conversation. A mid-conversation
 *   system prompt does not exist on Converse, and Claude Code's reminders are self-describing
 *   (`<system-reminder>` tags), so the model reads them the same way in a user turn.
 * - Turns left empty (blank text, dropped blocks) are removed; consecutive same-role turns are merged;
 *   a history that would start with the assistant gets a minimal user turn first.
 * - In a user turn toolResults come first; in an assistant turn reasoning comes first (Claude's rules);
 *   other content in a turn of tool results goes into the last one for open models (Bedrock takes none
 *   beside them there).
 * - A user turn with a document but no text gets a short text: Bedrock refuses documents without one.
 * - An image or document the model cannot take becomes a note (and a warning), as in tool results, not a
 *   400: Claude Code keeps a refused message and sends the user's next one merged into it, so a picture
 *   pasted into a session on a text-only model failed every later turn, until /clear. The note tells the
 *   model what is missing, and it says so to the user.
 */
import type { ContentBlock, Message, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { MessageParam } from '../anthropic/types.ts';
import type { BlockContext } from './block-context.ts';
import { convertContent, type Unit, type UnitKind } from './content.ts';
import { takesToolResultImages, toolResultImageNote } from './media.ts';

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

function orderedBlocks(turn: Turn, ctx: BlockContext): ContentBlock[] {
  const lead = LEADING_KIND[turn.role];
  const first = turn.units.filter((u) => u.kind === lead);
  const rest = turn.units.filter((u) => u.kind !== lead);
  const blocks = [...first, ...rest].flatMap((u) => u.blocks);
  // Claude keeps the user's words beside the results: it reads instructions inside a tool result as
  // the tool's, not the user's (and its Messages API takes both in one turn).
  const fold = turn.role === 'user' && first.length > 0 && ctx.caps.family !== 'claude';
  return fold ? contentIntoToolResult(blocks, ctx) : blocks;
}

/**
 * Bedrock refuses other content beside tool results in one turn for open models ("Conversation blocks
 * and tool result blocks cannot be provided in the same turn", seen on Llama 3.3/4 and Mistral), and
 * Claude Code sends exactly that: tool results, then a `<system-reminder>` or what the user typed (or
 * pasted) meanwhile. That content joins the last tool result's, where the model reads it right after
 * that output (a tool result holds text, images and documents too); cache points stay where they are.
 */
function contentIntoToolResult(blocks: ContentBlock[], ctx: BlockContext): ContentBlock[] {
  let last: ContentBlock.ToolResultMember | undefined;
  const kept: ContentBlock[] = [];
  for (const block of blocks) {
    if (block.toolResult !== undefined) last = block as ContentBlock.ToolResultMember;
    const { text, image, document, video } = block;
    const inner: ToolResultContentBlock | undefined =
      text !== undefined
        ? { text }
        : image
          ? takesToolResultImages(ctx.caps) || !last
            ? { image }
            : toolResultImageNote(ctx)
          : document
            ? { document }
            : video
              ? { video }
              : undefined;
    if (inner && last) last.toolResult.content = [...(last.toolResult.content ?? []), inner];
    else kept.push(block);
  }
  return kept;
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
    const blocks = orderedBlocks(turn, ctx);
    return { role: turn.role, content: turn.role === 'user' ? withDocumentText(blocks) : blocks };
  });
  if (converted[0]?.role !== 'user') {
    converted.unshift({ role: 'user', content: [{ text: FIRST_TURN_PLACEHOLDER }] });
  }
  return { messages: converted, leadingSystem };
}
