/** Converse and ConverseStream: request view, JSON response and the stream's events. */
import { modelRejected, validationError } from './errors.ts';
import { padding } from './eventstream.ts';
import type { EmulatedModel } from './models.ts';
import { type CitableSource, firstSentence, type Reply, type RequestView } from './reply.ts';
import { type PromptSegment, promptUsage } from './usage.ts';
import { thinkingOmitted, thinkingOn } from './validate-converse.ts';

type Json = Record<string, unknown>;
const DEFAULT_MAX_TOKENS = 4096;

/** Prompt pieces in model order (tools, system, messages) with cache breakpoints. */
export function converseSegments(body: Json): PromptSegment[] {
  const segments: PromptSegment[] = [];
  const push = (items: unknown[]) => {
    for (const item of items) {
      if (item && typeof item === 'object' && 'cachePoint' in item) {
        const last = segments[segments.length - 1];
        if (last) {
          last.cacheAfter = true;
          last.cacheTtl = (item as { cachePoint?: { ttl?: string } }).cachePoint?.ttl ?? '5m';
        }
      } else {
        segments.push({ value: item, cacheAfter: false });
      }
    }
  };
  const toolConfig = body.toolConfig as Json | undefined;
  push((toolConfig?.tools as unknown[]) ?? []);
  push((body.system as unknown[]) ?? []);
  for (const message of body.messages as Json[]) push(message.content as unknown[]);
  return segments;
}

export function converseView(body: Json, model: EmulatedModel, cacheMemory: Set<string>): RequestView {
  const messages = body.messages as Json[];
  const inference = (body.inferenceConfig as Json | undefined) ?? {};
  const additional = (body.additionalModelRequestFields as Json | undefined) ?? {};
  const usage = promptUsage(converseSegments(body), model.caching, cacheMemory);
  const maxTokens =
    (inference.maxTokens as number | undefined) ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);
  checkContextWindow(
    model,
    usage.inputTokens + usage.cacheReadInputTokens + usage.cacheWriteInputTokens,
    maxTokens,
  );
  const tools = ((body.toolConfig as Json | undefined)?.tools as Json[] | undefined) ?? [];
  const citable = citableSource(messages);
  return {
    lastUserText: lastUserText(messages),
    lastToolResultText: lastToolResultText(messages),
    ...(citable ? { citable } : {}),
    toolNames: tools.flatMap((t) => (t.toolSpec ? [(t.toolSpec as Json).name as string] : [])),
    wantsReasoning:
      model.reasoning === 'always' ||
      (model.reasoning === 'claude' && thinkingOn(additional)) ||
      (model.reasoning === 'on-request' &&
        (additional.reasoningConfig as Json | undefined)?.type === 'enabled'),
    omitThinking: thinkingOmitted(additional, model),
    maxTokens,
    usage,
  };
}

export function checkContextWindow(model: EmulatedModel, inputTokens: number, maxTokens: number): void {
  if (inputTokens > model.contextWindow) {
    if (model.providerName === 'Anthropic') {
      throw modelRejected(`prompt is too long: ${inputTokens} tokens > ${model.contextWindow} maximum`);
    }
    throw validationError('Input is too long for requested model.');
  }
  if (model.providerName === 'Anthropic' && inputTokens + maxTokens > model.contextWindow) {
    throw modelRejected(
      `input length and \`max_tokens\` exceed context limit: ${inputTokens} + ${maxTokens} > ${model.contextWindow}, decrease input length or \`max_tokens\` and try again`,
    );
  }
}

function lastUserText(messages: Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role !== 'user') continue;
    const texts: string[] = [];
    for (const block of message.content as Json[]) {
      if (typeof block.text === 'string') texts.push(block.text);
      const result = block.toolResult as Json | undefined;
      for (const item of (result?.content as Json[] | undefined) ?? []) {
        if (typeof item.text === 'string') texts.push(item.text);
        if (item.json !== undefined) texts.push(JSON.stringify(item.json));
      }
    }
    if (texts.length) return texts.join(' ');
  }
  return '';
}

