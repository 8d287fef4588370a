/**
 * The one retry policy for Bedrock calls: only connection faults (reset, refused, a stale keep-alive
 * socket) are retried — those never reached Bedrock, and the client cannot tell them apart from our
 * bugs. Throttling and 5xx answers go straight back to the client, which retries them with its own
 * backoff and retry-after; retrying here too would multiply attempts and hide the retry-after hint.
 *
 * Applied once, as a wrapper around whichever transport serves the calls (`withRetries`); the SDK's
 * own clients (the control plane) get the same policy as an SDK retry strategy.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import type { BedrockRuntime } from './runtime.ts';

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; doubled for each later one. */
  baseDelayMs: number;
}

/** Failures on the wire before any answer (Node and undici codes). */
const CONNECTION_FAULTS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET']);

/** No HTTP answer at all and not our own abort: the fault happened on the wire. */
export function isConnectionFault(err: unknown): boolean {
  const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return (
    e?.name !== 'AbortError' &&
    !e?.$metadata?.httpStatusCode &&
    e?.code !== undefined &&
    CONNECTION_FAULTS.has(e.code)
  );
}

/** Whether attempt number `attempt` (1-based) may be followed by another after `err`. */
export function shouldRetry(policy: RetryPolicy, attempt: number, err: unknown): boolean {
  return attempt < policy.maxAttempts && isConnectionFault(err);
}

export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  return policy.baseDelayMs * 2 ** (attempt - 1);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `call` until it succeeds, the policy gives up, or `signal` aborts. */
export async function retrying<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await call();
    } catch (err) {
      if (signal?.aborted || !shouldRetry(policy, attempt, err)) throw err;
      await sleep(retryDelayMs(policy, attempt), signal);
    }
  }
}

/**
 * The runtime with every call under the policy. Calls resolve once Bedrock has answered with headers,
 * so only failures before the answer are retried; a stream that breaks later is never replayed.
 */
export function withRetries(runtime: BedrockRuntime, policy: RetryPolicy): BedrockRuntime {
  if (policy.maxAttempts <= 1) return runtime;
  return {
    converse: (input, signal) => retrying(policy, signal, () => runtime.converse(input, signal)),
    converseStream: (input, signal) => retrying(policy, signal, () => runtime.converseStream(input, signal)),
    invokeModel: (input, signal) => retrying(policy, signal, () => runtime.invokeModel(input, signal)),
    invokeModelStream: (input, signal) =>
      retrying(policy, signal, () => runtime.invokeModelStream(input, signal)),
    countTokens: (input, signal) => retrying(policy, signal, () => runtime.countTokens(input, signal)),
    messagesApi: (input, signal) => retrying(policy, signal, () => runtime.messagesApi(input, signal)),
    forward: (input, signal) => retrying(policy, signal, () => runtime.forward(input, signal)),
  };
}

/**
 * The SDK refused for its date and has just corrected its clock offset (its systemClockOffset). The SDK
 * marks any error whose Date is far from ours, a model's error too: only a 403 (the signature refused,
 * so the model never ran) is retried for it.
 */
function clockSkewCorrected(err: unknown): boolean {
  const metadata = (
    err as { $metadata?: { clockSkewCorrected?: boolean; httpStatusCode?: number } } | undefined
  )?.$metadata;
  return metadata?.clockSkewCorrected === true && metadata.httpStatusCode === 403;
}

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}

/** The policy as an SDK retry strategy, for SDK clients that are not behind `withRetries`. */
export class ConnectionFaultRetryStrategy implements RetryStrategyV2 {
  readonly #policy: RetryPolicy;

  constructor(policy: RetryPolicy) {
    this.#policy = policy;
  }

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const attempt = previous.getRetryCount() + 1;
    // AWS refused the first attempt's date and the SDK has just corrected its clock from the answer
    // (aws-clock.ts does the same for our own signing): signed again, the call passes. Once, at once.
    if (attempt === 1 && clockSkewCorrected(info.error)) return token(attempt, 0);
    if (!shouldRetry(this.#policy, attempt, info.error)) throw new Error('No retry token available');
    return token(attempt, retryDelayMs(this.#policy, attempt));
  }

  recordSuccess(_token: RetryToken): void {}
}
