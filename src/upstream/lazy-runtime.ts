/**
 * A runtime whose transport is built on its first call. The SDK transport (HTTP/2) needs
 * @aws-sdk/client-bedrock-runtime and its middleware stack, ~40 ms and ~15 MB to load: a gateway on the
 * default undici transport never loads them, and one on HTTP/2 loads them after `serve` listens
 * (`load()` is also the warm-up) instead of before.
 */
import type { BedrockRuntime } from './runtime.ts';

export interface LazyRuntime extends BedrockRuntime {
  /** Builds the transport now (once); a failed build is retried by the next call. */
  load(): Promise<BedrockRuntime>;
}

export function lazyRuntime(build: () => Promise<BedrockRuntime>): LazyRuntime {
  let built: Promise<BedrockRuntime> | undefined;
  const load = () => {
    if (!built) {
      const attempt = build();
      attempt.catch(() => {
        if (built === attempt) built = undefined;
      });
      built = attempt;
    }
    return built;
  };
  return {
    load,
    converse: async (input, signal) => (await load()).converse(input, signal),
    converseStream: async (input, signal) => (await load()).converseStream(input, signal),
    invokeModel: async (input, signal) => (await load()).invokeModel(input, signal),
    invokeModelStream: async (input, signal) => (await load()).invokeModelStream(input, signal),
    countTokens: async (input, signal) => (await load()).countTokens(input, signal),
    messagesApi: async (input, signal) => (await load()).messagesApi(input, signal),
    forward: async (input, signal) => (await load()).forward(input, signal),
  };
}
