/**
 * The stream-start bound (ABPROXY_UPSTREAM_STREAM_START_TIMEOUT_MS): a stream Bedrock has not begun to
 * answer within it fails as a 504 `timeout_error` (clients retry it) instead of waiting the 10-minute
 * answer timeout, past the 5 minutes Node's fetch waits for headers. The pool bounds the last upstream
 * a stream can try with it (the others have the shorter first-byte timer); a single upstream, every
 * stream. One timer and one error for both.
 */
import { ApiError } from '../anthropic/errors.ts';
import type { BedrockRuntime } from './runtime.ts';

/** A stream cut by the bound (the pool counts it against its upstream as a timeout). */
export class StreamStartTimeout extends ApiError {
  constructor(ms: number) {
    super('timeout_error', `Bedrock did not start answering within ${ms} ms`, { status: 504 });
  }
}

/**
 * `call` given a signal that also aborts after `ms` (0: never); a call the bound cut rejects as
 * StreamStartTimeout. Once it resolved the timer is off (the stream lives on under the signal).
 */
export async function startedWithin<T>(
  ms: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (ms <= 0) return call(signal);
  const bound = new AbortController();
  const timer = setTimeout(() => bound.abort(), ms);
  try {
    return await call(signal ? AbortSignal.any([signal, bound.signal]) : bound.signal);
  } catch (err) {
    // The upstream's own error is only the abort: what the client hears is why.
    if (bound.signal.aborted && !signal?.aborted) throw new StreamStartTimeout(ms);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The runtime with its stream calls under the bound (a single upstream's; the pool applies its own). */
export function withStreamStart(runtime: BedrockRuntime, ms: number): BedrockRuntime {
  if (ms <= 0) return runtime;
  return {
    converse: (input, signal) => runtime.converse(input, signal),
    converseStream: (input, signal) => startedWithin(ms, signal, (s) => runtime.converseStream(input, s)),
    invokeModel: (input, signal) => runtime.invokeModel(input, signal),
    invokeModelStream: (input, signal) =>
      startedWithin(ms, signal, (s) => runtime.invokeModelStream(input, s)),
    countTokens: (input, signal) => runtime.countTokens(input, signal),
    messagesApi: (input, signal) =>
      input.stream
        ? startedWithin(ms, signal, (s) => runtime.messagesApi(input, s))
        : runtime.messagesApi(input, signal),
    forward: (input, signal) =>
      input.operation.endsWith('stream')
        ? startedWithin(ms, signal, (s) => runtime.forward(input, s))
        : runtime.forward(input, signal),
  };
}
