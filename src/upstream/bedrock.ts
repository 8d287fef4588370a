/**
 * The Bedrock upstream, built once at start-up: the runtime calls through one transport chosen by the
 * configured HTTP version — the undici pool over HTTP/1.1 (the fast path), the SDK over HTTP/2 — behind
 * one retry policy, plus the per-region SDK clients (the control plane for the model catalogue, and the
 * runtime client whose resolved config names the endpoint), each loaded on first use (`warm` after
 * listening). Endpoints come from the SDK's own env handling (AWS_ENDPOINT_URL_BEDROCK_RUNTIME /
 * AWS_ENDPOINT_URL_BEDROCK), credentials from the default chain, and a Bedrock API key, when configured,
 * replaces SigV4 on every call.
 */
import https from 'node:https';
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { type NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { UpstreamHttp } from '../config/config.ts';
import { ConfigError } from '../config/parsers.ts';
import { UPSTREAM_ANSWER_TIMEOUT_MS, UPSTREAM_IDLE_TIMEOUT_MS } from '../config/settings.ts';
import type { BedrockControlClient } from '../models/catalogue.ts';
import { runtimeOrigin } from './endpoint.ts';
import { GuardedHttp2Handler } from './h2-handler.ts';
import { type LazyRuntime, lazyRuntime } from './lazy-runtime.ts';
import { mantleModelLister } from './mantle-models.ts';
import {
  agentProxyEnv,
  credentialChainProxyOptions,
  describeProxy,
  type ProxyEnv,
  proxyFor,
  readProxyEnv,
} from './proxy.ts';
import { ConnectionFaultRetryStrategy, type RetryPolicy, withRetries } from './retry.ts';
import type { BedrockRuntime } from './runtime.ts';
import type { MessagesApiHandler } from './runtime-sdk.ts';
import { type ConnectionWait, UndiciRuntime } from './runtime-undici.ts';

export type {
  BedrockRuntime,
  ConverseStreamResult,
  InvokeInput,
  InvokeStreamResult,
  MessagesApiInput,
  MessagesApiResult,
} from './runtime.ts';
export type { ConnectionWait } from './runtime-undici.ts';

export interface BedrockUpstreamOptions {
  /** The region of the runtime calls and the default of the control plane. */
  region: string;
  http: UpstreamHttp;
  /** Attempts per call (connection faults only), the control plane's included. */
  maxAttempts: number;
  /** Attempts per runtime call when not `maxAttempts` (1 behind a pool: its failover is the retry). */
  runtimeMaxAttempts?: number;
  /** HTTP/1.1: most connections open to Bedrock at once (one call each). */
  maxConnections: number;
  /** A begun answer silent this long is cut (undici's body timeout, the HTTP/2 stream's timeout); 0: never. */
  idleTimeoutMs?: number;
  /** A call not begun to be answered (headers) within this long fails as a timeout; 0: never. */
  answerTimeoutMs?: number;
  /** Longest one control-plane (catalogue) call may take; default CONTROL_TIMEOUT_MS. */
  controlTimeoutMs?: number;
  /** Bedrock API key (AWS_BEARER_TOKEN_BEDROCK): a bearer token instead of SigV4. */
  bearerToken?: string;
  /** Runtime endpoint (else the SDK's env/config handling, then the region's rules). */
  endpoint?: string;
  /** Control-plane (catalogue) endpoint, likewise. */
  controlEndpoint?: string;
  /** Tests may pass static credentials; otherwise the default provider chain. */
  credentials?: AwsCredentialIdentityProvider;
  /** Calls are waiting for a free upstream connection (HTTP/1.1 at `maxConnections`). */
  onConnectionWait?: (wait: ConnectionWait) => void;
  /** bedrock-mantle host URL for the `mantle` Claude path (else the region's). */
  mantleEndpoint?: string;
  /** The outbound proxy variables (proxy.ts); else the environment's. */
  proxyEnv?: ProxyEnv;
}

// Not an ES import of node:http: that reads every export, and its WebSocket getter loads Node's bundled
// undici (~25 ms of `serve`'s start-up).
const http = process.getBuiltinModule('node:http');

type RequestHandler = NodeHttpHandler | NodeHttp2Handler;

const RETRY_BASE_DELAY_MS = 50;

/** Longest one control-plane call (a model or profile listing) may take, retries included. */
export const CONTROL_TIMEOUT_MS = 15_000;

function createHandler(
  kind: UpstreamHttp,
  maxSockets: number,
  idleTimeoutMs: number,
  answerTimeoutMs: number,
  proxies: ProxyEnv,
): { handler: RequestHandler; destroy(): void } {
  switch (kind) {
    case '1.1': {
      // The control plane (catalogue) through the outbound proxy, by Node's own support (proxyEnv).
      const proxyEnv = agentProxyEnv(proxies);
      const httpAgent = new http.Agent({ keepAlive: true, maxSockets, ...proxyEnv });
      const httpsAgent = new https.Agent({ keepAlive: true, maxSockets, ...proxyEnv });
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
      // The SDK's default disables concurrent streams (one session per call); allow them. Its request
      // timeout is the stream's inactivity until the answer begins (the idle guard takes over then).
      const handler = new GuardedHttp2Handler(
        { disableConcurrentStreams: false, requestTimeout: answerTimeoutMs },
        idleTimeoutMs,
      );
      return { handler, destroy: () => handler.destroy() };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown upstream HTTP version ${String(never)}`);
    }
  }
}

/**
 * The HTTP/2 transport (the AWS SDK's Node http2 handler) cannot go through a CONNECT proxy: when a
 * proxy applies to its runtime or control-plane host, `serve` refuses to start rather than fail every
 * call later as a connection error.
 */
function refuseProxiedHttp2(proxies: ProxyEnv, options: BedrockUpstreamOptions): void {
  const hosts = [
    runtimeOrigin(options.region, options.endpoint),
    options.controlEndpoint ??
      process.env.AWS_ENDPOINT_URL_BEDROCK ??
      `https://bedrock.${options.region}.amazonaws.com`,
  ];
  for (const host of hosts) {
    let proxy: URL | undefined;
    try {
      proxy = proxyFor(proxies, host);
    } catch {
      continue; // not a URL: the SDK reports it
    }
    if (proxy) {
      throw new ConfigError(
        `ABPROXY_UPSTREAM_HTTP=2 cannot go through the outbound proxy ${describeProxy(proxy)} ` +
          `(HTTPS_PROXY/HTTP_PROXY) to ${new URL(host).host}: use ABPROXY_UPSTREAM_HTTP=1.1 (the default), ` +
          'or add the host to NO_PROXY if it is reachable directly',
      );
    }
  }
}

export class BedrockUpstream {
  /** The runtime calls the handlers make; how many transports or regions are behind it is ours. */
  readonly runtime: BedrockRuntime;
  readonly #options: BedrockUpstreamOptions;
  /** The outbound proxy variables, read once at start-up. */
  readonly #proxies: ProxyEnv;
  readonly #pool: { handler: RequestHandler; destroy(): void };
  readonly #credentials: AwsCredentialIdentityProvider;
  readonly #sdkRuntime = new Map<string, Promise<BedrockRuntimeClient>>();
  readonly #control = new Map<string, BedrockClient>();
  readonly #undici: UndiciRuntime | undefined;
  readonly #sdk: LazyRuntime | undefined;
  #mantleLister: ((region: string) => Promise<string[]>) | undefined;

  constructor(options: BedrockUpstreamOptions) {
    this.#options = options;
    const proxies = options.proxyEnv ?? readProxyEnv();
    this.#proxies = proxies;
    if (options.http === '2') refuseProxiedHttp2(proxies, options);
    this.#pool = createHandler(
      options.http,
      options.maxConnections,
      options.idleTimeoutMs ?? UPSTREAM_IDLE_TIMEOUT_MS,
      options.answerTimeoutMs ?? UPSTREAM_ANSWER_TIMEOUT_MS,
      proxies,
    );
    // One provider for every region, so credentials are resolved and cached once.
    this.#credentials = options.credentials ?? fromNodeProviderChain(credentialChainProxyOptions(proxies));
    const policy: RetryPolicy = {
      maxAttempts: options.runtimeMaxAttempts ?? options.maxAttempts,
      baseDelayMs: RETRY_BASE_DELAY_MS,
    };
    if (options.http === '1.1') {
      this.#undici = new UndiciRuntime({
        region: options.region,
        credentials: this.#credentials,
        sdkClient: () => this.#sdkRuntimeClient(options.region),
        bearerToken: options.bearerToken,
        maxConnections: options.maxConnections,
        ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
        ...(options.answerTimeoutMs === undefined ? {} : { answerTimeoutMs: options.answerTimeoutMs }),
        onConnectionWait: options.onConnectionWait,
        mantleEndpoint: options.mantleEndpoint,
        proxyEnv: proxies,
      });
    } else {
      this.#sdk = lazyRuntime(async () => {
        const [{ SdkRuntime }, client] = await Promise.all([
          import('./runtime-sdk.ts'),
          this.#sdkRuntimeClient(options.region),
        ]);
        return new SdkRuntime(client, {
          region: options.region,
          handler: this.#pool.handler as unknown as MessagesApiHandler,
          credentials: this.#credentials,
          bearerToken: options.bearerToken,
          mantleEndpoint: options.mantleEndpoint,
        });
      });
    }
    this.runtime = withRetries(this.#undici ?? this.#sdk!, policy);
  }

  /**
   * Loads what the first call would (the SDK runtime client, the endpoint and its pool) in the
   * background, so that it neither delays `serve`'s start nor waits on the first request.
   */
  warm(): void {
    const loaded = this.#undici ? this.#undici.warm() : this.#sdk?.load();
    loaded?.catch(() => {}); // the first call retries and reports it
  }

  /** The ids the bedrock-mantle host lists for a region (for the catalogue; see mantle-models.ts). */
  mantleModels(region = this.#options.region): Promise<string[]> {
    this.#mantleLister ??= mantleModelLister({
      credentials: this.#credentials,
      proxyEnv: this.#proxies,
      ...(this.#options.mantleEndpoint === undefined ? {} : { endpoint: this.#options.mantleEndpoint }),
      ...(this.#options.bearerToken === undefined ? {} : { bearerToken: this.#options.bearerToken }),
    });
    return this.#mantleLister(region);
  }

  /**
   * The control-plane (`bedrock`) client for a region: model and inference-profile listings. Its SDK
   * client is made, and its package loaded (~10 ms), on the first call: after `serve` listens.
   */
  control(region = this.#options.region): BedrockControlClient {
    return {
      send: async (command) => {
        const { BedrockClient } = await import('@aws-sdk/client-bedrock');
        let client = this.#control.get(region);
        if (!client) {
          client = this.#newClient(
            region,
            BedrockClient,
            this.#options.maxAttempts,
            this.#options.controlEndpoint,
          );
          this.#control.set(region, client);
        }
        // Listings answer in well under a second: one that hangs (an endpoint that accepts and never
        // answers, credentials that never come) would hold the catalogue's first load, and so every
        // request, for ever. It fails instead, and the catalogue falls back to its built-in list.
        const timeoutMs = this.#options.controlTimeoutMs ?? CONTROL_TIMEOUT_MS;
        return client.send(command as Parameters<BedrockClient['send']>[0], {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
      },
    };
  }

  /** The runtime SDK client of a region (package loaded on first use); it never retries, `withRetries` does. */
  #sdkRuntimeClient(region: string): Promise<BedrockRuntimeClient> {
    let client = this.#sdkRuntime.get(region);
    if (!client) {
      client = import('@aws-sdk/client-bedrock-runtime').then(({ BedrockRuntimeClient }) =>
        this.#newClient(region, BedrockRuntimeClient, 1, this.#options.endpoint),
      );
      this.#sdkRuntime.set(region, client);
    }
    return client;
  }

  /** A client of a region and kind; all share the credentials, the API key and the connection pool. */
  #newClient<C>(
    region: string,
    Client: new (config: {
      region: string;
      credentials: AwsCredentialIdentityProvider;
      requestHandler: RequestHandler;
      retryStrategy: ConnectionFaultRetryStrategy;
      token?: { token: string };
      authSchemePreference?: string[];
      endpoint?: string;
    }) => C,
    maxAttempts: number,
    endpoint: string | undefined,
  ): C {
    const { bearerToken } = this.#options;
    return new Client({
      region,
      credentials: this.#credentials,
      requestHandler: this.#pool.handler,
      retryStrategy: new ConnectionFaultRetryStrategy({ maxAttempts, baseDelayMs: RETRY_BASE_DELAY_MS }),
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(bearerToken === undefined
        ? {}
        : { token: { token: bearerToken }, authSchemePreference: ['httpBearerAuth'] }),
    });
  }

  /**
   * After a burst (nothing in flight): closes the idle upstream connections but a few warm ones; over
   * HTTP/2 one session carries every call and there is nothing to close. Returns how many closed.
   */
  closeIdle(): number {
    return this.#undici?.closeIdle() ?? 0;
  }

  /** Closes pooled connections; in-flight calls are not waited for. */
  destroy(): void {
    for (const client of this.#sdkRuntime.values())
      void client.then(
        (c) => c.destroy(),
        () => {},
      );
    for (const client of this.#control.values()) client.destroy();
    this.#sdkRuntime.clear();
    this.#control.clear();
    this.#pool.destroy();
    void this.#undici?.destroy();
  }
}
