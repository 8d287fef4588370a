/**
 * The stream-start bound (ABPROXY_UPSTREAM_STREAM_START_TIMEOUT_MS): a stream Bedrock has not begun to
 * answer within it fails as a 504 `timeout_error` (clients retry it) instead of waiting the 10-minute
 * answer timeout, past the 5 minutes Node's fetch waits for headers. The pool bounds the last upstream
 * a stream can try with it (the others have the shorter first-byte timer); a single upstream, every
 * stream (until it left one unanswered: withStreamStart). One timer and one error for both, and the
 * first-byte timer's size (firstByteBound).
 */
import type { ConverseCommandInput, ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../anthropic/errors.ts';
import type { BedrockRuntime } from './runtime.ts';

/**
 * Request bytes that give a stream's first-byte timer one more second: ~12,500 tokens at ~4 bytes a
 * token, a cautious prefill rate (a 200k-token prompt waits 20 + 16 s before the next region is tried).
 */
export const PROMPT_BYTES_PER_SECOND = 50_000;

/**
 * An output rate no healthy answer is slower than. A non-stream InvokeModel/Converse answers (headers
 * included) only once the whole answer is ready, so a silent upstream looks like a slow one until then;
 * but an answer of max_tokens cannot take longer than max_tokens at this rate (plus the first-byte
 * timer). Past that the upstream is silent, not slow: the call moves on and its breaker learns, instead
 * of waiting the 10-minute answer timeout that clients do not wait for (Node's fetch gives up after 5
 * minutes, and the client leaving tells the breaker nothing). The Anthropic SDK reckons on 128k tokens
 * an hour (~36/s) for its own non-stream timeout; this floor is under a third of that.
 * Other rules were rejected: a first-byte timer alone cuts long healthy answers; the connection and
 * the request were accepted like any other; a client leaving, even after a long silence, is as often
 * its own short timeout on a long healthy answer.
 */
export const SLOWEST_TOKENS_PER_SECOND = 10;

/** About how many bytes a Converse input's messages or system take: its strings and byte arrays, walked. */
export function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value !== 'object' || value === null) return 8;
  let size = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) size += sizeOf(item);
  return size;
}

/** What a prompt of `bytes` adds to the first-byte bound: a second per PROMPT_BYTES_PER_SECOND. */
export function promptShare(bytes: number): number {
  return Math.floor(bytes / PROMPT_BYTES_PER_SECOND) * 1000;
}

/**
 * The first-byte timer of one call (ABPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS, `ms`; 0: none): the setting,
 * plus a second for each PROMPT_BYTES_PER_SECOND of the request. A large uncached prompt takes Bedrock
 * longer to start on every region: cut at the setting's 20 s, it would be paid for (and waited on) once
 * more on the next one. A non-stream call's first byte comes with the whole answer: plus max_tokens at
 * SLOWEST_TOKENS_PER_SECOND.
 */
export function firstByteBound(
  ms: number,
  stream: boolean,
  requestSize: (() => number) | undefined,
  maxTokens: number | undefined,
): number {
  if (ms <= 0) return ms;
  const prompt = requestSize ? promptShare(requestSize()) : 0;
  const answer = stream ? 0 : Math.ceil(((maxTokens ?? 0) * 1000) / SLOWEST_TOKENS_PER_SECOND);
  return ms + prompt + answer;
}

/** A stream cut by the bound (the pool counts it against its upstream as a timeout). */
export class StreamStartTimeout extends ApiError {
  constructor(ms: number, why = '') {
    super('timeout_error', `Bedrock did not start answering within ${ms} ms${why}`, { status: 504 });
  }
}

/**
 * `call` given a signal that also aborts after `ms` (0: never); a call the bound cut rejects as
 * StreamStartTimeout (`why` ends its message), and `onCut` hears `key`. `more` (asked once, when `ms`
 * has run out) may lengthen the bound: the share of a prompt's size, whose measure is a walk of the whole
 * request that the common call, answered in time, never needs. Once it resolved the timer is off (the
 * stream lives on under the signal).
 */
