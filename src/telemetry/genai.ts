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

/** `gen_ai.system` / `gen_ai.provider.name` of every call the gateway makes. */
export const GEN_AI_SYSTEM = 'aws.bedrock';

/** Longest prompt or completion text put in a span (characters). */
export const CONTENT_LIMIT = 16_384;

export function requestAttributes(request: MessagesRequest): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': GEN_AI_SYSTEM,
    'gen_ai.provider.name': GEN_AI_SYSTEM,
    'gen_ai.request.model': request.model,
  };
  if (typeof request.max_tokens === 'number') attributes['gen_ai.request.max_tokens'] = request.max_tokens;
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
  if (typeof request.top_p === 'number') attributes['gen_ai.request.top_p'] = request.top_p;
  if (typeof request.top_k === 'number') attributes['gen_ai.request.top_k'] = request.top_k;
  if (request.stop_sequences?.length) attributes['gen_ai.request.stop_sequences'] = request.stop_sequences;
  attributes['gen_ai.request.stream'] = request.stream === true;
  if (request.tools?.length) attributes['gen_ai.request.tool_count'] = request.tools.length;
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
  stopReason?: string | null | undefined;
}

export function responseAttributes(answer: AnswerFacts): Attributes {
  const attributes: Attributes = {};
  if (answer.id) attributes['gen_ai.response.id'] = answer.id;
  if (answer.model) attributes['gen_ai.response.model'] = answer.model;
  if (answer.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = answer.inputTokens;
  if (answer.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = answer.outputTokens;
  if (answer.stopReason) attributes['gen_ai.response.finish_reasons'] = [answer.stopReason];
  return attributes;
}

/** `text` cut to `limit` characters, saying how much was left out. */
export function bounded(text: string, limit = CONTENT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [${text.length - limit} more characters]`;
}

/** The prompt (system and messages) as JSON, bounded. */
export function promptText(request: MessagesRequest, limit = CONTENT_LIMIT): string {
  const prompt =
    request.system === undefined
      ? request.messages
      : [{ role: 'system', content: request.system }, ...request.messages];
  return bounded(JSON.stringify(prompt), limit);
}

/** The answer's text: text blocks as they are, tool calls as `[tool_use name] {input}`. */
export function completionText(content: readonly unknown[], limit = CONTENT_LIMIT): string {
  const parts: string[] = [];
  for (const block of content) {
    const b = block as { type?: string; text?: string; name?: string; input?: unknown };
    if (b.type === 'text' && typeof b.text === 'string') parts.push(b.text);
    else if (b.type === 'tool_use') parts.push(`[tool_use ${b.name ?? ''}] ${JSON.stringify(b.input ?? {})}`);
  }
  return bounded(parts.join('\n'), limit);
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
