/**
 * Claude's native responses through Bedrock → what the client sees. InvokeModelWithResponseStream
 * chunks already carry Anthropic stream events (the upstream layer decodes each chunk's bytes as JSON);
 * the gateway only has to
 * - name the model the client asked for in `message.model` (Bedrock echoes its own id),
 * - remove `amazon-bedrock-invocationMetrics` (the last chunk's Bedrock-only trailer), and
 * - remember the usage: message_start gives input and cache counts, message_delta the cumulative output
 *   (and, on newer models, final input/cache counts); the invocation metrics fill what the events lack.
 *   A stream cut before message_delta (the client hung up) only has message_start's placeholder output
 *   count, so the output is then estimated from the delta text forwarded (Bedrock bills what it made).
 * Message ids are kept: a Bedrock `msg_bdrk_…` id is a real, unique id.
 * Events are mutated in place and returned, so the server formats each one once (formatSse).
 */
import type { ResponseStream } from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../anthropic/errors.ts';
import { formatSse } from '../anthropic/sse.ts';
import type { CacheCreation, MessagesResponse, Usage } from '../anthropic/types.ts';
import { nativeStopReason } from './stop-reason.ts';
import { streamException } from './stream-errors.ts';
import type { FormattedEvent, StreamTranslator } from './stream-translator.ts';
import { CHARS_PER_TOKEN, cacheCreationOf, outputChars } from './usage.ts';

const METRICS_KEY = 'amazon-bedrock-invocationMetrics';

interface InvocationMetrics {
  inputTokenCount?: number;
  outputTokenCount?: number;
  cacheReadInputTokenCount?: number;
  cacheWriteInputTokenCount?: number;
}

interface UsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: unknown;
  /** A compaction's per-sampling counts, kept for billing (translate/usage.ts billedUsage). */
  iterations?: unknown[];
}

type Json = Record<string, unknown>;

export interface InvokeStream {
  /** Rewrites one decoded chunk for the client (the same object, changed in place). */
  push(event: Json): Json;
  /** A content_block_delta chunk forwarded as Bedrock sent it (not parsed): counted for the estimate. */
  passedThrough(chunkJson: string): void;
  /** Usage so far; final once message_delta went through, else the output is estimated. */
  usage(): Usage;
  /** Whether usage() is an estimate: the stream ended before Bedrock's final counts. */
  readonly usageIsEstimated: boolean;
}

/**
 * Characters of generated content in a raw delta chunk, without parsing it: the last string value
 * (`text`, `partial_json`, `thinking`). `":"` cannot occur inside a JSON string (an inner quote is
 * escaped), so its last occurrence opens that value. Signatures are not generated text.
 */
function deltaChars(chunkJson: string): number {
  if (chunkJson.includes('"signature_delta"')) return 0;
  const open = chunkJson.lastIndexOf('":"');
  if (open === -1) return 0;
  // The value runs to the chunk's end minus `"}}`.
  return outputChars(chunkJson, open + 3, chunkJson.length - 3);
}

/** Characters of generated content in a parsed content_block_delta event. */
function parsedDeltaChars(delta: unknown): number {
  if (typeof delta !== 'object' || delta === null) return 0;
  const d = delta as Json;
  for (const field of ['text', 'partial_json', 'thinking'] as const) {
    if (typeof d[field] === 'string') return outputChars(d[field]);
  }
  return 0;
}

export function createInvokeStream(options: { model: string }): InvokeStream {
  const fromEvents: UsageLike = {};
  let metrics: InvocationMetrics | undefined;
  let finalOutput = false;
  let forwardedChars = 0;
  const estimated = () => !finalOutput && metrics?.outputTokenCount === undefined;

  return {
    passedThrough(chunkJson) {
      forwardedChars += deltaChars(chunkJson);
    },
    get usageIsEstimated() {
      return estimated();
    },
    push(event) {
      const trailer = event[METRICS_KEY];
      if (trailer !== undefined) {
        if (typeof trailer === 'object' && trailer !== null) metrics = trailer as InvocationMetrics;
        delete event[METRICS_KEY];
      }
      switch (event.type) {
        case 'message_start': {
          const message = event.message as Json | undefined;
          if (message && typeof message === 'object') {
            message.model = options.model;
            mergeUsage(fromEvents, message.usage);
          }
          break;
        }
        case 'content_block_delta':
          forwardedChars += parsedDeltaChars(event.delta);
          break;
        case 'message_delta':
          mapStopReasonIn(event.delta);
          mergeUsage(fromEvents, event.usage);
          if (typeof (event.usage as UsageLike | undefined)?.output_tokens === 'number') finalOutput = true;
          // The SDKs' final-message assembly needs usage here.
          if (typeof event.usage !== 'object' || event.usage === null) {
            event.usage = { output_tokens: fromEvents.output_tokens ?? 0 };
          }
          break;
        case 'message_stop':
          // Some Bedrock streams repeat cache counts on message_stop.
          mergeUsage(fromEvents, event.usage);
          break;
        default:
          break;
      }
      return event;
    },
    usage() {
      const usage = finalUsage(fromEvents, metrics);
      if (estimated()) {
        // message_start's output count is a placeholder (1): what was forwarded is at least this.
        usage.output_tokens = Math.max(usage.output_tokens, Math.ceil(forwardedChars / CHARS_PER_TOKEN));
      }
      return usage;
    },
  };
}

