/**
 * Token usage of a forwarded call, read from what Bedrock reported: Converse's `usage`, an InvokeModel
 * body's Anthropic `usage` (else Bedrock's token-count headers), ConverseStream's `metadata` event, and
 * in InvokeModelWithResponseStream chunks the Anthropic `message_start`/`message_delta` usage and
 * `amazon-bedrock-invocationMetrics` (which wins: it is Bedrock's final count). A stream that ends before
 * its final counts (the client left, Bedrock failed) is estimated from what it forwarded, as a cut
 * /v1/messages stream is: ConverseStream reports nothing before its last frame, so a client reading to
 * `messageStop` and hanging up would otherwise be billed nothing. Pure: bytes and frames in, counts out.
 */
import type { CacheCreation, Usage } from '../../anthropic/types.ts';
import {
  CHARS_PER_TOKEN,
  cacheCreationOf,
  cacheWritesByLifetime,
  outputChars,
} from '../../translate/usage.ts';
import type { ForwardOperation } from '../../upstream/runtime.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;

function usage(input: number, output: number, cacheRead = 0, cacheWrite = 0): Usage {
  return {
    input_tokens: input,
    output_tokens: output,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
  };
}

/** The names one kind of usage report gives its four counts. */
interface UsageNames {
  input: string;
  output: string;
  cacheRead: string;
  cacheWrite: string;
}

/** The report's usage, each count read by its name; none when it has neither input nor output. */
function usageBy(read: (name: string) => number | undefined, names: UsageNames): Usage | undefined {
  const input = read(names.input);
  const output = read(names.output);
  if (input === undefined && output === undefined) return undefined;
  return usage(input ?? 0, output ?? 0, read(names.cacheRead), read(names.cacheWrite));
}

/**
 * `lifetimes`: where the report splits its cache writes into 5-minute and 1-hour ones, which are priced
 * apart (a 1-hour write costs 2× input, a 5-minute one 1.25×).
 */
const fromObject =
  (names: UsageNames, lifetimes: (u: Json) => CacheCreation | undefined = () => undefined) =>
  (u: unknown): Usage | undefined => {
    if (!isObject(u)) return undefined;
    const found = usageBy((name) => count(u[name]), names);
    const split = found && lifetimes(u);
    return split ? { ...found, cache_creation: split } : found;
  };

/** Converse's camelCase usage object. */
const fromConverseUsage = fromObject(
  {
    input: 'inputTokens',
    output: 'outputTokens',
    cacheRead: 'cacheReadInputTokens',
    cacheWrite: 'cacheWriteInputTokens',
  },
  (u) => cacheWritesByLifetime(u.cacheDetails),
);

/** Anthropic's snake_case usage object. */
const fromAnthropicUsage = fromObject(
  {
    input: 'input_tokens',
    output: 'output_tokens',
    cacheRead: 'cache_read_input_tokens',
    cacheWrite: 'cache_creation_input_tokens',
  },
  (u) => cacheCreationOf(u.cache_creation),
);

const fromInvocationMetrics = fromObject({
  input: 'inputTokenCount',
  output: 'outputTokenCount',
  cacheRead: 'cacheReadInputTokenCount',
  cacheWrite: 'cacheWriteInputTokenCount',
});

/** InvokeModel answers carry Bedrock's counts in headers, whatever the model's body looks like. */
export function usageFromHeaders(headers: Record<string, string>): Usage | undefined {
  return usageBy(
    (name) => {
      const value = headers[name];
      return value === undefined ? undefined : count(Number(value));
    },
    {
      input: 'x-amzn-bedrock-input-token-count',
      output: 'x-amzn-bedrock-output-token-count',
      cacheRead: 'x-amzn-bedrock-cache-read-input-token-count',
      cacheWrite: 'x-amzn-bedrock-cache-write-input-token-count',
    },
  );
}

