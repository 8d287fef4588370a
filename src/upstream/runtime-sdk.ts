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
import type { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { header, httpError, pathLabel } from './codec.ts';
import { resolveEndpoint } from './endpoint.ts';
import type {
  BedrockRuntime,
  ConverseStreamResult,
  ForwardInput,
  ForwardResult,
  InvokeInput,
  InvokeStreamResult,
} from './runtime.ts';
import { SigV4Signer } from './sigv4.ts';

/** What `forward` needs beyond the client: it signs raw requests itself and sends them on the client's handler. */
export interface SdkForwardOptions {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** Bedrock API key: a bearer token instead of SigV4. */
  bearerToken?: string;
}

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

  readonly #forwarding: SdkForwardOptions | undefined;
  readonly #signer: SigV4Signer | undefined;

  constructor(client: BedrockRuntimeClient, forwarding?: SdkForwardOptions) {
    this.#client = client;
    this.#forwarding = forwarding;
    this.#signer = forwarding && new SigV4Signer({ service: 'bedrock', credentials: forwarding.credentials });
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

  /** The raw call on the client's own request handler (HTTP/2 session), signed here like the undici transport. */
  async forward(input: ForwardInput, signal?: AbortSignal): Promise<ForwardResult> {
    const forwarding = this.#forwarding;
    if (!forwarding || !this.#signer) throw new Error('this runtime was built without forwarding options');
    const endpoint = await resolveEndpoint(this.#client, forwarding.region);
    const path = `${endpoint.basePath}/model/${pathLabel(input.modelId)}/${input.operation}`;
    signal?.throwIfAborted();
    const headers =
      forwarding.bearerToken !== undefined
        ? { ...input.headers, host: endpoint.host, authorization: `Bearer ${forwarding.bearerToken}` }
        : await this.#signer.sign({
            method: 'POST',
            host: endpoint.host,
            path,
            headers: input.headers,
            body: input.body,
            region: forwarding.region,
          });
    const url = new URL(endpoint.origin);
    // The fields of @smithy/protocol-http's HttpRequest, which the handlers read.
    const request = {
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      method: 'POST',
      path,
      query: {},
      headers,
      body: input.body,
    } as Parameters<NodeHttpHandler['handle']>[0];
    const handler = this.#client.config.requestHandler as NodeHttpHandler | NodeHttp2Handler;
    const { response } = await handler.handle(request, { abortSignal: signal });
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      responseHeaders[name.toLowerCase()] = String(value);
    }
    const requestId = header(responseHeaders, 'x-amzn-requestid');
    const body = response.body as AsyncIterable<Uint8Array>;
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      throw httpError(
        response.statusCode,
        responseHeaders,
        Buffer.concat(chunks).toString('utf8'),
        requestId,
      );
    }
    return { requestId, status: response.statusCode, headers: responseHeaders, stream: body };
  }
}