export async function startedWithin<T>(
  ms: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal | undefined) => Promise<T>,
  onCut?: (key: string) => void,
  key = '',
  why = '',
  more?: () => number,
): Promise<T> {
  if (ms <= 0) return call(signal);
  // One controller the client's leaving and the timer both abort: AbortSignal.any cost ~8 µs a call in
  // a micro-benchmark and far more under load (its weakly held dependants), on every pooled call.
  const bound = new AbortController();
  let timedOut = false;
  let within = ms;
  const onAbort = () => bound.abort(signal?.reason);
  if (signal?.aborted) bound.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  const cut = () => {
    timedOut = true;
    bound.abort();
  };
  let timer = setTimeout(() => {
    const extra = more?.() ?? 0;
    if (extra <= 0) return cut();
    within += extra;
    timer = setTimeout(cut, extra);
  }, ms);
  try {
    return await call(bound.signal);
  } catch (err) {
    // The upstream's own error is only the abort: what the client hears is why.
    if (timedOut && !signal?.aborted) {
      onCut?.(key);
      throw new StreamStartTimeout(within, why);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const bodyBytes = (input: { body: { length: number } }) => input.body.length;
const converseBytes = (input: ConverseStreamCommandInput | ConverseCommandInput) =>
  sizeOf(input.messages) + sizeOf(input.system);

/** Models a single upstream keeps under suspicion at most (ids are the client's words). */
const MAX_UNANSWERED = 256;

/**
 * The runtime of a single upstream with its calls bounded (the pool applies its own bounds): streams by
 * the stream-start bound `ms`; non-stream calls of known max_tokens by the pool's bound for them
 * (firstByteBound: `firstByteMs`, plus the prompt, plus max_tokens at SLOWEST_TOKENS_PER_SECOND), past
 * which no answer of that size is slow: the upstream is silent. Unbounded, such a call waited the
 * 10-minute answer timeout while Node's fetch gives up on headers after 5: the Anthropic SDK's retries
 * ended as a connection error after a quarter of an hour.
 *
 * Streams learn, as the pool's breakers do, per model: once the upstream has left a stream unanswered for
 * the whole bound, that model's next streams get the first-byte timer instead (`firstByteMs`, sized by
 * the prompt: firstByteBound) until one of them starts. Every client retry of a silent upstream waited
 * the whole bound again: 9 minutes for the Anthropic SDK's 2 retries, over half an hour for Claude
 * Code's 10, for one 504.
 * Why a healthy slow start is not cut: a healthy upstream is never under suspicion (it starts streams
 * within the bound, which is above the minute or two a 1M-token prompt takes); under suspicion the
 * timer is the one the pool trusts to tell a silent region from a slow prompt, a second longer per
 * 50 kB of prompt; and the first stream of the model that starts — any client's; a short prompt starts
 * in seconds — lifts the suspicion, so a recovered upstream has the whole bound again at once. A healthy
 * stream pays one branch for all this.
 */
export function withStreamStart(runtime: BedrockRuntime, ms: number, firstByteMs = 0): BedrockRuntime {
  if (ms <= 0 && firstByteMs <= 0) return runtime;
  /** Models whose last stream the upstream left unanswered for the whole bound. */
  const unanswered = new Set<string>();
  const onCut =
    firstByteMs > 0
      ? (modelId: string) => {
          if (unanswered.size >= MAX_UNANSWERED) unanswered.clear();
          unanswered.add(modelId);
        }
      : undefined;
  const suspected = (modelId: string | undefined) => unanswered.size > 0 && unanswered.has(modelId ?? '');
  /** A stream of a suspected model: the prompt-sized first-byte timer; starting, it lifts the suspicion. */
  const underSuspicion = async <T>(
    modelId: string,
    signal: AbortSignal | undefined,
    promptBytes: number,
    call: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> => {
    const within = Math.min(
      ms,
      firstByteBound(firstByteMs, true, () => promptBytes, undefined),
    );
    const why = ` (its last stream of ${modelId} got no answer within ${ms} ms and none has started since: ABPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS, longer for a larger prompt)`;
    const answer = await startedWithin(within, signal, call, onCut, modelId, why);
    unanswered.delete(modelId);
    return answer;
  };
  const stream = <I extends { modelId?: string | undefined }, T>(
    input: I,
    promptBytes: (input: I) => number,
    signal: AbortSignal | undefined,
    call: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> =>
    suspected(input.modelId)
      ? underSuspicion(input.modelId ?? '', signal, promptBytes(input), call)
      : startedWithin(ms, signal, call, onCut, input.modelId);
  const whole = <I, T>(
    input: I,
    promptBytes: (input: I) => number,
    maxTokens: number | undefined,
    signal: AbortSignal | undefined,
    call: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> => {
    if (maxTokens === undefined || firstByteMs <= 0) return call(signal);
    // The prompt's share (a walk of a Converse request) only if the rest of the bound ran out.
    const within = firstByteBound(firstByteMs, false, undefined, maxTokens);
    const why = ` (no answer of max_tokens ${maxTokens} takes that long: ABPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS, plus a second per 50 kB of request and ${SLOWEST_TOKENS_PER_SECOND} tokens a second)`;
    return startedWithin(within, signal, call, undefined, '', why, () => promptShare(promptBytes(input)));
  };
  return {
    converse: (input, signal) =>
      whole(input, converseBytes, input.inferenceConfig?.maxTokens, signal, (s) =>
        runtime.converse(input, s),
      ),
    converseStream: (input, signal) =>
      stream(input, converseBytes, signal, (s) => runtime.converseStream(input, s)),
    invokeModel: (input, signal) =>
      whole(input, bodyBytes, input.maxTokens, signal, (s) => runtime.invokeModel(input, s)),
    invokeModelStream: (input, signal) =>
      stream(input, bodyBytes, signal, (s) => runtime.invokeModelStream(input, s)),
    countTokens: (input, signal) => runtime.countTokens(input, signal),
    messagesApi: (input, signal) =>
      input.stream
        ? stream(input, bodyBytes, signal, (s) => runtime.messagesApi(input, s))
        : whole(input, bodyBytes, input.maxTokens, signal, (s) => runtime.messagesApi(input, s)),
    forward: (input, signal) =>
      input.operation.endsWith('stream')
        ? stream(input, bodyBytes, signal, (s) => runtime.forward(input, s))
        : whole(input, bodyBytes, input.maxTokens, signal, (s) => runtime.forward(input, s)),
  };
}
