/**
 * The Bedrock upstream: one long-lived client per region sharing one keep-alive connection pool, so
 * calls reuse connections instead of paying a TCP+TLS handshake each (the SDK's default HTTP/2 handler
 * opens a session per call). Endpoints come from the SDK's own env handling
 * (AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL_BEDROCK), credentials from the default chain,
 * and AWS_BEARER_TOKEN_BEDROCK API keys are honoured natively by the SDK (it prefers httpBearerAuth
 * when that variable is set).
 *
 * Over HTTP/1.1 (the default) the four hot calls skip the SDK's per-call pipeline and go through
 * BedrockRuntimeHttp (same endpoint, auth and result shapes, a fraction of the CPU); HTTP/2 and the
 * rarely used calls (CountTokens, the control plane) stay on the SDK.
 */
import http from 'node:http';
import https from 'node:https';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  ConverseStreamCommand,
  type ConverseStreamCommandInput,
  type ConverseStreamOutput,
  CountTokensCommand,
  type CountTokensCommandInput,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type ResponseStream,
  type ServiceTierType,
} from '@aws-sdk/client-bedrock-runtime';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { UpstreamHttp } from '../config/config.ts';
import { ConnectionFaultRetryStrategy } from './retry.ts';
import { BedrockRuntimeHttp } from './runtime-http.ts';

export interface BedrockUpstreamOptions {
  /** Region used when a call names none. */
  region: string;
  http: UpstreamHttp;
  maxAttempts: number;
  /** Tests may pass static credentials; otherwise the default provider chain. */
  credentials?: AwsCredentialIdentityProvider;
}

export interface ConverseStreamResult {
  /** Upstream request id (x-amzn-requestid), for logs. */
  requestId: string | undefined;
  stream: AsyncIterable<ConverseStreamOutput>;
}

export interface InvokeStreamResult {
  requestId: string | undefined;
  /** Chunks carry Claude's own stream events as JSON bytes. */
  stream: AsyncIterable<ResponseStream>;
}

/** A native (InvokeModel) call: the Anthropic body as JSON text, for one model. */
export interface InvokeInput {
  modelId: string;
  body: string;
  serviceTier?: ServiceTierType;
}

type RequestHandler = NodeHttpHandler | NodeHttp2Handler;

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

