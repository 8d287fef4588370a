/**
 * The OpenTelemetry GenAI semantic conventions for one Messages call, as pure functions: the request's
 * attributes, the answer's, and the bounded prompt/completion text (only used with ABPROXY_TRACE_CONTENT).
 * No SDK import: attributes are plain records the span helpers set.
 */
import type { MessagesRequest } from '../anthropic/types.ts';
import { routePath } from '../server/http/router.ts';
import type { OutgoingEvent } from '../translate/stream-translator.ts';
import { FORWARD_OPERATIONS } from '../upstream/runtime.ts';

export type Attributes = Record<string, string | number | boolean | string[]>;

/** `gen_ai.provider.name` of every call the gateway makes (the conventions' name for Bedrock). */
export const GEN_AI_PROVIDER = 'aws.bedrock';

/** Longest prompt or completion text put in a span (characters). */
export const CONTENT_LIMIT = 16_384;

/**
 * The request's settings, for the attempt span (the GenAI span). The model, the operation and whether
 * the call streams belong to each attempt, which sets them; the tool count has no convention name.
 */
export function requestAttributes(request: MessagesRequest): Attributes {
  const attributes: Attributes = {};
  if (typeof request.max_tokens === 'number') attributes['gen_ai.request.max_tokens'] = request.max_tokens;
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
  if (typeof request.top_p === 'number') attributes['gen_ai.request.top_p'] = request.top_p;
  if (typeof request.top_k === 'number') attributes['gen_ai.request.top_k'] = request.top_k;
  if (request.stop_sequences?.length) attributes['gen_ai.request.stop_sequences'] = request.stop_sequences;
  if (request.tools?.length) attributes['abproxy.request.tool_count'] = request.tools.length;
  return attributes;
}

export interface AnswerFacts {
  /** The message id the client got (`msg_…`). */
  id?: string | undefined;
  /** The Bedrock model id that answered. */
  model?: string | undefined;
  /** All input tokens, cached ones included (as the GenAI conventions count them). */
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  cacheReadTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
  stopReason?: string | null | undefined;
}

