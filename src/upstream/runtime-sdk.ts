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
import type {
  AwsCredentialIdentityProvider,
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
} from '@smithy/types';
import { withAwsClock } from './aws-clock.ts';
import { checkJsonAnswer, header, httpError, pathLabel } from './codec.ts';
import { resolveEndpoint } from './endpoint.ts';
import { malformedStream } from './event-stream.ts';
import {
  MESSAGES_API_PATH,
  MESSAGES_API_SIGNING_SERVICE,
  mantleEndpoint,
  messagesApiHeaders,
  notAnAnswer,
  oneChunk,
  withModel,
} from './messages-api.ts';
import type {
  BedrockRuntime,
  ConverseStreamResult,
  ForwardInput,
  ForwardResult,
  InvokeInput,
  InvokeStreamResult,
  MessagesApiInput,
  MessagesApiResult,
} from './runtime.ts';
import { withoutCredentials } from './scrub.ts';
import { SigV4Signer } from './sigv4.ts';

/** The SDK client's HTTP handler (NodeHttpHandler or NodeHttp2Handler). */
export type MessagesApiHandler = RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;

/**
 * What the raw calls (the Messages API, the Bedrock-format door's forward) need besides the client: the
 * SDK has no command for them, so they go through the client's own HTTP handler (HTTP/2 sessions shared
 * with the SDK calls), signed by us.
 */
export interface SdkMessagesApiOptions {
  region: string;
  handler: MessagesApiHandler;
  credentials: AwsCredentialIdentityProvider;
  bearerToken?: string;
  mantleEndpoint?: string;
}

/**
 * An SDK error with any credential the endpoint echoed (its message, so its stack too) removed, as the
 * undici transport's codec does: an error's words reach the logs as they are.
 */
function scrubbed(err: unknown): never {
  if (err instanceof Error) {
    const message = withoutCredentials(err.message);
    if (message !== err.message) {
      if (err.stack) err.stack = err.stack.replace(err.message, message);
      err.message = message;
    }
  }
  throw err;
}

/**
 * A stream whose failure (an exception event, a cut) is scrubbed like a call's. The SDK's decoder fails
 * a torn or corrupt frame (or a payload that is not JSON) with a bare Error or SyntaxError, no name, no
 * code and no AWS metadata: that is the upstream's malformed stream, told as the undici transport tells it.
 */
async function* scrubbedStream<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    // A named Error (the idle timeout's TimeoutError) or one with a code (a network failure) is not.
    const bare =
      ((err?.constructor === Error && (err as Error).name === 'Error') || err instanceof SyntaxError) &&
      !('code' in err) &&
      !('$metadata' in err);
    scrubbed(bare ? malformedStream((err as Error).message) : err);
  }
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

