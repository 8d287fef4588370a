/**
 * One Anthropic content block → a "unit": the Converse blocks it becomes (possibly none), followed by its
 * cachePoint. Units are what messages.ts reorders and merges, so a cachePoint always stays right after
 * the block that carried cache_control.
 *
 * Rules: blank text is never sent (Bedrock rejects it); blocks Converse cannot carry are dropped with a
 * warning (search results keep their text where the model has no searchResult block); where the model has
 * no tool use, tool calls and results in history become text so the conversation stays readable and valid.
 */
import type {
  ContentBlock,
  SearchResultBlock,
  ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type {
  CacheControl,
  ContentBlockParam,
  OtherBlockParam,
  ToolResultBlockParam,
  ToolUseBlockParam,
} from '../anthropic/types.ts';
import type { BlockContext } from './block-context.ts';
import { cachePointFor } from './cache-points.ts';
import { compactionSummary } from './compaction.ts';
import { convertDocument, convertImage, convertToolResultImage, type MediaBlock } from './media.ts';
import { convertRedactedThinking, convertThinking } from './reasoning.ts';
import { type JsonDocument, toolUseIdFor } from './tools.ts';

/** toolResult units lead a user turn and reasoning units lead an assistant turn (Claude requires both). */
export type UnitKind = 'toolResult' | 'reasoning' | 'content';

export interface Unit {
  kind: UnitKind;
  blocks: ContentBlock[];
}

/** What an empty tool result becomes: Bedrock needs non-empty content with non-blank text. */
export const EMPTY_TOOL_RESULT = '(empty)';

function unit(
  kind: UnitKind,
  blocks: ContentBlock[],
  cache: CacheControl | null | undefined,
  ctx: BlockContext,
): Unit {
  // A cachePoint needs content before it; one after a dropped block would mark nothing.
  if (cache && ctx.caps.caching && blocks.length > 0) blocks.push(cachePointFor(cache, ctx.caps));
  return { kind, blocks };
}

function textBlocks(text: string): ContentBlock[] {
  return text.trim() === '' ? [] : [{ text }];
}

function searchResultTexts(block: OtherBlockParam): string[] {
  const parts = Array.isArray(block.content)
    ? (block.content as Array<{ type?: string; text?: unknown } | null>)
    : [];
  // A client's null in the list is passed over as any other part that is not text is.
  return parts
    .filter((part) => part?.type === 'text' && typeof part.text === 'string' && part.text.trim() !== '')
    .map((part) => part?.text as string);
}

/** search_result (top level or in a tool result): Converse's own searchResult where the model has it (its
 * citations then come back as search_result_location), else its text. */
function convertSearchResult(block: OtherBlockParam, path: string, ctx: BlockContext): MediaBlock[] {
  const cited = (block.citations as { enabled?: unknown } | undefined)?.enabled === true;
  const texts = searchResultTexts(block);
  if (ctx.caps.searchResults && texts.length > 0) {
    const searchResult: SearchResultBlock = {
      source: String(block.source ?? ''),
      title: String(block.title ?? ''),
      content: texts.map((text) => ({ text })),
      ...(cited ? { citations: { enabled: true } } : {}),
    };
    return [{ searchResult }];
  }
  if (cited)
    ctx.warnings.add(`search_result citations dropped (${path}): the result goes to ${ctx.modelId} as text`);
  const text = [block.title, block.source, texts.join('\n')]
    .filter((part) => typeof part === 'string' && part !== '')
    .join('\n');
  return textBlocks(text) as MediaBlock[];
}

function dropUnknown(block: OtherBlockParam, path: string, ctx: BlockContext): ContentBlock[] {
  if (block.type === 'search_result') return convertSearchResult(block, path, ctx) as ContentBlock[];
  // Converse has no compaction: its summary stands for the conversation it replaced.
  if (block.type === 'compaction') return textBlocks(compactionSummary(block));
  ctx.warnings.add(`content block "${block.type}" dropped (${path}): it has no Converse equivalent`);
  return [];
}

function toolReferenceText(toolName: string, ctx: BlockContext): string {
  // The model knows tools by their Bedrock names.
  return `Tool available: ${ctx.caps.tools ? ctx.toolNames.toBedrock(toolName) : toolName}`;
}

function toolResultContent(block: ToolResultBlockParam, path: string, ctx: BlockContext): MediaBlock[] {
  const { content } = block;
  if (content === undefined) return [];
  if (typeof content === 'string') return content.trim() === '' ? [] : [{ text: content }];
  return content.flatMap((inner, k): MediaBlock[] => {
    const innerPath = `${path}.content.${k}`;
    switch (inner.type) {
      case 'text':
        return inner.text.trim() === '' ? [] : [{ text: inner.text }];
      case 'image':
        return convertToolResultImage(inner, innerPath, ctx);
      case 'document':
        return convertDocument(inner, innerPath, ctx);
      case 'tool_reference':
        return [{ text: toolReferenceText(inner.tool_name, ctx) }];
      default: {
        const other: never = inner;
        return dropUnknown(other as OtherBlockParam, innerPath, ctx) as MediaBlock[];
      }
    }
  });
}

function convertToolResult(block: ToolResultBlockParam, path: string, ctx: BlockContext): Unit {
  const content = toolResultContent(block, path, ctx);
  if (!ctx.caps.tools) {
    const body = content.map((part) => ('text' in part ? part.text : '')).join('\n') || EMPTY_TOOL_RESULT;
    const label = block.is_error ? 'Error from tool call' : 'Result of tool call';
    return unit('content', [{ text: `[${label} ${block.tool_use_id}]\n${body}` }], block.cache_control, ctx);
  }
  const toolResult = {
    toolUseId: toolUseIdFor(block.tool_use_id, ctx.caps),
    content: (content.length > 0 ? content : [{ text: EMPTY_TOOL_RESULT }]) as ToolResultContentBlock[],
    ...(block.is_error ? { status: 'error' as const } : {}),
  };
  return unit('toolResult', [{ toolResult }], block.cache_control, ctx);
}

function convertToolUse(block: ToolUseBlockParam, ctx: BlockContext): Unit {
  if (!ctx.caps.tools) {
    const text = `[Tool call ${block.id}: ${block.name} ${JSON.stringify(block.input ?? {})}]`;
    return unit('content', [{ text }], block.cache_control, ctx);
  }
  const toolUse = {
    toolUseId: toolUseIdFor(block.id, ctx.caps),
    name: ctx.toolNames.toBedrock(block.name),
    input: (block.input ?? {}) as JsonDocument,
  };
  return unit('content', [{ toolUse }], block.cache_control, ctx);
}

function convertBlock(block: ContentBlockParam, path: string, ctx: BlockContext): Unit {
  switch (block.type) {
    case 'text':
      return unit('content', textBlocks(block.text), block.cache_control, ctx);
    case 'image':
      return unit('content', convertImage(block, path, ctx) as ContentBlock[], block.cache_control, ctx);
    case 'document':
      return unit('content', convertDocument(block, path, ctx) as ContentBlock[], block.cache_control, ctx);
    case 'thinking': {
      const converted = convertThinking(block, ctx);
      return { kind: 'reasoning', blocks: converted ? [converted] : [] };
    }
    case 'redacted_thinking': {
      const converted = convertRedactedThinking(block, ctx);
      return { kind: 'reasoning', blocks: converted ? [converted] : [] };
    }
    case 'tool_use':
      return convertToolUse(block, ctx);
    case 'tool_result':
      return convertToolResult(block, path, ctx);
    case 'tool_reference':
      return unit('content', [{ text: toolReferenceText(block.tool_name, ctx) }], undefined, ctx);
    default: {
      const other: never = block;
      const unknown = other as OtherBlockParam;
      return unit('content', dropUnknown(unknown, path, ctx), unknown.cache_control as CacheControl, ctx);
    }
  }
}

/** A message's content (string or blocks) → units; media the model cannot take become notes (media.ts). */
export function convertContent(
  content: string | ContentBlockParam[],
  path: string,
  ctx: BlockContext,
): Unit[] {
  if (typeof content === 'string') return [{ kind: 'content', blocks: textBlocks(content) }];
  return content.map((block, j) => convertBlock(block, `${path}.content.${j}`, ctx));
}