const TEXT_FORMATS = ['txt', 'md', 'csv', 'html'];

/** A searchResult or a text document's own text (PDFs and the like are not read here). */
function sourceText(block: Json): string | undefined {
  const result = block.searchResult as Json | undefined;
  if (result) return ((result.content as Json[] | undefined) ?? [])[0]?.text as string | undefined;
  const doc = block.document as Json | undefined;
  const source = doc?.source as Json | undefined;
  if (typeof source?.text === 'string') return source.text;
  if (typeof source?.bytes === 'string' && TEXT_FORMATS.includes(doc?.format as string))
    return Buffer.from(source.bytes, 'base64').toString('utf8');
  return undefined;
}

/** The first searchResult / document of the last user turn that asks for citations, with its index. */
function citableSource(messages: Json[]): CitableSource | undefined {
  const counts = { searchResult: 0, document: 0 };
  let found: CitableSource | undefined;
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  messages.forEach((message, m) => {
    const blocks = (message.content as Json[]).flatMap((block) => [
      block,
      ...(((block.toolResult as Json | undefined)?.content as Json[] | undefined) ?? []),
    ]);
    for (const block of blocks) {
      const kind = 'searchResult' in block ? 'searchResult' : 'document' in block ? 'document' : undefined;
      if (!kind) continue;
      const index = counts[kind]++;
      const value = block[kind] as Json;
      if (found || m !== lastUser || (value.citations as Json | undefined)?.enabled !== true) continue;
      const text = sourceText(block);
      if (!text) continue;
      found =
        kind === 'searchResult'
          ? {
              kind: 'search_result',
              index,
              title: value.title as string,
              source: value.source as string,
              quote: text,
              end: 1,
            }
          : { kind: 'document', index, title: value.name as string, quote: firstSentence(text), end: 0 };
      if (found.kind === 'document') found.end = found.quote.length;
    }
  });
  return found;
}

/** Converse's citation of a quoted source. */
function converseCitation(source: CitableSource): Json {
  return {
    title: source.title,
    ...(source.source === undefined ? {} : { source: source.source }),
    sourceContent: [{ text: source.quote }],
    location:
      source.kind === 'search_result'
        ? { searchResultLocation: { searchResultIndex: source.index, start: 0, end: source.end } }
        : { documentChar: { documentIndex: source.index, start: 0, end: source.end } },
  };
}

function lastToolResultText(messages: Json[]): string {
  for (const message of messages.toReversed()) {
    for (const block of (message.content as Json[]).toReversed()) {
      const result = block.toolResult as Json | undefined;
      if (!result) continue;
      return ((result.content as Json[] | undefined) ?? [])
        .map((item) => (typeof item.text === 'string' ? item.text : JSON.stringify(item.json ?? '')))
        .join(' ');
    }
  }
  return '';
}

function usageJson(reply: Reply) {
  const u = reply.usage;
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    totalTokens: u.inputTokens + u.outputTokens + u.cacheReadInputTokens + u.cacheWriteInputTokens,
    ...(u.cacheReadInputTokens || u.cacheWriteInputTokens
      ? { cacheReadInputTokens: u.cacheReadInputTokens, cacheWriteInputTokens: u.cacheWriteInputTokens }
      : {}),
    // The writes by lifetime, 1h before 5m, only those with tokens (TokenUsage.cacheDetails).
    ...(u.cacheWriteInputTokens
      ? {
          cacheDetails: [
            { ttl: '1h', inputTokens: u.cacheWrite1hInputTokens ?? 0 },
            { ttl: '5m', inputTokens: u.cacheWriteInputTokens - (u.cacheWrite1hInputTokens ?? 0) },
          ].filter((detail) => detail.inputTokens > 0),
        }
      : {}),
  };
}

