/**
 * InvokeModel on Bedrock's Anthropic Messages API: for the Bedrock-format door, when a Claude model is
 * served only by bedrock-mantle (which has no InvokeModel). Pure: bodies and bytes in, bodies and
 * eventstream frames out.
 *
 * - Request: an InvokeModel body is Anthropic's Messages body with `anthropic_version` (and maybe
 *   `anthropic_beta`) instead of `model`; the Messages API takes the version and the betas as headers
 *   (the transport pins the version) and `stream` in the body. The body is shaped for the model as the
 *   `mantle` path of /v1/messages shapes a client's (to-messages.ts), warnings reported.
 * - Non-stream answer: the Messages JSON is InvokeModel's body already (model renamed to the caller's id).
 * - Stream answer: each SSE event becomes an InvokeModelWithResponseStream `chunk` event (`{"bytes":
 *   base64(event JSON)}`, `application/vnd.amazon.eventstream`), as Bedrock sends Claude's stream;
 *   `ping`s are dropped (Bedrock sends none) and message_stop carries `amazon-bedrock-invocationMetrics`.
 *   An `event: error` (or a stream cut before message_stop) is thrown, for the caller to end the
 *   stream with an exception frame (`exceptionFrame`), as Bedrock ends a failed stream.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { ApiError } from '../anthropic/errors.ts';
import type { Usage } from '../anthropic/types.ts';
import { validateMessagesRequest } from '../anthropic/validate.ts';
import type { ClaudeFeatureTable } from '../models/claude-features.ts';
import { MessagesApiStreamTranslator } from './messages-api-stream.ts';
import { invokeContextFor } from './to-invoke.ts';
import { toMessagesApiBody } from './to-messages.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface MessagesApiCallBody {
  /** JSON text without `model` (the transport adds it). */
  body: string;
  /** For the `anthropic-beta` header: the body's `anthropic_beta` the model takes on Bedrock. */
  betas: string[];
  /** What was dropped or reshaped on the way, and betas not sent. */
  warnings: string[];
}

/**
 * An InvokeModel body (parsed) → the Messages API call that does the same: checked as a Messages
 * request and shaped for the model exactly as the `mantle` path of /v1/messages shapes it
 * (to-messages.ts: the model's fields and betas on Bedrock, mid-conversation system messages folded,
 * what the Messages API refuses dropped), so a body Claude Code wrote for InvokeModel is not refused.
 */
export function invokeBodyToMessagesApi(
  body: Json,
  model: { baseModelId: string; caps: { maxOutputTokens: number } },
  options: { stream: boolean; features?: ClaudeFeatureTable },
): MessagesApiCallBody {
  const { anthropic_version: _version, anthropic_beta: beta, model: _model, stream: _stream, ...rest } = body;
  let betas: string[] = [];
  if (beta !== undefined) {
    if (!Array.isArray(beta) || !beta.every((b): b is string => typeof b === 'string')) {
      throw ApiError.invalid('anthropic_beta must be an array of strings');
    }
    betas = beta.map((b) => b.trim()).filter((b) => b !== '');
  }
  // `model` only for the check (the Messages request requires one); the shaping drops it again.
  const request = validateMessagesRequest({ ...rest, model: model.baseModelId }, { betas });
  const shaped = toMessagesApiBody(request, {
    ...invokeContextFor(model, betas, options.features),
    stream: options.stream,
  });
  const warnings = [...shaped.warnings];
  if (shaped.droppedBetas.length > 0)
    warnings.push(`betas not sent to Bedrock: ${shaped.droppedBetas.join(', ')}`);
  return { body: shaped.body, betas: shaped.betas, warnings };
}

/** A non-stream Messages API answer (already checked to be a message) → InvokeModel's body text. */
export function invokeAnswerText(message: Json, model: string): string {
  return JSON.stringify({ ...message, model });
}

/** Bedrock's token-count headers of an InvokeModel answer, from the message's usage. */
export function invokeUsageHeaders(usage: Usage): Record<string, string> {
  return {
    'x-amzn-bedrock-input-token-count': String(usage.input_tokens),
    'x-amzn-bedrock-output-token-count': String(usage.output_tokens),
    'x-amzn-bedrock-cache-read-input-token-count': String(usage.cache_read_input_tokens ?? 0),
    'x-amzn-bedrock-cache-write-input-token-count': String(usage.cache_creation_input_tokens ?? 0),
  };
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const stringHeader = (value: string) => ({ type: 'string' as const, value });

/** One InvokeModelWithResponseStream `chunk` event carrying an Anthropic event's JSON text. */
export function chunkFrame(eventJson: string): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': stringHeader('chunk'),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('event'),
    },
    body: fromUtf8(JSON.stringify({ bytes: Buffer.from(eventJson).toString('base64') })),
  });
}

