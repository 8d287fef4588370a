/** InvokeModel[WithResponseStream] for Claude: the Anthropic body Bedrock takes, and its answers. */
import { randomBytes } from 'node:crypto';
import { checkContextWindow } from './converse.ts';
import { modelRejected, validationError } from './errors.ts';
import type { EmulatedModel } from './models.ts';
import { type CitableSource, firstSentence, type Reply, type RequestView } from './reply.ts';
import { verifyClaudeSignature } from './signature.ts';
import { type PromptSegment, promptUsage } from './usage.ts';
import {
  checkBetas,
  checkClaudeSampling,
  checkClaudeThinking,
  thinkingOmitted,
  thinkingOn,
} from './validate-converse.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';
const MALFORMED = (detail: string) =>
  `Malformed input request: #: ${detail}, please reformat your input and try again.`;
const BASE_KEYS = [
  'anthropic_version',
  'anthropic_beta',
  'max_tokens',
  'messages',
  'system',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'metadata',
];
const BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
  'search_result',
];
const COMPACT_BETA = 'compact-2026-01-12';
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Bedrock's name for the model inside Anthropic responses, e.g. claude-sonnet-4-5-20250929. */
export function anthropicModelName(model: EmulatedModel): string {
  return model.modelId.replace(/^anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

export function validateInvokeBody(body: unknown, model: EmulatedModel): Json {
  if (model.invoke !== 'anthropic') {
    // The emulator speaks only Claude's native body; other families go through Converse in abproxy.
    throw validationError(`The emulator does not implement InvokeModel for ${model.modelId}; use Converse.`);
  }
  if (!isObject(body)) throw validationError(MALFORMED('expected type: JSONObject, found: other'));
  const allowed = new Set([
    ...BASE_KEYS,
    ...(model.reasoning === 'claude' ? ['thinking', 'context_management'] : []),
    ...(model.structuredOutputs || model.effort ? ['output_config'] : []),
  ]);
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) throw validationError(MALFORMED(`extraneous key [${key}] is not permitted`));
  }
  for (const key of ['anthropic_version', 'max_tokens', 'messages']) {
    if (!(key in body)) throw validationError(MALFORMED(`required key [${key}] not found`));
  }
  if (body.anthropic_version !== BEDROCK_ANTHROPIC_VERSION) {
    throw validationError(`invalid anthropic_version: ${String(body.anthropic_version)}`); // unverified wording
  }
  const betas = (body.anthropic_beta as string[] | undefined) ?? [];
  if ('anthropic_beta' in body) checkBetas(body.anthropic_beta);
  const maxTokens = body.max_tokens;
  if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) {
    throw modelRejected('max_tokens: Input should be greater than or equal to 1');
  }
  const cap =
    betas.includes('output-128k-2025-02-19') && model.maxOutputTokens >= 64_000
      ? 128_000
      : model.maxOutputTokens;
  if ((maxTokens as number) > cap) {
    throw validationError(
      `max_tokens: ${maxTokens} > ${cap}, which is the maximum allowed number of output tokens for ${anthropicModelName(model)}`,
    );
  }
  for (const name of ['temperature', 'top_p'] as const) {
    const value = body[name];
    if (value === undefined) continue;
    if (typeof value !== 'number') throw validationError(`${name}: Input should be a valid number`);
    if (value < 0) throw validationError(`${name}: Input should be greater than or equal to 0`);
    if (value > 1) throw validationError(`${name}: Input should be less than or equal to 1`);
  }
  if (isObject(body.metadata)) {
    // Anthropic's metadata takes user_id only (its validation wording; Bedrock runs the same checks).
    const extra = Object.keys(body.metadata).find((key) => key !== 'user_id');
    if (extra !== undefined) throw validationError(`metadata.${extra}: Extra inputs are not permitted`);
  }
  checkOutputConfig(body.output_config, model, betas);
  checkClaudeThinking(body, model, maxTokens, body.temperature);
  checkClaudeSampling(model, { temperature: body.temperature, top_p: body.top_p, top_k: body.top_k });
  const toolNames = checkTools(body.tools, model);
  // Compaction (Bedrock's compaction page): InvokeModel only, Sonnet/Opus 4.6, behind its beta.
  const compaction = model.adaptiveThinking && betas.includes(COMPACT_BETA);
  checkMessages(body.messages, model, thinkingOn(body), compaction);
  const cacheCount = countCacheControl(body);
  if (cacheCount > 4)
    throw validationError(`A maximum of 4 blocks with cache_control may be provided. Found ${cacheCount}.`);
  void toolNames;
  return body;
}

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'];
const EFFORT_BETA = 'effort-2025-11-24';

