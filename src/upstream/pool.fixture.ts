/**
 * Fake runtimes for tests of the upstream pool: Bedrock exceptions as the AWS SDK shapes them, and
 * runtimes that answer each call with the next outcome of a script.
 */
import type { BedrockRuntime } from './runtime.ts';

/** A Bedrock exception as the SDK shapes it. */
export function awsError(name: string, status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`${name} from the test`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    $response: { statusCode: status, headers },
  });
}

/** Each call takes the script's next outcome (then always the last one); an Error is thrown. */
function scripted<T>(outcomes: readonly (Error | T)[]): () => T {
  let i = 0;
  return () => {
    const outcome = outcomes[Math.min(i++, outcomes.length - 1)]!;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
}

/** A runtime whose invokeModel answers from a script of outcomes (text, or an Error); the model ids it was called with. */
export function scriptedInvoke(outcomes: readonly (Error | string)[]) {
  const calls: string[] = [];
  const next = scripted(outcomes);
  const runtime = {
    invokeModel: async (input: { modelId: string }) => {
      calls.push(input.modelId);
      return new TextEncoder().encode(next());
    },
  } as unknown as BedrockRuntime;
  return { runtime, calls };
}

/** A runtime whose Messages API answers from a script (an empty stream, or an Error); the hosts and model ids called. */
export function scriptedMessagesApi(outcomes: readonly (Error | string)[]) {
  const calls: [string, string][] = [];
  const next = scripted(outcomes);
  const runtime = {
    messagesApi: async (input: { modelId: string; host: string }) => {
      calls.push([input.host, input.modelId]);
      next();
      return { requestId: 'r', stream: (async function* () {})() };
    },
  } as unknown as BedrockRuntime;
  return { runtime, calls };
}
