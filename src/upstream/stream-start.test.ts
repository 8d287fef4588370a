import { describe, expect, it } from 'vitest';
import type { BedrockRuntime } from './runtime.ts';
import {
  PROMPT_BYTES_PER_SECOND,
  StreamStartTimeout,
  startedWithin,
  withStreamStart,
} from './stream-start.ts';

/** A runtime that never answers (but gives up when its signal aborts). */
const silent = {
  invokeModelStream: (_input: unknown, signal?: AbortSignal) =>
    new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
  invokeModel: (_input: unknown, signal?: AbortSignal) =>
    new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
} as unknown as BedrockRuntime;

describe('withStreamStart', () => {
  it('a stream not started within the bound is a 504 timeout_error; the client leaving is not', async () => {
    const bounded = withStreamStart(silent, 30);
    const cut = await bounded.invokeModelStream({ modelId: 'm', body: '{}' }).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(StreamStartTimeout);
    expect(cut).toMatchObject({ status: 504, type: 'timeout_error' });

    const client = new AbortController();
    const left = bounded
      .invokeModelStream({ modelId: 'm', body: '{}' }, client.signal)
      .catch((e: unknown) => e);
    client.abort(new Error('client left'));
    expect(await left).toMatchObject({ message: 'client left' });

    // A non-stream call is not bounded (an answer sent whole may take minutes).
    const whole = new AbortController();
    const waiting = bounded.invokeModel({ modelId: 'm', body: '{}' }, whole.signal).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 60));
    whole.abort(new Error('still waiting'));
    expect(await waiting).toMatchObject({ message: 'still waiting' });
  });
});

describe('withStreamStart learns', () => {
  /** A runtime whose streams start after `startsIn` ms, or never (undefined). */
  const upstream = () => {
    const state: { startsIn: number | undefined; calls: number } = { startsIn: undefined, calls: 0 };
    const runtime = {
      invokeModelStream: (_input: unknown, signal?: AbortSignal) => {
        state.calls++;
        const startsIn = state.startsIn;
        return new Promise((resolve, reject) => {
          const timer =
            startsIn === undefined ? undefined : setTimeout(() => resolve({ stream: [] }), startsIn);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
      },
    } as unknown as BedrockRuntime;
    return { state, runtime };
  };
  const timed = async (bounded: BedrockRuntime, modelId: string, body = '{}') => {
    const started = performance.now();
    const out = await bounded.invokeModelStream({ modelId, body }).catch((e: unknown) => e);
    return { out, ms: performance.now() - started };
  };

  it('after a stream left unanswered for the whole bound, the next ones of that model get the first-byte timer until one starts', async () => {
    const { state, runtime } = upstream();
    const bounded = withStreamStart(runtime, 400, 30);

    const first = await timed(bounded, 'm');
    expect(first.out).toBeInstanceOf(StreamStartTimeout);
    expect(first.ms).toBeGreaterThanOrEqual(390);
    // A retry is not held the whole bound again: a 504 at the first-byte timer, saying why.
    const retry = await timed(bounded, 'm');
    expect(retry.ms).toBeLessThan(200);
    expect(retry.out).toMatchObject({ status: 504, type: 'timeout_error' });
    expect((retry.out as Error).message).toMatch(
      /within 30 ms \(its last stream of m got no answer within 400 ms/,
    );
    // Another model has not been left unanswered: it has the whole bound.
    expect((await timed(bounded, 'other')).ms).toBeGreaterThanOrEqual(390);

    // The timer is prompt-sized: a large prompt slow to start (the upstream is back) is served.
    state.startsIn = 150;
    const large = await timed(bounded, 'm', JSON.stringify({ prompt: 'x'.repeat(PROMPT_BYTES_PER_SECOND) }));
    expect(large.out).toMatchObject({ stream: [] });
    // It started: the model has the whole bound again (a small prompt as slow is not cut either).
    expect((await timed(bounded, 'm')).out).toMatchObject({ stream: [] });
    state.startsIn = undefined;
    expect((await timed(bounded, 'm')).ms).toBeGreaterThanOrEqual(390);
  });

  it('without a first-byte timer (0) every stream has the whole bound', async () => {
    const { runtime } = upstream();
    const bounded = withStreamStart(runtime, 200, 0);
    expect((await timed(bounded, 'm')).ms).toBeGreaterThanOrEqual(190);
    expect((await timed(bounded, 'm')).ms).toBeGreaterThanOrEqual(190);
  });
});

describe('withStreamStart, non-stream calls', () => {
  it('a call of known max_tokens is a 504 once no answer of its size could take that long; without max_tokens it waits', async () => {
    // 20 ms, plus 1 token at SLOWEST_TOKENS_PER_SECOND (100 ms).
    const bounded = withStreamStart(silent, 5_000, 20);
    const started = performance.now();
    const cut = await bounded
      .invokeModel({ modelId: 'm', body: '{}', maxTokens: 1 })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(cut).toMatchObject({ status: 504, type: 'timeout_error' });
    expect((cut as Error).message).toMatch(/within 120 ms \(no answer of max_tokens 1 takes that long/);

    const client = new AbortController();
    const waiting = bounded.invokeModel({ modelId: 'm', body: '{}' }, client.signal).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.abort(new Error('still waiting'));
    expect(await waiting).toMatchObject({ message: 'still waiting' });
  });
});

describe('startedWithin', () => {
  const never = (signal: AbortSignal | undefined) =>
    new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));

  it('asks `more` only once the bound ran out, and waits that much longer before the 504', async () => {
    let asked = 0;
    const more = () => {
      asked++;
      return 80;
    };
    // Answered in time: the prompt's share is never measured.
    await startedWithin(40, undefined, async () => 'ok', undefined, '', '', more);
    expect(asked).toBe(0);
    const began = performance.now();
    const err = await startedWithin(40, undefined, never, undefined, '', '', more).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamStartTimeout);
    expect((err as Error).message).toContain('within 120 ms');
    expect(asked).toBe(1);
    expect(performance.now() - began).toBeGreaterThanOrEqual(115);
  });

  it("the client's leaving aborts the call, and is not a 504", async () => {
    const client = new AbortController();
    const pending = startedWithin(5_000, client.signal, never).catch((e: unknown) => e);
    client.abort(new Error('client gone'));
    const err = await pending;
    expect(err).not.toBeInstanceOf(StreamStartTimeout);
    expect((err as Error).message).toBe('client gone');
  });
});