/**
 * `output_config`: `format` (structured outputs) on the models that take it, `effort` on the models with
 * effort (behind its beta where thinking is not adaptive: Opus 4.5). Wording in Anthropic's pydantic
 * style; unverified.
 */
function checkOutputConfig(config: unknown, model: EmulatedModel, betas: string[]): void {
  if (config === undefined) return;
  if (!isObject(config)) throw validationError('output_config: Input should be a valid dictionary');
  for (const key of Object.keys(config)) {
    const taken =
      (key === 'format' && model.structuredOutputs) ||
      (key === 'effort' && model.effort && (model.adaptiveThinking || betas.includes(EFFORT_BETA)));
    if (!taken) throw validationError(`output_config.${key}: Extra inputs are not permitted`);
  }
  if (config.effort !== undefined && !EFFORTS.includes(config.effort as string)) {
    throw validationError(`output_config.effort: Input should be ${EFFORTS.map((e) => `'${e}'`).join(', ')}`);
  }
  if (config.format !== undefined) {
    const format = config.format;
    if (!isObject(format) || format.type !== 'json_schema')
      throw validationError("output_config.format.type: Input should be 'json_schema'");
    if (!isObject(format.schema)) throw validationError('output_config.format.schema: Field required');
  }
}

/** Anthropic's server tools: refused for Claude on Bedrock (Anthropic's Bedrock page, protocol-notes.md). */
export const SERVER_TOOL = /^(web_search|web_fetch|code_execution)_/;

