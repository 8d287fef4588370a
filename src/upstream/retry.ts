/**
 * SDK retry strategy that retries only connection faults (reset, refused, a stale keep-alive socket):
 * those never reached Bedrock, and the client cannot tell them apart from our bugs. Throttling and 5xx
 * answers go straight back to the client, which retries them with its own backoff and retry-after —
 * retrying here too would multiply attempts and hide the retry-after hint.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}

/** No HTTP answer at all: the fault happened on the wire. */
function isConnectionFault(info: RetryErrorInfo): boolean {
  const err = info.error as { $metadata?: { httpStatusCode?: number }; name?: string } | undefined;
  return info.errorType === 'TRANSIENT' && err?.name !== 'AbortError' && !err?.$metadata?.httpStatusCode;
}

export class ConnectionFaultRetryStrategy implements RetryStrategyV2 {
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;

  constructor(maxAttempts: number, baseDelayMs = 50) {
    this.#maxAttempts = maxAttempts;
    this.#baseDelayMs = baseDelayMs;
  }

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const count = previous.getRetryCount() + 1;
    if (count >= this.#maxAttempts || !isConnectionFault(info)) throw new Error('No retry token available');
    return token(count, this.#baseDelayMs * 2 ** (count - 1));
  }

  recordSuccess(_token: RetryToken): void {}
}
