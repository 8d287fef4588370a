import { describe, expect, it } from 'vitest';
import type { BedrockRuntime } from './runtime.ts';
import { StreamStartTimeout, withStreamStart } from './stream-start.ts';

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
