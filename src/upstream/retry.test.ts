import type { RetryErrorInfo } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { ConnectionFaultRetryStrategy, isConnectionFault, withRetries } from './retry.ts';
import type { BedrockRuntime } from './runtime.ts';

const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
const undiciSocket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
const throttled = Object.assign(new Error('slow down'), {
  name: 'ThrottlingException',
  $metadata: { httpStatusCode: 429 },
});
const unavailable = Object.assign(new Error('down'), { $metadata: { httpStatusCode: 503 } });
const policy = { maxAttempts: 3, baseDelayMs: 1 };

/** A runtime whose converse fails with `failures` in turn, then answers. */
function flaky(...failures: Error[]) {
  let calls = 0;
  const runtime = {
    converse: async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return { $metadata: {} };
    },
  } as unknown as BedrockRuntime;
  return { runtime, calls: () => calls };
}

describe('isConnectionFault', () => {
  it('is a fault on the wire, never an answer or our abort', () => {
    expect(isConnectionFault(reset)).toBe(true);
    expect(isConnectionFault(undiciSocket)).toBe(true);
    expect(isConnectionFault(throttled)).toBe(false);
    expect(isConnectionFault(unavailable)).toBe(false);
    expect(
      isConnectionFault(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' })),
    ).toBe(false);
  });
});

describe('withRetries', () => {
  it('retries a connection fault up to maxAttempts', async () => {
    const twice = flaky(reset, undiciSocket);
    await expect(withRetries(twice.runtime, policy).converse({ modelId: 'm' })).resolves.toBeDefined();
    expect(twice.calls()).toBe(3);
    const always = flaky(reset, reset, reset);
    await expect(withRetries(always.runtime, policy).converse({ modelId: 'm' })).rejects.toBe(reset);
    expect(always.calls()).toBe(3);
  });

  it('leaves throttling and 5xx answers to the client', async () => {
    for (const answer of [throttled, unavailable]) {
      const once = flaky(answer);
      await expect(withRetries(once.runtime, policy).converse({ modelId: 'm' })).rejects.toBe(answer);
      expect(once.calls()).toBe(1);
    }
  });

  it('stops when the caller aborts', async () => {
    const faulty = flaky(reset, reset);
    const abort = new AbortController();
    abort.abort(new Error('client went away'));
    await expect(
      withRetries(faulty.runtime, policy).converse({ modelId: 'm' }, abort.signal),
    ).rejects.toThrow('client went away');
    expect(faulty.calls()).toBe(0);
  });
});

describe('ConnectionFaultRetryStrategy', () => {
  it('applies the same policy to SDK clients', async () => {
    const strategy = new ConnectionFaultRetryStrategy(policy);
    let token = await strategy.acquireInitialRetryToken('us-east-1');
    const info = { error: reset, errorType: 'TRANSIENT' } as RetryErrorInfo;
    token = await strategy.refreshRetryTokenForRetry(token, info);
    token = await strategy.refreshRetryTokenForRetry(token, info);
    expect(token.getRetryCount()).toBe(2);
    await expect(strategy.refreshRetryTokenForRetry(token, info)).rejects.toThrow();
    const fresh = await strategy.acquireInitialRetryToken('x');
    await expect(
      strategy.refreshRetryTokenForRetry(fresh, {
        error: throttled,
        errorType: 'THROTTLING',
      } as RetryErrorInfo),
    ).rejects.toThrow();
  });

  it('retries once at once when the SDK corrected its clock after a refused date, not after a model error', async () => {
    const strategy = new ConnectionFaultRetryStrategy(policy);
    const skewed = (status: number) =>
      ({
        error: Object.assign(new Error('Signature expired'), {
          $metadata: { clockSkewCorrected: true, httpStatusCode: status },
        }),
        errorType: 'CLIENT_ERROR',
      }) as RetryErrorInfo;
    const token = await strategy.refreshRetryTokenForRetry(
      await strategy.acquireInitialRetryToken('x'),
      skewed(403),
    );
    expect([token.getRetryCount(), token.getRetryDelay()]).toEqual([1, 0]);
    // The SDK marks any far-dated answer; a 400 (the model refused the input) is not a refused date.
    await expect(
      strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken('x'), skewed(400)),
    ).rejects.toThrow();
  });
});
