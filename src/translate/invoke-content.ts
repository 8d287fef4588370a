/**
 * Copy-on-write edits of the conversation for the native Claude body: only the messages, blocks and
 * tools that need a change are copied; everything else is passed by reference, so a long history costs
 * one walk and no clone.
 *
 * - `cache_control.scope` (prompt-caching-scope beta) is removed: Bedrock does not take it. `ttl` is
 *   removed on models without the 1-hour cache (the default 5 minutes applies).
 * - Without a tool-search beta, tools lose `defer_loading` (they are simply loaded) and `tool_reference`
 *   blocks become the text the Converse path also sends ("Tool available: name").
 * - `role: "system"` entries: leading ones join the system prompt; later ones join the neighbouring user
 *   turn (after its tool_result blocks, which must come first), or become a user turn of their own.
 * - Blocks of server tools Bedrock does not run (code execution, MCP, web results not converted before)
 *   are removed, with a message they leave empty: Bedrock refuses them (the Converse path drops them too).
 * - Without the compaction beta (a model switch after a compaction), a `compaction` block becomes the
 *   text of its summary (compaction.ts): Bedrock refuses the block, and dropping it would lose the
 *   conversation it stands for.
 */

import type {
  CacheControl,
  ContentBlockParam,
  MessageParam,
  OtherBlockParam,
  TextBlockParam,
  Tool,
} from '../anthropic/types.ts';
import { isBillingLine } from './billing-line.ts';
import { compactionSummary } from './compaction.ts';

export interface ContentRules {
  cacheTtl: boolean;
  toolSearch: boolean;
  systemMessages: boolean;
  /** The compaction beta goes to Bedrock: `compaction` blocks stay as they are. */
  compaction: boolean;
  /** Told the type of each block removed. */
  onDrop: (type: string) => void;
}

/** History blocks of server tools Bedrock does not run for Claude (tool search's it does). */
const UNRUN_SERVER_BLOCK =
  /^(mcp_tool_use|mcp_tool_result|container_upload|(code_execution|bash_code_execution|text_editor_code_execution|web_search|web_fetch)_tool_result)$/;

function isUnrunServerBlock(block: OtherBlockParam): boolean {
  if (block.type === 'server_tool_use')
    return !(typeof block.name === 'string' && block.name.startsWith('tool_search_tool'));
  return UNRUN_SERVER_BLOCK.test(block.type);
}

type Block = ContentBlockParam | TextBlockParam;
type Warn = (message: string) => void;

function fixCacheControl<T extends { cache_control?: CacheControl | null }>(item: T, rules: ContentRules): T {
  const cc = item.cache_control as (CacheControl & { scope?: unknown }) | null | undefined;
  if (!cc || typeof cc !== 'object') return item;
  const dropTtl = cc.ttl !== undefined && !rules.cacheTtl;
  if (cc.scope === undefined && !dropTtl) return item;
  const { scope: _scope, ttl, ...rest } = cc;
  const fixed: CacheControl = dropTtl || ttl === undefined ? rest : { ...rest, ttl };
  return { ...item, cache_control: fixed };
}

/** The block as Bedrock takes it; undefined to remove it. */
function fixBlock(block: Block, rules: ContentRules): Block | undefined {
  if (block.type === 'tool_reference' && !rules.toolSearch) {
    return { type: 'text', text: `Tool available: ${block.tool_name}` };
  }
  // Not a typed block: a pass-through type (validate.ts) the translators do not model.
  const other = block as unknown as OtherBlockParam;
  if (isUnrunServerBlock(other)) {
    rules.onDrop(other.type);
    return undefined;
  }
  if (other.type === 'compaction' && !rules.compaction) {
    return { type: 'text', text: compactionSummary(other) };
  }
  let out = fixCacheControl(block as Block & { cache_control?: CacheControl | null }, rules);
  if (out.type === 'tool_result' && Array.isArray(out.content)) {
    const inner = fixBlocks(out.content as Block[], rules);
    if (inner !== out.content) out = { ...out, content: inner as typeof out.content };
  }
  return out;
}

/** The same array when nothing changed. */
export function fixBlocks<T extends Block>(blocks: T[], rules: ContentRules): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] as T;
    const fixed = fixBlock(block, rules) as T | undefined;
    if (fixed !== block) out ??= blocks.slice(0, i);
    if (out && fixed !== undefined) out.push(fixed);
  }
  return out ?? blocks;
}

/** System blocks with Claude Code's billing line left out (billing-line.ts) and cache rules applied. */
export function fixSystem(system: string | TextBlockParam[], rules: ContentRules): string | TextBlockParam[] {
  if (typeof system === 'string') return system;
  const kept = system.some((block) => isBillingLine(block.text))
    ? system.filter((block) => !isBillingLine(block.text))
    : system;
  return fixBlocks(kept, rules);
}

export function fixTools(tools: Tool[], rules: ContentRules, warn: Warn): Tool[] {
  let out: Tool[] | undefined;
  let deferred = 0;
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i] as Tool;
    let fixed = fixCacheControl(tool, rules);
    if (!rules.toolSearch && fixed.defer_loading !== undefined) {
      const { defer_loading: _deferLoading, ...rest } = fixed;
      fixed = rest;
      deferred++;
    }
    if (fixed !== tool) {
      out ??= tools.slice();
      out[i] = fixed;
    }
  }
  if (deferred > 0)
    warn(`defer_loading removed from ${deferred} tool(s): this model has no tool search on Bedrock`);
  return out ?? tools;
}

