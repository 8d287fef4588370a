import type { RetryErrorInfo } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { ConnectionFaultRetryStrategy } from './retry.ts';

const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
const throttled = Object.assign(new Error('slow down'), {
  name: 'ThrottlingException',
  $metadata: { httpStatusCode: 429 },
});
const unavailable = Object.assign(new Error('down'), { $metadata: { httpStatusCode: 503 } });

describe('ConnectionFaultRetryStrategy', () => {
  it('retries a connection fault up to maxAttempts', async () => {
    const strategy = new ConnectionFaultRetryStrategy(3, 1);
    let token = await strategy.acquireInitialRetryToken('us-east-1');
    const info = { error: reset, errorType: 'TRANSIENT' } as RetryErrorInfo;
    token = await strategy.refreshRetryTokenForRetry(token, info);
    token = await strategy.refreshRetryTokenForRetry(token, info);
    expect(token.getRetryCount()).toBe(2);
    await expect(strategy.refreshRetryTokenForRetry(token, info)).rejects.toThrow();
  });

  it('leaves throttling and 5xx answers to the client', async () => {
    const strategy = new ConnectionFaultRetryStrategy(5, 1);
    const token = await strategy.acquireInitialRetryToken('x');
    await expect(
      strategy.refreshRetryTokenForRetry(token, {
        error: throttled,
        errorType: 'THROTTLING',
      } as RetryErrorInfo),
    ).rejects.toThrow();
    await expect(
      strategy.refreshRetryTokenForRetry(token, {
        error: unavailable,
        errorType: 'TRANSIENT',
      } as RetryErrorInfo),
    ).rejects.toThrow();
  });
});
