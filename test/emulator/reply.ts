/**
 * The model's answer in a wire-neutral shape, from a script turn or the deterministic default
 * (`Echo: <last user text>`, a tool call when asked to `use tool NAME`, reasoning when the model reasons).
 */
import { randomBytes } from 'node:crypto';
import type { EmulatedModel } from './models.ts';
import type { ScriptTurn } from './script.ts';
import { signClaudeThinking } from './signature.ts';

export type ReplyBlock =
  | { kind: 'reasoning'; text: string; signature?: string }
  | { kind: 'redacted'; data: string }
  /** `cites`: the text quotes that source, so Claude answers it as a cited passage. */
  | { kind: 'text'; text: string; cites?: CitableSource }
  | { kind: 'toolUse'; id: string; name: string; input: unknown };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  /** Of the writes, those for an hour. */
  cacheWrite1hInputTokens?: number;
}

export interface Reply {
  blocks: ReplyBlock[];
  stopReason: string;
  /** The stop sequence that ended the reply (stopReason `stop_sequence`). */
  stopSequence?: string;
  usage: Usage;
  /** A compaction's own sampling before this reply (InvokeModel's `usage.iterations`). */
  compaction?: { inputTokens: number; outputTokens: number };
}

/**
 * A source in the request that Claude may cite: a search result or a plain-text document with citations
 * enabled. `index` counts the sources of that kind in the whole request, as Claude's citations do.
 */
export interface CitableSource {
  kind: 'search_result' | 'document';
  index: number;
  title: string;
  /** A search result's source (URL or id). */
  source?: string;
  /** The passage quoted: a search result's first text block, a document's first sentence. */
  quote: string;
  /** Where the quote ends in the document's text (char_location), or the block after it (search result). */
  end: number;
}

/** What the default reply needs to know about a request, whichever wire format it came in. */
export interface RequestView {
  lastUserText: string;
  /** Text of the newest tool result in the request ('' when none): what `{{toolResult}}` in a script becomes. */
  lastToolResultText: string;
  /** The first source in the last user turn that asks for citations (Claude models only). */
  citable?: CitableSource;
  toolNames: string[];
  wantsReasoning: boolean;
  /** The thinking text is left out (display `omitted`, Opus 4.7's default); its signature still comes. */
  omitThinking?: boolean;
  maxTokens: number;
  usage: Pick<
    Usage,
    'inputTokens' | 'cacheReadInputTokens' | 'cacheWriteInputTokens' | 'cacheWrite1hInputTokens'
  >;
}

/** A document's first sentence (at most 200 characters): what the emulated Claude quotes of it. */
export function firstSentence(text: string): string {
  const end = text.search(/[.!?](\s|$)/);
  return (end === -1 ? text : text.slice(0, end + 1)).slice(0, 200);
}

export type IdStyle = 'converse' | 'anthropic';

export function toolUseId(style: IdStyle): string {
  const random = randomBytes(18).toString('base64url');
  return style === 'converse' ? `tooluse_${random.slice(0, 22)}` : `toolu_bdrk_${random}`;
}

export function estimateTextTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function buildReply(
  view: RequestView,
  model: EmulatedModel,
  turn: ScriptTurn | undefined,
  style: IdStyle,
): Reply {
  const blocks: ReplyBlock[] = [];
  const reasoning = turn?.reasoning ?? (turn ? undefined : defaultReasoning(view));
  if (reasoning && model.reasoning !== 'none') {
    if (reasoning.redacted !== undefined) blocks.push({ kind: 'redacted', data: reasoning.redacted });
    if (reasoning.text !== undefined) {
      // Claude's signature is minted after truncation so it always matches the text sent.
      const signature = reasoning.signature;
      blocks.push({ kind: 'reasoning', text: reasoning.text, ...(signature ? { signature } : {}) });
    }
  }
  let stopReason = turn?.stopReason;
  if (turn) {
    // `{{toolResult}}` lets a script answer from what the client's tool really returned.
    const text = turn.text?.replaceAll('{{toolResult}}', view.lastToolResultText);
    if (text !== undefined && text !== '') blocks.push({ kind: 'text', text });
    for (const call of turn.toolCalls ?? []) {
      blocks.push({
        kind: 'toolUse',
        id: call.id ?? toolUseId(style),
        name: call.name,
        input: call.input ?? {},
      });
    }
    stopReason ??= turn.toolCalls?.length ? model.toolCallStopReason : 'end_turn';
  } else {
    const asked = /use tool ([A-Za-z0-9_-]+)/.exec(view.lastUserText)?.[1];
    if (asked && view.toolNames.includes(asked)) {
      blocks.push({ kind: 'toolUse', id: toolUseId(style), name: asked, input: {} });
      stopReason = model.toolCallStopReason;
    } else {
      blocks.push({ kind: 'text', text: `Echo: ${view.lastUserText}` });
      // With citations asked of a source, Claude answers part of it as a cited passage of that source.
      if (view.citable && model.providerName === 'Anthropic')
        blocks.push({ kind: 'text', text: view.citable.quote, cites: view.citable });
      stopReason = 'end_turn';
    }
  }

  let outputTokens = 0;
  for (const block of blocks) outputTokens += estimateTextTokens(blockChars(block));
  if (!turn?.usage?.outputTokens && outputTokens > view.maxTokens) {
    truncate(blocks, view.maxTokens * 4);
    outputTokens = view.maxTokens;
    stopReason = 'max_tokens';
  }
  if (view.omitThinking) {
    for (const [i, block] of blocks.entries())
      if (block.kind === 'reasoning') blocks[i] = { ...block, text: '' };
  }
  if (model.reasoning === 'claude') {
    for (const [i, block] of blocks.entries()) {
      if (block.kind === 'reasoning' && !block.signature)
        blocks[i] = { ...block, signature: signClaudeThinking(block.text) };
    }
  }
  return {
    blocks,
    stopReason: stopReason ?? 'end_turn',
    ...(turn?.compaction ? { compaction: turn.compaction } : {}),
    usage: {
      inputTokens: turn?.usage?.inputTokens ?? view.usage.inputTokens,
      outputTokens: turn?.usage?.outputTokens ?? Math.max(1, outputTokens),
      cacheReadInputTokens: turn?.usage?.cacheReadInputTokens ?? view.usage.cacheReadInputTokens,
      cacheWriteInputTokens: turn?.usage?.cacheWriteInputTokens ?? view.usage.cacheWriteInputTokens,
      cacheWrite1hInputTokens:
        turn?.usage?.cacheWriteInputTokens === undefined ? (view.usage.cacheWrite1hInputTokens ?? 0) : 0,
    },
  };
}

function defaultReasoning(view: RequestView): ScriptTurn['reasoning'] {
  return view.wantsReasoning
    ? { text: `The user wrote: ${view.lastUserText.slice(0, 200)}. I will answer.` }
    : undefined;
}

function blockChars(block: ReplyBlock): number {
  switch (block.kind) {
    case 'reasoning':
    case 'text':
      return block.text.length;
    case 'redacted':
      return 0;
    case 'toolUse':
      return JSON.stringify(block.input).length + block.name.length;
    default:
      return block satisfies never;
  }
}

function truncate(blocks: ReplyBlock[], budgetChars: number): void {
  let left = budgetChars;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (block.kind === 'redacted') continue;
    if (left <= 0) {
      blocks.splice(i);
      return;
    }
    const chars = blockChars(block);
    if (chars > left && (block.kind === 'text' || block.kind === 'reasoning')) {
      blocks[i] = { ...block, text: block.text.slice(0, left) };
      blocks.splice(i + 1);
      return;
    }
    left -= chars;
  }
}