const utf8 = new TextDecoder();
const DELTA_PREFIX = '{"type":"content_block_delta"';

/** A chunk that can go to the client as Bedrock sent it: a content delta on one line. */
function passthroughFrame(text: string): string | undefined {
  if (!text.startsWith(DELTA_PREFIX) || text.includes('\n') || text.includes('\r')) return undefined;
  return `event: content_block_delta\ndata: ${text}\n\n`;
}

/**
 * InvokeModelWithResponseStream chunks → the client's SSE frames. Content deltas (nearly every chunk)
 * are forwarded as the bytes Bedrock sent, without a JSON round trip; the other events go through
 * createInvokeStream's rewrite. Exception events are thrown as the SDK's exceptions.
 */
export class InvokeStreamTranslator implements StreamTranslator<ResponseStream> {
  readonly #events: InvokeStream;
  #stopped = false;

  constructor(options: { model: string }) {
    this.#events = createInvokeStream(options);
  }

  start(): FormattedEvent[] {
    return [];
  }

  push(item: ResponseStream): FormattedEvent[] {
    const bytes = item.chunk?.bytes;
    if (!bytes) {
      const exception = streamException(item);
      if (exception) throw exception;
      return [];
    }
    const text = utf8.decode(bytes);
    const frame = passthroughFrame(text);
    if (frame) {
      this.#events.passedThrough(text);
      return [{ type: 'content_block_delta', frame }];
    }
    const event = this.#events.push(JSON.parse(text) as Json);
    const type = (typeof event.type === 'string' ? event.type : 'unknown') as FormattedEvent['type'];
    if (type === 'message_stop') this.#stopped = true;
    return [{ type, frame: formatSse(type, event) }];
  }

  end(): FormattedEvent[] {
    if (!this.#stopped) throw new ApiError('api_error', 'Bedrock ended the stream before message_stop');
    return [];
  }

  usage(): Usage {
    return this.#events.usage();
  }

  get usageIsEstimated(): boolean {
    return this.#events.usageIsEstimated;
  }
}

/** Bedrock may put its own stop reasons (guardrails) in Claude's body; clients know Anthropic's only. */
function mapStopReasonIn(holder: unknown): void {
  if (typeof holder !== 'object' || holder === null) return;
  const h = holder as Json;
  if (typeof h.stop_reason === 'string') h.stop_reason = nativeStopReason(h.stop_reason);
}

const USAGE_KEYS = [
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

/** Later events win: message_delta's counts are cumulative and final. */
function mergeUsage(into: UsageLike, usage: unknown): void {
  if (typeof usage !== 'object' || usage === null) return;
  const u = usage as UsageLike;
  for (const key of USAGE_KEYS) {
    const value = u[key];
    // A count is a whole number of tokens: a negative or non-finite one from a broken answer would
    // make a negative cost (a budget credited) or a NaN in the usage record.
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) into[key] = value;
  }
  if (Array.isArray(u.iterations)) into.iterations = u.iterations;
  const split = cacheCreationOf(u.cache_creation);
  if (split) into.cache_creation = split;
}

function finalUsage(u: UsageLike, m: InvocationMetrics | undefined): Usage {
  return {
    input_tokens: u.input_tokens ?? m?.inputTokenCount ?? 0,
    output_tokens: u.output_tokens ?? m?.outputTokenCount ?? 0,
    cache_creation_input_tokens: u.cache_creation_input_tokens ?? m?.cacheWriteInputTokenCount ?? 0,
    cache_read_input_tokens: u.cache_read_input_tokens ?? m?.cacheReadInputTokenCount ?? 0,
    ...(u.iterations === undefined ? {} : { iterations: u.iterations }),
    ...(u.cache_creation === undefined ? {} : { cache_creation: u.cache_creation as CacheCreation }),
  };
}

/** A 2xx that is no message: the upstream's fault, 502 as the fault table's malformed answers (retryable). */
function notAMessage(cause: unknown): ApiError {
  return new ApiError('api_error', 'Bedrock returned a response that is not an Anthropic message', {
    status: 502,
    cause,
  });
}

/** A non-streaming answer's text → the client's message; text that is not JSON is refused the same way. */
export function fromInvokeResponseText(text: string, options: { model: string }): MessagesResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw notAMessage(text.slice(0, 200));
  }
  return fromInvokeResponse(json, options);
}

/**
 * A non-streaming InvokeModel answer (parsed JSON) → the client's message: model renamed, usage
 * completed (cache counts default to 0), anything else — content, stop details, ids — as Claude sent it.
 */
export function fromInvokeResponse(json: unknown, options: { model: string }): MessagesResponse {
  // A message has its content blocks: a 2xx without them is no answer to hand a client (whose SDK reads them).
  if (
    typeof json !== 'object' ||
    json === null ||
    (json as Json).type !== 'message' ||
    !Array.isArray((json as Json).content)
  ) {
    throw notAMessage(json);
  }
  const message = json as Json;
  const metrics = message[METRICS_KEY] as InvocationMetrics | undefined;
  delete message[METRICS_KEY];
  const fromBody: UsageLike = {};
  mergeUsage(fromBody, message.usage);
  message.model = options.model;
  mapStopReasonIn(message);
  const usage =
    typeof message.usage === 'object' && !Array.isArray(message.usage) ? message.usage : undefined;
  message.usage = { ...(usage as Json | null | undefined), ...finalUsage(fromBody, metrics) };
  return message as unknown as MessagesResponse;
}