function checkTools(tools: unknown, model: EmulatedModel): string[] {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) throw validationError('tools: Input should be a valid list');
  const names: string[] = [];
  tools.forEach((tool, i) => {
    if (!isObject(tool)) throw validationError(`tools.${i}: Input should be a valid dictionary`);
    if (typeof tool.type === 'string' && SERVER_TOOL.test(tool.type))
      throw validationError(`tools.${i}: ${tool.type} is not supported on Amazon Bedrock`); // unverified
    const name = tool.name;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw validationError(`tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
    }
    if (names.includes(name)) throw validationError('tools: Tool names must be unique.');
    names.push(name);
    if (tool.type === undefined || tool.type === 'custom') {
      const schema = tool.input_schema;
      if (!isObject(schema)) throw validationError(`tools.${i}.custom.input_schema: Field required`);
      if (schema.type !== 'object')
        throw validationError(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
      // Strict tool use is structured outputs' (Claude 4.5 on); Anthropic's pydantic wording, unverified.
      if (tool.strict !== undefined && !model.structuredOutputs)
        throw validationError(`tools.${i}.custom.strict: Extra inputs are not permitted`);
    }
  });
  return names;
}

function blocksOf(content: unknown): Json[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : (content as Json[]);
}

function checkMessages(
  messages: unknown,
  model: EmulatedModel,
  thinking: boolean,
  compaction: boolean,
): void {
  const blockTypes = compaction ? [...BLOCK_TYPES, 'compaction'] : BLOCK_TYPES;
  if (!Array.isArray(messages) || messages.length === 0)
    throw validationError('messages: at least one message is required');
  let pending: string[] = [];
  messages.forEach((message, m) => {
    if (!isObject(message)) throw validationError(`messages.${m}: Input should be a valid dictionary`);
    if (message.role !== 'user' && message.role !== 'assistant') {
      throw validationError(`messages.${m}.role: Input should be 'user' or 'assistant'`);
    }
    const content = message.content;
    if (typeof content !== 'string' && !Array.isArray(content)) {
      throw validationError(`messages.${m}.content: Input should be a valid list`);
    }
    const blocks = blocksOf(content);
    if (blocks.length === 0 && m !== messages.length - 1) {
      throw validationError(
        `messages.${m}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
    const uses: string[] = [];
    const results: string[] = [];
    blocks.forEach((block, c) => {
      const where = `messages.${m}.content.${c}`;
      if (!isObject(block) || !blockTypes.includes(block.type as string)) {
        throw validationError(
          `${where}.type: Input tag '${String(isObject(block) ? block.type : block)}' found using 'type' does not match any of the expected tags: ${blockTypes.map((t) => `'${t}'`).join(', ')}`,
        );
      }
      switch (block.type) {
        case 'text':
          if (typeof block.text !== 'string' || block.text === '')
            throw validationError('messages: text content blocks must be non-empty');
          if (block.text.trim() === '')
            throw validationError('messages: text content blocks must contain non-whitespace text');
          break;
        case 'image': {
          if (!model.images)
            throw validationError(`${anthropicModelName(model)} does not support image input.`);
          const source = block.source as Json;
          if (
            isObject(source) &&
            source.type === 'base64' &&
            !IMAGE_TYPES.includes(source.media_type as string)
          ) {
            throw validationError(
              `${where}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
            );
          }
          break;
        }
        case 'tool_use':
          if (message.role !== 'assistant')
            throw validationError(`${where}: tool_use blocks are only allowed in assistant messages`);
          uses.push(block.id as string);
          break;
        case 'tool_result':
          results.push(block.tool_use_id as string);
          break;
        case 'thinking':
          if (
            typeof block.signature !== 'string' ||
            !verifyClaudeSignature(String(block.thinking), block.signature)
          ) {
            throw validationError(`${where}: Invalid \`signature\` in \`thinking\` block`);
          }
          break;
        default:
          break;
      }
    });
    if (message.role === 'user') {
      const unexpected = results.filter((id) => !pending.includes(id));
      if (unexpected.length) {
        throw validationError(
          `messages.${m}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
    if (message.role === 'assistant' && pending.length) {
      throw validationError(
        `messages.${m - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${pending.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      );
    }
    if (message.role === 'user' && pending.length) {
      const missing = pending.filter((id) => !results.includes(id));
      if (missing.length) {
        throw validationError(
          `messages.${m - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    pending = message.role === 'assistant' ? uses : [];
  });
  if (thinking) {
    const last = messages[messages.length - 1] as Json;
    const assistant = messages[messages.length - 2] as Json | undefined;
    const lastBlocks = blocksOf(last.content);
    if (last.role === 'user' && assistant && lastBlocks.some((b) => b.type === 'tool_result')) {
      const first = blocksOf(assistant.content)[0];
      if (first && first.type !== 'thinking' && first.type !== 'redacted_thinking') {
        throw validationError(
          `messages.${messages.length - 2}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`,
        );
      }
    }
  }
}

function countCacheControl(body: Json): number {
  let count = 0;
  const visit = (items: unknown) => {
    if (!Array.isArray(items)) return;
    for (const item of items) if (isObject(item) && item.cache_control) count += 1;
  };
  visit(body.tools);
  visit(body.system);
  for (const message of body.messages as Json[]) visit(message.content);
  return count;
}

export function invokeSegments(body: Json): PromptSegment[] {
  const segments: PromptSegment[] = [];
  const push = (items: unknown) => {
    const list =
      typeof items === 'string' ? [{ type: 'text', text: items }] : Array.isArray(items) ? items : [];
    for (const item of list) {
      const { cache_control, ...value } = item as Json;
      const ttl = (cache_control as { ttl?: string } | undefined)?.ttl ?? '5m';
      segments.push({ value, cacheAfter: Boolean(cache_control), cacheTtl: ttl });
    }
  };
  push(body.tools);
  push(body.system);
  for (const message of body.messages as Json[]) push(message.content);
  return segments;
}

export function invokeView(body: Json, model: EmulatedModel, cacheMemory: Set<string>): RequestView {
  const usage = promptUsage(invokeSegments(body), model.caching, cacheMemory);
  const maxTokens = body.max_tokens as number;
  checkContextWindow(
    model,
    usage.inputTokens + usage.cacheReadInputTokens + usage.cacheWriteInputTokens,
    maxTokens,
  );
  const messages = body.messages as Json[];
  let lastUserText = '';
  for (let i = messages.length - 1; i >= 0 && !lastUserText; i--) {
    if (messages[i]!.role !== 'user') continue;
    const texts: string[] = [];
    for (const block of blocksOf(messages[i]!.content)) {
      if (block.type === 'text') texts.push(block.text as string);
      if (block.type === 'tool_result') {
        for (const item of blocksOf(block.content ?? []))
          if (item.type === 'text') texts.push(item.text as string);
      }
    }
    lastUserText = texts.join(' ');
  }
  const citable = citableSource(messages);
  return {
    lastUserText,
    lastToolResultText: lastToolResultText(messages),
    ...(citable ? { citable } : {}),
    toolNames: ((body.tools as Json[] | undefined) ?? []).map((t) => t.name as string),
    wantsReasoning: thinkingOn(body),
    omitThinking: thinkingOmitted(body, model),
    maxTokens,
    usage,
  };
}

function lastToolResultText(messages: Json[]): string {
  for (const message of messages.toReversed()) {
    const result = blocksOf(message.content).findLast((block) => block.type === 'tool_result');
    if (!result) continue;
    if (typeof result.content === 'string') return result.content;
    return blocksOf(result.content ?? [])
      .flatMap((item) => (item.type === 'text' ? [item.text as string] : []))
      .join(' ');
  }
  return '';
}

/** A plain-text document's text (base64 text/plain, text or content sources); PDFs are not read here. */
function documentText(source: Json | undefined): string | undefined {
  if (source?.type === 'text' && typeof source.data === 'string') return source.data;
  if (source?.type === 'base64' && source.media_type === 'text/plain' && typeof source.data === 'string')
    return Buffer.from(source.data, 'base64').toString('utf8');
  if (source?.type === 'content') {
    const first = typeof source.content === 'string' ? source.content : blocksOf(source.content)[0]?.text;
    return typeof first === 'string' ? first : undefined;
  }
  return undefined;
}

/** The first search_result / document of the last user turn with citations enabled, with its index. */
function citableSource(messages: Json[]): CitableSource | undefined {
  const counts = { search_result: 0, document: 0 };
  let found: CitableSource | undefined;
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  messages.forEach((message, m) => {
    const blocks = blocksOf(message.content).flatMap((block) => [
      block,
      ...(block.type === 'tool_result' ? blocksOf(block.content ?? []) : []),
    ]);
    for (const block of blocks) {
      if (block.type !== 'search_result' && block.type !== 'document') continue;
      const index = counts[block.type]++;
      if (found || m !== lastUser || (block.citations as Json | undefined)?.enabled !== true) continue;
      if (block.type === 'search_result') {
        const quote = blocksOf(block.content)[0]?.text;
        if (typeof quote !== 'string') continue;
        const title = String(block.title);
        found = { kind: 'search_result', index, title, source: String(block.source), quote, end: 1 };
      } else {
        const text = documentText(block.source as Json | undefined);
        if (!text) continue;
        const quote = firstSentence(text);
        found = { kind: 'document', index, title: String(block.title ?? ''), quote, end: quote.length };
      }
    }
  });
  return found;
}

/** Claude's citation of a quoted source (Anthropic's shape). */
function anthropicCitation(source: CitableSource): Json {
  if (source.kind === 'search_result') {
    return {
      type: 'search_result_location',
      cited_text: source.quote,
      search_result_index: source.index,
      start_block_index: 0,
      end_block_index: source.end,
      source: source.source,
      title: source.title,
    };
  }
  return {
    type: 'char_location',
    cited_text: source.quote,
    document_index: source.index,
    document_title: source.title || null,
    start_char_index: 0,
    end_char_index: source.end,
  };
}

function contentJson(reply: Reply): Json[] {
  return reply.blocks.map((block) => {
    switch (block.kind) {
      case 'text':
        if (block.cites)
          return { type: 'text', text: block.text, citations: [anthropicCitation(block.cites)] };
        return { type: 'text', text: block.text };
      case 'reasoning':
        return { type: 'thinking', thinking: block.text, signature: block.signature ?? '' };
      case 'redacted':
        return { type: 'redacted_thinking', data: block.data };
      case 'toolUse':
        return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
      default:
        return block satisfies never;
    }
  });
}

function usageJson(reply: Reply, outputTokens: number) {
  return {
    input_tokens: reply.usage.inputTokens,
    cache_creation_input_tokens: reply.usage.cacheWriteInputTokens,
    cache_read_input_tokens: reply.usage.cacheReadInputTokens,
    // Claude splits its cache writes by lifetime, as on Anthropic's API.
    ...(reply.usage.cacheWriteInputTokens
      ? {
          cache_creation: {
            ephemeral_5m_input_tokens:
              reply.usage.cacheWriteInputTokens - (reply.usage.cacheWrite1hInputTokens ?? 0),
            ephemeral_1h_input_tokens: reply.usage.cacheWrite1hInputTokens ?? 0,
          },
        }
      : {}),
    output_tokens: outputTokens,
  };
}

/** The final usage: with a compaction, its `iterations` (the compaction's, then the message's own). */
function finalUsageJson(reply: Reply) {
  const usage = usageJson(reply, reply.usage.outputTokens);
  if (!reply.compaction) return usage;
  const compaction = {
    type: 'compaction',
    input_tokens: reply.compaction.inputTokens,
    output_tokens: reply.compaction.outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  return { ...usage, iterations: [compaction, { type: 'message', ...usage }] };
}

export function messageId(): string {
  return `msg_bdrk_${randomBytes(18).toString('base64url')}`;
}

export function invokeResponse(reply: Reply, model: EmulatedModel) {
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: anthropicModelName(model),
    content: contentJson(reply),
    stop_reason: reply.stopReason,
    stop_sequence: reply.stopSequence ?? null,
    usage: finalUsageJson(reply),
  };
}

/** Anthropic stream events; the last one carries Bedrock's invocation metrics. */
export function invokeStreamEvents(
  reply: Reply,
  model: EmulatedModel,
  chunkSize: number,
  latencyMs: number,
): Json[] {
  const events: Json[] = [
    {
      type: 'message_start',
      message: {
        id: messageId(),
        type: 'message',
        role: 'assistant',
        model: anthropicModelName(model),
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usageJson(reply, 1),
      },
    },
  ];
  const pieces = (text: string) => {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += chunkSize) out.push(text.slice(i, i + chunkSize));
    return out;
  };
  contentJson(reply).forEach((block, index) => {
    switch (block.type) {
      case 'text':
        events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        for (const text of pieces(block.text as string)) {
          events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
        }
        // A cited passage's citations follow its text, one citations_delta each (Anthropic's stream).
        for (const citation of (block.citations as Json[] | undefined) ?? []) {
          events.push({ type: 'content_block_delta', index, delta: { type: 'citations_delta', citation } });
        }
        break;
      case 'thinking':
        events.push({
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        });
        for (const thinking of pieces(block.thinking as string)) {
          events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
        }
        events.push({
          type: 'content_block_delta',
          index,
          delta: { type: 'signature_delta', signature: block.signature },
        });
        break;
      case 'redacted_thinking':
        events.push({ type: 'content_block_start', index, content_block: block });
        break;
      case 'tool_use':
        events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
        for (const partial_json of pieces(JSON.stringify(block.input))) {
          events.push({
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json },
          });
        }
        break;
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: { stop_reason: reply.stopReason, stop_sequence: reply.stopSequence ?? null },
    usage: reply.compaction ? finalUsageJson(reply) : { output_tokens: reply.usage.outputTokens },
  });
  events.push({
    type: 'message_stop',
    'amazon-bedrock-invocationMetrics': {
      inputTokenCount: reply.usage.inputTokens,
      outputTokenCount: reply.usage.outputTokens,
      invocationLatency: latencyMs,
      firstByteLatency: Math.min(latencyMs, 5),
      cacheReadInputTokenCount: reply.usage.cacheReadInputTokens,
      cacheWriteInputTokenCount: reply.usage.cacheWriteInputTokens,
    },
  });
  return events;
}