/**
 * `additionalModelResponseFields` for a request that asked for `/stop_sequence` (Claude reports the
 * matched sequence there; other providers have no such field).
 */
export function responseFields(body: Json, model: EmulatedModel, reply: Reply): Json | undefined {
  const paths = body.additionalModelResponseFieldPaths;
  if (model.providerName !== 'Anthropic' || !Array.isArray(paths) || !paths.includes('/stop_sequence')) {
    return undefined;
  }
  return { stop_sequence: reply.stopSequence ?? null };
}

export function converseResponse(reply: Reply, latencyMs: number, serviceTier?: string, fields?: Json) {
  const content = reply.blocks.map((block) => {
    switch (block.kind) {
      case 'text':
        if (block.cites) {
          return {
            citationsContent: { content: [{ text: block.text }], citations: [converseCitation(block.cites)] },
          };
        }
        return { text: block.text };
      case 'reasoning':
        return {
          reasoningContent: {
            reasoningText: { text: block.text, ...(block.signature ? { signature: block.signature } : {}) },
          },
        };
      case 'redacted':
        return { reasoningContent: { redactedContent: block.data } };
      case 'toolUse':
        return { toolUse: { toolUseId: block.id, name: block.name, input: block.input } };
      default:
        return block satisfies never;
    }
  });
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: reply.stopReason,
    ...(fields ? { additionalModelResponseFields: fields } : {}),
    usage: usageJson(reply),
    metrics: { latencyMs },
    ...(serviceTier ? { serviceTier: { type: serviceTier } } : {}),
  };
}

export interface StreamEvent {
  eventType: string;
  payload: Json;
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

/** ConverseStream's events; text and reasoning blocks start without contentBlockStart, as on Bedrock. */
export function converseStreamEvents(
  reply: Reply,
  chunkSize: number,
  latencyMs: number,
  fields?: Json,
): StreamEvent[] {
  let seed = 1;
  const ev = (eventType: string, payload: Json): StreamEvent => ({
    eventType,
    payload: { ...payload, p: padding(seed++) },
  });
  const events: StreamEvent[] = [ev('messageStart', { role: 'assistant' })];
  reply.blocks.forEach((block, index) => {
    switch (block.kind) {
      case 'text':
        for (const piece of chunks(block.text, chunkSize)) {
          events.push(ev('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }));
        }
        if (block.cites) {
          events.push(
            ev('contentBlockDelta', {
              contentBlockIndex: index,
              delta: { citation: converseCitation(block.cites) },
            }),
          );
        }
        break;
      case 'reasoning':
        for (const piece of chunks(block.text, chunkSize)) {
          events.push(
            ev('contentBlockDelta', {
              contentBlockIndex: index,
              delta: { reasoningContent: { text: piece } },
            }),
          );
        }
        if (block.signature) {
          events.push(
            ev('contentBlockDelta', {
              contentBlockIndex: index,
              delta: { reasoningContent: { signature: block.signature } },
            }),
          );
        }
        break;
      case 'redacted':
        events.push(
          ev('contentBlockDelta', {
            contentBlockIndex: index,
            delta: { reasoningContent: { redactedContent: block.data } },
          }),
        );
        break;
      case 'toolUse':
        events.push(
          ev('contentBlockStart', {
            contentBlockIndex: index,
            start: { toolUse: { toolUseId: block.id, name: block.name } },
          }),
        );
        for (const piece of chunks(JSON.stringify(block.input), chunkSize)) {
          events.push(
            ev('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }),
          );
        }
        break;
      default:
        block satisfies never;
    }
    events.push(ev('contentBlockStop', { contentBlockIndex: index }));
  });
  events.push(
    ev('messageStop', {
      stopReason: reply.stopReason,
      ...(fields ? { additionalModelResponseFields: fields } : {}),
    }),
  );
  events.push(ev('metadata', { usage: usageJson(reply), metrics: { latencyMs } }));
  return events;
}