export interface FixedMessages {
  messages: MessageParam[];
  /** Text of leading `role: "system"` entries, to append to the system prompt. */
  systemExtra: TextBlockParam[];
}

export function fixMessages(messages: MessageParam[], rules: ContentRules): FixedMessages {
  const systemExtra: TextBlockParam[] = [];
  let out: MessageParam[] | undefined;
  let pending: Block[] = [];
  let seenTurn = false;

  const copyUpTo = (i: number): MessageParam[] => {
    out ??= messages.slice(0, i);
    return out;
  };

  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as MessageParam;
    if (message.role === 'system' && !rules.systemMessages) {
      const list = copyUpTo(i);
      const blocks = asBlocks(message.content, rules);
      const last = list[list.length - 1];
      if (!seenTurn) systemExtra.push(...(blocks as TextBlockParam[]));
      else if (last?.role === 'user')
        list[list.length - 1] = {
          ...last,
          content: [...asBlocks(last.content, rules), ...blocks] as ContentBlockParam[],
        };
      else pending.push(...blocks);
      continue;
    }
    seenTurn = true;
    let fixed = message;
    if (Array.isArray(message.content)) {
      const content = fixBlocks(message.content, rules);
      if (content.length === 0 && message.content.length > 0) {
        // Only removed blocks: Bedrock refuses an empty turn, and same-role neighbours are merged.
        copyUpTo(i);
        continue;
      }
      if (content !== message.content) fixed = { ...message, content };
    }
    if (pending.length > 0) {
      const list = copyUpTo(i);
      if (fixed.role === 'user') {
        fixed = { ...fixed, content: insertAfterToolResults(asBlocks(fixed.content, rules), pending) };
      } else {
        list.push({ role: 'user', content: pending as ContentBlockParam[] });
      }
      pending = [];
    }
    if (out) out.push(fixed);
    else if (fixed !== message) copyUpTo(i).push(fixed);
  }
  if (pending.length > 0)
    copyUpTo(messages.length).push({ role: 'user', content: pending as ContentBlockParam[] });
  return { messages: out ?? messages, systemExtra };
}

function asBlocks(content: string | ContentBlockParam[], rules: ContentRules): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return fixBlocks(content, rules);
}

/** tool_result blocks must open a user turn; anything added goes after them. */
function insertAfterToolResults(blocks: Block[], added: Block[]): ContentBlockParam[] {
  let at = 0;
  while (at < blocks.length && blocks[at]?.type === 'tool_result') at++;
  return [...blocks.slice(0, at), ...added, ...blocks.slice(at)] as ContentBlockParam[];
}

type Marked = { cache_control?: CacheControl | null };
const marked = (item: unknown): boolean =>
  typeof item === 'object' && item !== null && Boolean((item as Marked).cache_control);

/** The cache marks of a block list, tool_result contents included, in prompt order. */
function countMarks(items: readonly unknown[]): number {
  let count = 0;
  for (const item of items) {
    if (marked(item)) count++;
    const inner = (item as { type?: unknown; content?: unknown }).content;
    if ((item as { type?: unknown }).type === 'tool_result' && Array.isArray(inner))
      count += countMarks(inner);
  }
  return count;
}

/** The list with its first `excess.left` marks removed (copies only what changes). */
function unmark<T>(items: T[], excess: { left: number }): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < items.length && excess.left > 0; i++) {
    let item = items[i] as T & Marked & { type?: unknown; content?: unknown };
    if (marked(item)) {
      const { cache_control: _mark, ...rest } = item;
      item = rest as typeof item;
      excess.left--;
    }
    if (item.type === 'tool_result' && Array.isArray(item.content) && excess.left > 0) {
      const content = unmark(item.content as unknown[], excess);
      if (content !== item.content) item = { ...item, content };
    }
    if (item !== items[i]) {
      out ??= items.slice();
      out[i] = item;
    }
  }
  return out ?? items;
}

/**
 * Anthropic (and Bedrock) take at most `max` cache_control marks per request, over tools, system and
 * messages in that order. Beyond it the earliest are removed, as the Converse path does with its cache
 * points (cache-points.ts): each mark covers the prefix before it, so the latest cover the most.
 * Returns how many were removed.
 */
export function limitCacheMarks(body: Record<string, unknown>, max: number): number {
  const tools = Array.isArray(body.tools) ? (body.tools as unknown[]) : [];
  const system = Array.isArray(body.system) ? (body.system as unknown[]) : [];
  const messages = body.messages as MessageParam[];
  let total = countMarks(tools) + countMarks(system);
  for (const m of messages) if (Array.isArray(m.content)) total += countMarks(m.content);
  if (total <= max) return 0;
  const excess = { left: total - max };
  if (tools.length > 0) body.tools = unmark(tools, excess);
  if (system.length > 0) body.system = unmark(system, excess);
  let out: MessageParam[] | undefined;
  for (let i = 0; i < messages.length && excess.left > 0; i++) {
    const message = messages[i]!;
    if (!Array.isArray(message.content)) continue;
    const content = unmark(message.content, excess);
    if (content !== message.content) {
      out ??= messages.slice();
      out[i] = { ...message, content };
    }
  }
  if (out) body.messages = out;
  return total - max;
}
