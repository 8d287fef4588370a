/**
 * The Bedrock runtime calls through the AWS SDK client of one region: the transport for HTTP/2 (the
 * SDK's handler multiplexes every call on one session). Retries come from `withRetries`, like the
 * undici transport's, so the client itself must not retry.
 */
import {
  type BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  ConverseStreamCommand,
  type ConverseStreamCommandInput,
  CountTokensCommand,
  type CountTokensCommandInput,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import type { BedrockRuntime, ConverseStreamResult, InvokeInput, InvokeStreamResult } from './runtime.ts';

/** The SDK input shared by InvokeModel and InvokeModelWithResponseStream. */
function invokeParams(input: InvokeInput) {
  return {
    modelId: input.modelId,
    body: input.body,
    contentType: 'application/json',
    accept: 'application/json',
    serviceTier: input.serviceTier,
  };
}

export class SdkRuntime implements BedrockRuntime {
  readonly #client: BedrockRuntimeClient;

  constructor(client: BedrockRuntimeClient) {
    this.#client = client;
  }

  converse(input: ConverseCommandInput, signal?: AbortSignal): Promise<ConverseCommandOutput> {
    return this.#client.send(new ConverseCommand(input), { abortSignal: signal });
  }

  async converseStream(
    input: ConverseStreamCommandInput,
    signal?: AbortSignal,
  ): Promise<ConverseStreamResult> {
    const out = await this.#client.send(new ConverseStreamCommand(input), { abortSignal: signal });
    if (!out.stream) throw new Error('Bedrock ConverseStream answered without an event stream');
    return { requestId: out.$metadata.requestId, stream: out.stream };
  }

  async invokeModel(input: InvokeInput, signal?: AbortSignal): Promise<Uint8Array> {
    const out = await this.#client.send(new InvokeModelCommand(invokeParams(input)), { abortSignal: signal });
    return out.body;
  }

  async invokeModelStream(input: InvokeInput, signal?: AbortSignal): Promise<InvokeStreamResult> {
    const out = await this.#client.send(new InvokeModelWithResponseStreamCommand(invokeParams(input)), {
      abortSignal: signal,
    });
    if (!out.body) throw new Error('Bedrock InvokeModelWithResponseStream answered without an event stream');
    return { requestId: out.$metadata.requestId, stream: out.body };
  }

  async countTokens(input: CountTokensCommandInput, signal?: AbortSignal): Promise<number> {
    const out = await this.#client.send(new CountTokensCommand(input), { abortSignal: signal });
    return out.inputTokens ?? 0;
  }
}