export function responseAttributes(answer: AnswerFacts): Attributes {
  const attributes: Attributes = {};
  if (answer.id) attributes['gen_ai.response.id'] = answer.id;
  if (answer.model) attributes['gen_ai.response.model'] = answer.model;
  if (answer.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = answer.inputTokens;
  if (answer.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = answer.outputTokens;
  if (answer.cacheReadTokens) attributes['gen_ai.usage.cache_read.input_tokens'] = answer.cacheReadTokens;
  if (answer.cacheWriteTokens) attributes['gen_ai.usage.cache_write.input_tokens'] = answer.cacheWriteTokens;
  if (answer.stopReason) attributes['gen_ai.response.finish_reasons'] = [answer.stopReason];
  return attributes;
}

/** `text` cut to `limit` characters, saying how much was left out. */
export function bounded(text: string, limit = CONTENT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [${text.length - limit} more characters]`;
}

type Part = Record<string, unknown>;

/**
 * One Anthropic content block as a part of the conventions' message shape (text, tool call, result);
 * thinking stays out, as it always did.
 */
function partOf(block: unknown): Part | undefined {
  const b = block as { type?: string; text?: unknown; id?: unknown; name?: unknown; input?: unknown };
  const any = block as { tool_use_id?: unknown; content?: unknown };
  if (b.type === 'text') return { type: 'text', content: b.text };
  if (b.type === 'tool_use' || b.type === 'server_tool_use')
    return { type: 'tool_call', id: b.id, name: b.name, arguments: b.input };
  if (b.type === 'tool_result')
    return { type: 'tool_call_response', id: any.tool_use_id, response: any.content };
  if (b.type === 'thinking' || b.type === 'redacted_thinking') return undefined;
  // Images, documents and the like: their kind only, never their bytes.
  return { type: typeof b.type === 'string' ? b.type : 'unknown' };
}

const partsOf = (content: unknown): Part[] =>
  typeof content === 'string'
    ? [{ type: 'text', content }]
    : Array.isArray(content)
      ? content.map(partOf).filter((part) => part !== undefined)
      : [];

/** `gen_ai.system_instructions`: the system prompt as parts, bounded JSON; undefined without one. */
export function systemText(request: MessagesRequest, limit = CONTENT_LIMIT): string | undefined {
  return request.system === undefined ? undefined : bounded(JSON.stringify(partsOf(request.system)), limit);
}

/** `gen_ai.input.messages`: the messages in the conventions' shape (role and parts), bounded JSON. */
export function promptText(request: MessagesRequest, limit = CONTENT_LIMIT): string {
  const messages = request.messages.map((m) => ({ role: m.role, parts: partsOf(m.content) }));
  return bounded(JSON.stringify(messages), limit);
}

/** `gen_ai.output.messages` of an answer given as content blocks (or, from a stream, its text). */
export function completionText(
  content: readonly unknown[] | string,
  stopReason: string | undefined,
  limit = CONTENT_LIMIT,
): string {
  const parts = partsOf(content);
  const message = { role: 'assistant', parts, ...(stopReason ? { finish_reason: stopReason } : {}) };
  return bounded(JSON.stringify([message]), limit);
}

/** The JSON payload of an outgoing stream event (built, or a formatted SSE frame). */
function payload(event: OutgoingEvent): Record<string, unknown> | undefined {
  if (!('frame' in event)) return event as unknown as Record<string, unknown>;
  const at = event.frame.indexOf('data:');
  if (at < 0) return undefined;
  try {
    return JSON.parse(event.frame.slice(at + 5)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The stop reason a `message_delta` event carries. */
export function stopReasonOf(event: OutgoingEvent): string | undefined {
  if (event.type !== 'message_delta') return undefined;
  const delta = payload(event)?.delta as { stop_reason?: unknown } | undefined;
  return typeof delta?.stop_reason === 'string' ? delta.stop_reason : undefined;
}

/** The message id a `message_start` event carries. */
export function messageIdOf(event: OutgoingEvent): string | undefined {
  if (event.type !== 'message_start') return undefined;
  const message = payload(event)?.message as { id?: unknown } | undefined;
  return typeof message?.id === 'string' ? message.id : undefined;
}

/** The text a `content_block_delta` adds to the answer (text, or a tool call's JSON fragment). */
export function deltaText(event: OutgoingEvent): string | undefined {
  if (event.type !== 'content_block_delta') return undefined;
  const delta = payload(event)?.delta as
    | { type?: string; text?: unknown; partial_json?: unknown }
    | undefined;
  if (delta?.type === 'text_delta' && typeof delta.text === 'string') return delta.text;
  if (delta?.type === 'input_json_delta' && typeof delta.partial_json === 'string') return delta.partial_json;
  return undefined;
}

/** The Anthropic API's routes, as span names may show them. */
const API_ROUTES = new Set(['/v1/messages', '/v1/messages/count_tokens', '/v1/models']);

/**
 * `POST /model/{modelId}/invoke`-style route of a traced path: a closed set, so that neither ids nor a
 * client's made-up path (6,000 random characters after `/model/x/`) reach span names and `http.route`.
 */
export function routeOf(path: string): string {
  const trimmed = routePath(path); // as the router reads it: `/v1/messages/` is `/v1/messages`
  if (trimmed.startsWith('/model/')) {
    const operation = trimmed.slice(trimmed.lastIndexOf('/') + 1);
    return (FORWARD_OPERATIONS as readonly string[]).includes(operation)
      ? `/model/{modelId}/${operation}`
      : '/model/{modelId}/{operation}';
  }
  if (trimmed.startsWith('/v1/models/')) return '/v1/models/{id}';
  return API_ROUTES.has(trimmed) ? trimmed : '/v1/{unknown}';
}

/** Client requests that get a server span: the Anthropic API and the Bedrock-format door. */
export function isTracedPath(path: string): boolean {
  return path.startsWith('/v1/') || path.startsWith('/model/');
}