function createHandler(kind: UpstreamHttp): { handler: RequestHandler; destroy(): void } {
  switch (kind) {
    case '1.1': {
      const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
      const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
      const handler = new NodeHttpHandler({ httpAgent, httpsAgent });
      return {
        handler,
        destroy() {
          handler.destroy();
          httpAgent.destroy();
          httpsAgent.destroy();
        },
      };
    }
    case '2': {
      // The SDK's default disables concurrent streams (one session per call); allow them.
      const handler = new NodeHttp2Handler({ disableConcurrentStreams: false });
      return { handler, destroy: () => handler.destroy() };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown upstream HTTP version ${String(never)}`);
    }
  }
}

export class BedrockUpstream {
  readonly #options: BedrockUpstreamOptions;
  readonly #pool: { handler: RequestHandler; destroy(): void };
  readonly #credentials: AwsCredentialIdentityProvider;
  readonly #runtime = new Map<string, BedrockRuntimeClient>();
  readonly #control = new Map<string, BedrockClient>();
  readonly #fast: BedrockRuntimeHttp | undefined;

  constructor(options: BedrockUpstreamOptions) {
    this.#options = options;
    this.#pool = createHandler(options.http);
    // One provider for every region, so credentials are resolved and cached once.
    this.#credentials = options.credentials ?? fromNodeProviderChain();
    if (options.http === '1.1') {
      this.#fast = new BedrockRuntimeHttp({
        credentials: this.#credentials,
        maxAttempts: options.maxAttempts,
        sdkClient: (region) => this.runtime(region),
        // The SDK prefers the API key whenever this variable is set; so do we.
        bearerToken: process.env.AWS_BEARER_TOKEN_BEDROCK,
      });
    }
  }

  get defaultRegion(): string {
    return this.#options.region;
  }

  /** The bedrock-runtime client for a region (created once, then reused). */
  runtime(region = this.#options.region): BedrockRuntimeClient {
    return this.#clientFor(this.#runtime, region, BedrockRuntimeClient);
  }

  /** The control-plane (`bedrock`) client for a region: model and inference-profile listings. */
  control(region = this.#options.region): BedrockClient {
    return this.#clientFor(this.#control, region, BedrockClient);
  }

  /** One client per region and kind, all sharing the credentials and the connection pool. */
  #clientFor<C>(
    clients: Map<string, C>,
    region: string,
    Client: new (config: {
      region: string;
      credentials: AwsCredentialIdentityProvider;
      requestHandler: RequestHandler;
      retryStrategy: ConnectionFaultRetryStrategy;
    }) => C,
  ): C {
    let client = clients.get(region);
    if (!client) {
      client = new Client({
        region,
        credentials: this.#credentials,
        requestHandler: this.#pool.handler,
        retryStrategy: new ConnectionFaultRetryStrategy(this.#options.maxAttempts),
      });
      clients.set(region, client);
    }
    return client;
  }

  converse(
    input: ConverseCommandInput,
    signal?: AbortSignal,
    region?: string,
  ): Promise<ConverseCommandOutput> {
    if (this.#fast) return this.#fast.converse(input, signal, region ?? this.#options.region);
    return this.runtime(region).send(new ConverseCommand(input), { abortSignal: signal });
  }

  /**
   * Resolves once Bedrock has answered with headers (so errors before the first event still reject
   * here); the events then arrive through `stream`. Aborting `signal` tears down the HTTP call.
   */
  async converseStream(
    input: ConverseStreamCommandInput,
    signal?: AbortSignal,
    region?: string,
  ): Promise<ConverseStreamResult> {
    if (this.#fast) return this.#fast.converseStream(input, signal, region ?? this.#options.region);
    const out = await this.runtime(region).send(new ConverseStreamCommand(input), { abortSignal: signal });
    if (!out.stream) throw new Error('Bedrock ConverseStream answered without an event stream');
    return { requestId: out.$metadata.requestId, stream: out.stream };
  }

  /** InvokeModel: answers Claude's message JSON as bytes. */
  async invokeModel(input: InvokeInput, signal?: AbortSignal, region?: string): Promise<Uint8Array> {
    if (this.#fast) return this.#fast.invokeModel(input, signal, region ?? this.#options.region);
    const out = await this.runtime(region).send(new InvokeModelCommand(invokeParams(input)), {
      abortSignal: signal,
    });
    return out.body;
  }

  /** InvokeModelWithResponseStream; resolves once Bedrock answered with headers, like converseStream. */
  async invokeModelStream(
    input: InvokeInput,
    signal?: AbortSignal,
    region?: string,
  ): Promise<InvokeStreamResult> {
    if (this.#fast) return this.#fast.invokeModelStream(input, signal, region ?? this.#options.region);
    const out = await this.runtime(region).send(
      new InvokeModelWithResponseStreamCommand(invokeParams(input)),
      { abortSignal: signal },
    );
    if (!out.body) throw new Error('Bedrock InvokeModelWithResponseStream answered without an event stream');
    return { requestId: out.$metadata.requestId, stream: out.body };
  }

  async countTokens(input: CountTokensCommandInput, signal?: AbortSignal, region?: string): Promise<number> {
    const out = await this.runtime(region).send(new CountTokensCommand(input), { abortSignal: signal });
    return out.inputTokens ?? 0;
  }

  /** Closes pooled connections; in-flight calls are not waited for. */
  destroy(): void {
    for (const client of this.#runtime.values()) client.destroy();
    for (const client of this.#control.values()) client.destroy();
    this.#runtime.clear();
    this.#control.clear();
    this.#pool.destroy();
    void this.#fast?.destroy();
  }
}