/** Usage of a whole (non-stream) answer: its JSON body, else the headers. */
export function usageOfAnswer(
  operation: ForwardOperation,
  body: Uint8Array,
  headers: Record<string, string>,
): Usage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    json = undefined;
  }
  if (isObject(json)) {
    if (operation === 'converse') {
      const found = fromConverseUsage(json.usage);
      if (found) return found;
    } else {
      const found = fromAnthropicUsage(json.usage);
      // A compaction's iterations go along: what is billed is their sum (reportUsage, billedUsage).
      const iterations = isObject(json.usage) ? json.usage.iterations : undefined;
      if (found) return Array.isArray(iterations) ? { ...found, iterations } : found;
    }
  }
  return usageFromHeaders(headers);
}

/** How an answer ended, for its trace: the message id (Claude's) and the stop reason. */
export interface AnswerEnd {
  id?: string;
  stop_reason?: string;
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function endOf(id: unknown, stopReason: unknown): AnswerEnd {
  const end: AnswerEnd = {};
  if (text(id)) end.id = text(id);
  if (text(stopReason)) end.stop_reason = text(stopReason);
  return end;
}

/**
 * The stop reason in an open model's own InvokeModel answer or stream chunk, where each family puts it:
 * Llama's `stop_reason`, Nova's `stopReason` (a stream's `messageStop`), OpenAI-style
 * `choices[].finish_reason`, DeepSeek's `choices[].stop_reason`, Mistral's `outputs[].stop_reason`,
 * Titan's `completionReason` (`results[]` when whole).
 */
function openModelStop(json: Json): unknown {
  const direct = text(json.stop_reason) ?? text(json.stopReason) ?? text(json.completionReason);
  if (direct) return direct;
  if (isObject(json.messageStop)) return json.messageStop.stopReason;
  for (const list of [json.choices, json.outputs, json.results]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item)) continue;
      const reason = text(item.finish_reason) ?? text(item.stop_reason) ?? text(item.completionReason);
      if (reason) return reason;
    }
  }
  return undefined;
}

/** How a whole answer ended: Converse's `stopReason`; Claude's (or an open model's) id and stop reason. */
export function endOfAnswer(operation: ForwardOperation, body: Uint8Array): AnswerEnd {
  const json = parse(body);
  if (!json) return {};
  return operation === 'converse' ? endOf(undefined, json.stopReason) : endOf(json.id, openModelStop(json));
}

export interface StreamFrame {
  eventType: string | undefined;
  /** `event`, or `exception`/`error` for a frame that ends the stream as failed. */
  messageType?: string | undefined;
  payload: Uint8Array;
}

/** The length of the text a stream delta carries: answer, reasoning or tool input. */
function deltaChars(delta: unknown): number {
  if (!isObject(delta)) return 0;
  let chars = 0;
  for (const field of ['text', 'thinking', 'partial_json']) {
    const value = delta[field];
    if (typeof value === 'string') chars += outputChars(value);
  }
  const reasoning = delta.reasoningContent;
  if (isObject(reasoning) && typeof reasoning.text === 'string') chars += outputChars(reasoning.text);
  const tool = delta.toolUse;
  if (isObject(tool) && typeof tool.input === 'string') chars += outputChars(tool.input);
  return chars;
}

/**
 * The length of the text an open model's InvokeModel stream chunk carries, in the shapes Bedrock's
 * models stream: Nova (`contentBlockDelta`), Llama (`generation`), OpenAI-style (`choices[].delta`),
 * Mistral (`outputs[].text`). A cut stream is billed at least this, as a cut Claude stream is.
 */
function openModelChunkChars(chunk: Json): number {
  let chars = 0;
  if (isObject(chunk.contentBlockDelta)) chars += deltaChars(chunk.contentBlockDelta.delta);
  if (typeof chunk.generation === 'string') chars += outputChars(chunk.generation);
  for (const list of [chunk.choices, chunk.outputs]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item)) continue;
      if (typeof item.text === 'string') chars += outputChars(item.text);
      const delta = item.delta;
      if (!isObject(delta)) continue;
      for (const field of ['content', 'reasoning_content', 'reasoning']) {
        const value = delta[field];
        if (typeof value === 'string') chars += outputChars(value);
      }
    }
  }
  return chars;
}

/** Folds the frames of a ConverseStream or InvokeModelWithResponseStream answer into its usage. */
export class StreamUsage {
  #anthropic: Usage | undefined;
  #final: Usage | undefined;
  #outputChars = 0;
  #failed = false;
  #end: AnswerEnd = {};

