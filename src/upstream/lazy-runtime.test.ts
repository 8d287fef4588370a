import { describe, expect, it } from 'vitest';
import { lazyRuntime } from './lazy-runtime.ts';
import type { BedrockRuntime } from './runtime.ts';

function fakeRuntime(answer: number): BedrockRuntime {
  const unused = () => Promise.reject(new Error('not used here'));
  return {
    converse: unused,
    converseStream: unused,
    invokeModel: unused,
    invokeModelStream: unused,
    countTokens: async () => answer,
    messagesApi: unused,
    forward: unused,
  };
}

describe('lazyRuntime', () => {
  it('builds its transport on the first call, once for calls that arrive together', async () => {
    let builds = 0;
    const runtime = lazyRuntime(async () => {
      builds++;
      return fakeRuntime(42);
    });
    expect(builds).toBe(0);
    const answers = await Promise.all([
      runtime.countTokens({ modelId: 'm', input: undefined }),
      runtime.countTokens({ modelId: 'm', input: undefined }),
    ]);
    expect(answers).toEqual([42, 42]);
    await runtime.load();
    expect(builds).toBe(1);
  });

  it('fails the calls of a failed build, and builds again on the next call', async () => {
    let builds = 0;
    const runtime = lazyRuntime(async () => {
      builds++;
      if (builds === 1) throw new Error('package missing');
      return fakeRuntime(7);
    });
    await expect(runtime.countTokens({ modelId: 'm', input: undefined })).rejects.toThrow('package missing');
    await expect(runtime.countTokens({ modelId: 'm', input: undefined })).resolves.toBe(7);
    expect(builds).toBe(2);
  });
});