/** The exceptions InvokeModelWithResponseStream's event union has (what its SDKs can raise mid-stream). */
const INVOKE_STREAM_EXCEPTIONS: ReadonlySet<string> = new Set([
  'InternalServerException',
  'ModelStreamErrorException',
  'ValidationException',
  'ThrottlingException',
  'ModelTimeoutException',
  'ServiceUnavailableException',
]);

/** ConverseStream's: the same without ModelTimeoutException. */
export const CONVERSE_STREAM_EXCEPTIONS: ReadonlySet<string> = new Set([
  'InternalServerException',
  'ModelStreamErrorException',
  'ValidationException',
  'ThrottlingException',
  'ServiceUnavailableException',
]);

/**
 * An exception event ending a stream, named in the stream's lowerCamel spelling (`throttlingException`);
 * a name the stream's event union lacks (`members`) is sent as InternalServerException, which it has.
 */
export function exceptionFrame(
  name: string,
  message: string,
  members: ReadonlySet<string> = INVOKE_STREAM_EXCEPTIONS,
): Uint8Array {
  const known = members.has(name) ? name : 'InternalServerException';
  return codec.encode({
    headers: {
      ':exception-type': stringHeader(known.charAt(0).toLowerCase() + known.slice(1)),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('exception'),
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** The `data:` text of one SSE frame. */
function dataOf(frame: string): string {
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  return data.join('\n');
}

/**
 * The Messages API's SSE bytes → InvokeModelWithResponseStream frames. The SSE is read by the same
 * translator as the `mantle` path (usage, the model renamed to the caller's id, `event: error` thrown).
 */
export class InvokeChunkStream {
  readonly #sse: MessagesApiStreamTranslator;
  readonly #started = Date.now();
  #firstByte: number | undefined;
  /** The answer's id and finish reason, for its trace (read off message_start and message_delta). */
  readonly #answer: { id?: string; stop_reason?: string } = {};

  constructor(options: { model: string }) {
    this.#sse = new MessagesApiStreamTranslator(options);
  }

  push(chunk: Uint8Array): Uint8Array[] {
    return this.#frames(this.#sse.push(chunk));
  }

  /** The frames still held; throws when the stream ended before message_stop. */
  end(): Uint8Array[] {
    return this.#frames(this.#sse.end());
  }

  usage(): Usage {
    return this.#sse.usage();
  }

  get usageIsEstimated(): boolean {
    return this.#sse.usageIsEstimated;
  }

  /** What the stream said of its answer so far: the message id and the stop reason. */
  answer(): { id?: string; stop_reason?: string } {
    return this.#answer;
  }

  #frames(events: { type: string; frame: string }[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const event of events) {
      if (event.type === 'ping') continue;
      const data = dataOf(event.frame);
      if (data === '') continue;
      this.#firstByte ??= Date.now() - this.#started;
      if (event.type === 'message_start' || event.type === 'message_delta') this.#note(data);
      out.push(chunkFrame(event.type === 'message_stop' ? this.#withMetrics(data) : data));
    }
    return out;
  }

  #note(data: string): void {
    const event = JSON.parse(data) as { message?: { id?: unknown }; delta?: { stop_reason?: unknown } };
    if (typeof event.message?.id === 'string') this.#answer.id = event.message.id;
    if (typeof event.delta?.stop_reason === 'string') this.#answer.stop_reason = event.delta.stop_reason;
  }

  /** message_stop with Bedrock's final counts, as InvokeModelWithResponseStream's last chunk has them. */
  #withMetrics(data: string): string {
    let event: Json;
    try {
      const parsed = JSON.parse(data) as unknown;
      event = isObject(parsed) ? parsed : { type: 'message_stop' };
    } catch {
      event = { type: 'message_stop' };
    }
    const usage = this.#sse.usage();
    event['amazon-bedrock-invocationMetrics'] = {
      inputTokenCount: usage.input_tokens,
      outputTokenCount: usage.output_tokens,
      invocationLatency: Date.now() - this.#started,
      firstByteLatency: this.#firstByte ?? 0,
      cacheReadInputTokenCount: usage.cache_read_input_tokens ?? 0,
      cacheWriteInputTokenCount: usage.cache_creation_input_tokens ?? 0,
    };
    return JSON.stringify(event);
  }
}