  push(frame: StreamFrame): void {
    if (frame.messageType !== undefined && frame.messageType !== 'event') {
      this.#failed = true;
      return;
    }
    const payload = parse(frame.payload);
    if (!payload) return;
    if (frame.eventType === 'metadata') {
      this.#final = fromConverseUsage(payload.usage) ?? this.#final;
      return;
    }
    if (frame.eventType === 'messageStop') {
      this.#end = { ...this.#end, ...endOf(undefined, payload.stopReason) };
      return;
    }
    if (frame.eventType === 'contentBlockDelta') {
      this.#outputChars += deltaChars(payload.delta);
      return;
    }
    if (frame.eventType !== 'chunk' || typeof payload.bytes !== 'string') return;
    const chunk = parse(Buffer.from(payload.bytes, 'base64'));
    if (!chunk) return;
    if (chunk.type === 'content_block_delta') this.#outputChars += deltaChars(chunk.delta);
    else if (chunk.type === undefined) {
      this.#outputChars += openModelChunkChars(chunk);
      const stop = openModelStop(chunk);
      if (stop) this.#end = { ...this.#end, ...endOf(undefined, stop) };
    }
    const metrics = fromInvocationMetrics(chunk['amazon-bedrock-invocationMetrics']);
    // The metrics do not split the cache writes by lifetime; Claude's message_start did.
    const lifetimes = this.#anthropic?.cache_creation;
    if (metrics) this.#final = lifetimes ? { ...metrics, cache_creation: lifetimes } : metrics;
    if (chunk.type === 'message_start' && isObject(chunk.message)) {
      this.#end = { ...this.#end, ...endOf(chunk.message.id, undefined) };
      this.#anthropic = fromAnthropicUsage(chunk.message.usage) ?? this.#anthropic;
    }
    if (chunk.type === 'message_delta' && isObject(chunk.delta)) {
      this.#end = { ...this.#end, ...endOf(undefined, chunk.delta.stop_reason) };
    }
    if (chunk.type === 'message_delta' && isObject(chunk.usage)) {
      // message_delta holds the running output count (and, on newer models, the input counts again).
      const delta = chunk.usage;
      const base = this.#anthropic ?? usage(0, 0);
      this.#anthropic = {
        input_tokens: count(delta.input_tokens) ?? base.input_tokens,
        output_tokens: count(delta.output_tokens) ?? base.output_tokens,
        cache_read_input_tokens: count(delta.cache_read_input_tokens) ?? base.cache_read_input_tokens,
        cache_creation_input_tokens:
          count(delta.cache_creation_input_tokens) ?? base.cache_creation_input_tokens,
        ...(base.cache_creation ? { cache_creation: base.cache_creation } : {}),
      };
    }
  }

  /** Bedrock's final counts when they came, else the last the model reported. */
  get usage(): Usage | undefined {
    return this.#final ?? this.#anthropic;
  }

  /** Whether the counts are final (the stream reached its metrics or metadata). */
  get final(): boolean {
    return this.#final !== undefined;
  }

  /** The message id and stop reason seen so far (Claude's message_start/message_delta, messageStop). */
  get end(): AnswerEnd {
    return this.#end;
  }

  /** Whether Bedrock ended the stream with an exception (or error) frame. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * What the call is billed: Bedrock's final counts, else an estimate — the input Bedrock reported
   * (message_start) or `inputEstimate`, and at least the output the forwarded text makes.
   */
  billed(inputEstimate: number): { usage: Usage; estimated: boolean } {
    if (this.#final) return { usage: this.#final, estimated: false };
    const seen = this.#anthropic;
    const output = Math.max(seen?.output_tokens ?? 0, Math.ceil(this.#outputChars / CHARS_PER_TOKEN));
    const usageSoFar = seen
      ? { ...seen, output_tokens: output }
      : usage(Math.max(0, Math.ceil(inputEstimate)), output);
    return { usage: usageSoFar, estimated: true };
  }
}

function parse(bytes: Uint8Array): Json | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