/** A raw call's 2xx answer, its body still to read. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  requestId: string | undefined;
  stream: AsyncIterable<Uint8Array>;
}

export class SdkRuntime implements BedrockRuntime {
  readonly #client: BedrockRuntimeClient;
  readonly #messagesApi: SdkMessagesApiOptions | undefined;

  readonly #signer: SigV4Signer | undefined;

  constructor(client: BedrockRuntimeClient, messagesApi?: SdkMessagesApiOptions) {
    this.#client = client;
    this.#messagesApi = messagesApi;
    this.#signer =
      messagesApi && new SigV4Signer({ service: 'bedrock', credentials: messagesApi.credentials });
  }

  converse(input: ConverseCommandInput, signal?: AbortSignal): Promise<ConverseCommandOutput> {
    return this.#client.send(new ConverseCommand(input), { abortSignal: signal }).catch(scrubbed);
  }

  async converseStream(
    input: ConverseStreamCommandInput,
    signal?: AbortSignal,
  ): Promise<ConverseStreamResult> {
    const out = await this.#client
      .send(new ConverseStreamCommand(input), { abortSignal: signal })
      .catch(scrubbed);
    if (!out.stream) throw new Error('Bedrock ConverseStream answered without an event stream');
    return { requestId: out.$metadata.requestId, stream: scrubbedStream(out.stream) };
  }

  async invokeModel(input: InvokeInput, signal?: AbortSignal): Promise<Uint8Array> {
    const out = await this.#client
      .send(new InvokeModelCommand(invokeParams(input)), { abortSignal: signal })
      .catch(scrubbed);
    checkJsonAnswer(out.body, out.contentType);
    return out.body;
  }

  async invokeModelStream(input: InvokeInput, signal?: AbortSignal): Promise<InvokeStreamResult> {
    const out = await this.#client
      .send(new InvokeModelWithResponseStreamCommand(invokeParams(input)), { abortSignal: signal })
      .catch(scrubbed);
    if (!out.body) throw new Error('Bedrock InvokeModelWithResponseStream answered without an event stream');
    return { requestId: out.$metadata.requestId, stream: scrubbedStream(out.body) };
  }

  async countTokens(input: CountTokensCommandInput, signal?: AbortSignal): Promise<number> {
    const out = await this.#client
      .send(new CountTokensCommand(input), { abortSignal: signal })
      .catch(scrubbed);
    return out.inputTokens ?? 0;
  }

  // ---- Bedrock's Anthropic Messages API ----

  async messagesApi(input: MessagesApiInput, signal?: AbortSignal): Promise<MessagesApiResult> {
    const options = this.#messagesApi;
    if (!options) throw new Error('this runtime was built without the Messages API options');
    const endpoint =
      input.host === 'mantle'
        ? mantleEndpoint(options.mantleEndpoint, options.region)
        : await resolveEndpoint(this.#client, options.region);
    const signer = new SigV4Signer({
      service: MESSAGES_API_SIGNING_SERVICE[input.host],
      credentials: options.credentials,
    });
    const answer = await this.#rawCall(
      options,
      signer,
      endpoint,
      `${endpoint.basePath}${MESSAGES_API_PATH}`,
      messagesApiHeaders(input),
      withModel(input.body, input.modelId),
      signal,
    );
    const { status, headers, requestId, stream } = answer;
    // A non-stream answer (or a stream that is not SSE) is one document: read here, so a 200 that is
    // not an answer fails here.
    const sse = input.stream && (headers['content-type'] ?? '').includes('text/event-stream');
    const text = sse ? undefined : await readText(stream);
    const wrong = notAnAnswer(input.stream, status, headers, text, requestId);
    if (wrong) throw wrong;
    return { requestId, stream: text === undefined ? stream : oneChunk(text) };
  }

  /** The raw call on the client's own request handler (HTTP/2 session), signed here like the undici transport. */
  async forward(input: ForwardInput, signal?: AbortSignal): Promise<ForwardResult> {
    const forwarding = this.#messagesApi;
    if (!forwarding || !this.#signer) throw new Error('this runtime was built without forwarding options');
    const endpoint = await resolveEndpoint(this.#client, forwarding.region);
    const path = `${endpoint.basePath}/model/${pathLabel(input.modelId)}/${input.operation}`;
    const { status, headers, requestId, stream } = await this.#rawCall(
      forwarding,
      this.#signer,
      endpoint,
      path,
      input.headers,
      input.body,
      signal,
    );
    return { requestId, status, headers, stream };
  }

  /**
   * A POST the SDK has no command for, on the client's own HTTP handler: bearer token or SigV4 (with
   * `signer`, signed again once if AWS refuses its date: aws-clock.ts), response headers lower-cased,
   * a non-2xx answer thrown as an httpError with its body.
   */
  #rawCall(
    options: SdkMessagesApiOptions,
    signer: SigV4Signer,
    endpoint: { origin: string; host: string },
    path: string,
    headers: Record<string, string>,
    body: Uint8Array | string,
    signal: AbortSignal | undefined,
  ): Promise<RawAnswer> {
    return withAwsClock(async () => {
      signal?.throwIfAborted();
      const signed =
        options.bearerToken !== undefined
          ? { ...headers, host: endpoint.host, authorization: `Bearer ${options.bearerToken}` }
          : await signer.sign({
              method: 'POST',
              host: endpoint.host,
              path,
              headers,
              body,
              region: options.region,
            });
      signal?.throwIfAborted();
      const url = new URL(endpoint.origin);
      // The fields of @smithy/protocol-http's HttpRequest, which the handlers read.
      const request = {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        method: 'POST',
        path,
        query: {},
        headers: signed,
        body,
      } as HttpRequest;
      const { response } = await options.handler.handle(request, { abortSignal: signal });
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) responseHeaders[name.toLowerCase()] = String(value);
      }
      const requestId = header(responseHeaders, 'x-amzn-requestid') ?? header(responseHeaders, 'request-id');
      const stream = response.body as AsyncIterable<Uint8Array>;
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw httpError(response.statusCode, responseHeaders, await readText(stream), requestId);
      }
      return { status: response.statusCode, headers: responseHeaders, requestId, stream };
    });
  }
}

async function readText(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
