/**
 * The hot Bedrock runtime calls (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream)
 * over a keep-alive undici pool, without the AWS SDK's per-call pipeline (middleware stack, schema
 * serde, endpoint rules, user agent), which cost more CPU than everything else in a request. Results
 * and errors keep the SDK's shapes so callers and the error table cannot tell the difference:
 * outputs as the SDK types them (blobs as Uint8Array), failures as errors named after the AWS exception
 * with `$metadata`, `$response` and `$fault`. Endpoint and auth scheme are still decided by the SDK's
 * own configuration (env, config file, FIPS/dual-stack), once per region.
 */
import type {
  BedrockRuntimeClient,
  ConverseCommandInput,
  ConverseCommandOutput,
  ConverseStreamCommandInput,
  ConverseStreamOutput,
  ResponseStream,
} from '@aws-sdk/client-bedrock-runtime';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { Pool } from 'undici';
import { decodeEventStream, type EventStreamMessage } from './event-stream.ts';
import { SigV4Signer } from './sigv4.ts';

export interface RuntimeHttpOptions {
  credentials: AwsCredentialIdentityProvider;
  maxAttempts: number;
  /** The SDK client of a region: its resolved config names the endpoint. */
  sdkClient: (region: string) => BedrockRuntimeClient;
  /** Bedrock API key (AWS_BEARER_TOKEN_BEDROCK): sent as a bearer token instead of SigV4. */
  bearerToken?: string;
  connections?: number;
}

export interface RawInvokeInput {
  modelId: string;
  body: string;
  contentType?: string;
  accept?: string;
  serviceTier?: string;
}

interface Endpoint {
  origin: string;
  host: string;
  /** Path prefix of a configured endpoint URL, without the trailing slash. */
  basePath: string;
  pool: Pool;
}

interface Answer {
  requestId: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer> & { text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> };
}

const SIGNING_SERVICE = 'bedrock';
const RETRY_BASE_DELAY_MS = 50;
/** Failures on the wire before any answer: the request never reached Bedrock, so a retry is safe. */
const CONNECTION_FAULTS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET']);
const CONVERSE_STREAM_MEMBERS = new Set([
  'messageStart',
  'contentBlockStart',
  'contentBlockDelta',
  'contentBlockStop',
  'messageStop',
  'metadata',
]);
const SERVER_FAULTS = new Set(['InternalServerException', 'ServiceUnavailableException']);

/** Model ids and ARNs go into one path segment, encoded as the SDK does. */
function pathLabel(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function header(headers: Answer['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `ValidationException:http://internal.amazon.com/…` or `aws.protocols#ValidationException` → the name. */
function sanitizeErrorCode(raw: string): string {
  let code = raw.split(':')[0]!;
  if (code.includes('#')) code = code.split('#').pop()!;
  return code;
}

/** An error shaped like the SDK's ServiceException for a non-2xx answer. */
async function httpError(statusCode: number, answer: Answer, attempts: number): Promise<Error> {
  const text = await answer.body.text().catch(() => '');
  let data: Record<string, unknown> = {};
  try {
    const parsed = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') data = parsed as Record<string, unknown>;
  } catch {}
  const headerCode = header(answer.headers, 'x-amzn-errortype');
  const bodyCode = data.code ?? data.__type;
  const name =
    headerCode !== undefined
      ? sanitizeErrorCode(headerCode)
      : typeof bodyCode === 'string'
        ? sanitizeErrorCode(bodyCode)
        : String(statusCode);
  const message = data.message ?? data.Message;
  const err = new Error(typeof message === 'string' ? message : 'UnknownError') as Error &
    Record<string, unknown>;
  err.name = name;
  Object.assign(err, data, { name, message: err.message });
  err.$fault = statusCode >= 500 ? 'server' : 'client';
  err.$metadata = { httpStatusCode: statusCode, requestId: answer.requestId, attempts, totalRetryDelay: 0 };
  err.$response = { statusCode, headers: answer.headers, body: text };
  return err;
}

/** An exception frame inside a stream: thrown as the SDK throws modeled stream exceptions. */
function streamException(type: string, payload: Buffer): Error {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  } catch {}
  const name = type.charAt(0).toUpperCase() + type.slice(1);
  const message = typeof data.message === 'string' ? data.message : (payload.toString('utf8') ?? name);
  const err = new Error(message) as Error & Record<string, unknown>;
  Object.assign(err, data);
  err.name = name;
  err.message = message;
  err.$fault = SERVER_FAULTS.has(name) ? 'server' : 'client';
  err.$metadata = {};
  return err;
}

/** base64 → a plain Uint8Array (what the SDK returns for blobs). */
function toBytes(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const bytes = Buffer.from(value, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Blob members of a content block (JSON base64) → Uint8Array, as the SDK deserializes them. */
function decodeBlockBlobs(block: unknown): void {
  if (!block || typeof block !== 'object') return;
  for (const value of Object.values(block as Record<string, unknown>)) {
    if (!value || typeof value !== 'object') continue;
    const member = value as Record<string, unknown>;
    if ('redactedContent' in member) member.redactedContent = toBytes(member.redactedContent);
    const source = member.source as Record<string, unknown> | undefined;
    if (source && typeof source === 'object' && 'bytes' in source) source.bytes = toBytes(source.bytes);
    if (Array.isArray(member.content)) for (const inner of member.content) decodeBlockBlobs(inner);
  }
}

/** True when a Converse input carries bytes (images, documents, redacted reasoning) to base64-encode. */
function hasBinary(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return true;
  if (!value || typeof value !== 'object' || depth > 8) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasBinary(item, depth + 1)) return true;
    return false;
  }
  for (const key in value as Record<string, unknown>) {
    // JSON documents (tool inputs and results) hold no blobs.
    if (key === 'input' || key === 'json' || key === 'text') continue;
    if (hasBinary((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function base64Blobs(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/** The Converse JSON body: the input without `modelId` (it goes in the path), blobs as base64. */
export function converseBody(input: ConverseCommandInput | ConverseStreamCommandInput): string {
  const { modelId: _modelId, ...body } = input;
  const binary = hasBinary(body.messages) || hasBinary(body.system);
  return binary ? JSON.stringify(body, base64Blobs) : JSON.stringify(body);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class BedrockRuntimeHttp {
  readonly #options: RuntimeHttpOptions;
  readonly #signer: SigV4Signer;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();

  constructor(options: RuntimeHttpOptions) {
    this.#options = options;
    this.#signer = new SigV4Signer({ service: SIGNING_SERVICE, credentials: options.credentials });
  }

  #endpoint(region: string): Promise<Endpoint> {
    let endpoint = this.#endpoints.get(region);
    if (!endpoint) {
      endpoint = this.#resolveEndpoint(region);
      endpoint.catch(() => this.#endpoints.delete(region));
      this.#endpoints.set(region, endpoint);
    }
    return endpoint;
  }

  async #resolveEndpoint(region: string): Promise<Endpoint> {
    // The SDK's resolved config: an explicit endpoint, AWS_ENDPOINT_URL_BEDROCK_RUNTIME / the config
    // file's service endpoint, or the rule set for the region (FIPS, dual-stack).
    const config = this.#options.sdkClient(region).config as unknown as {
      endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
      serviceConfiguredEndpoint?: () => Promise<string | undefined>;
      ignoreConfiguredEndpointUrls?: boolean;
      useFipsEndpoint: () => Promise<boolean>;
      useDualstackEndpoint: () => Promise<boolean>;
      endpointProvider: (params: Record<string, unknown>) => { url: URL };
    };
    // Renamed: names starting with `use` read as React hooks to the linter.
    const { useFipsEndpoint: fipsEndpoint, useDualstackEndpoint: dualstackEndpoint } = config;
    let configured: string | undefined;
    if (config.endpoint) {
      const e = await config.endpoint();
      configured = `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path}`;
    } else if (!config.ignoreConfiguredEndpointUrls) {
      configured = await config.serviceConfiguredEndpoint?.();
    }
    const { url } = config.endpointProvider({
      Region: region,
      UseFIPS: await fipsEndpoint(),
      UseDualStack: await dualstackEndpoint(),
      Endpoint: configured,
    });
    const connections = this.#options.connections ?? 256;
    return {
      origin: url.origin,
      host: url.host,
      basePath: url.pathname.replace(/\/+$/, ''),
      pool: new Pool(url.origin, {
        connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        // Bedrock may think for minutes before its first byte; the SDK's handler has no timeouts either.
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
    };
  }

  async #authHeaders(
    endpoint: Endpoint,
    region: string,
    path: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<Record<string, string>> {
    if (this.#options.bearerToken !== undefined) {
      return { ...headers, host: endpoint.host, authorization: `Bearer ${this.#options.bearerToken}` };
    }
    return this.#signer.sign({ method: 'POST', host: endpoint.host, path, headers, body, region });
  }

  /** POSTs once per attempt; retries only connection faults. Resolves with a 2xx answer, else throws. */
  async #post(
    region: string,
    operationPath: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const endpoint = await this.#endpoint(region);
    const path = `${endpoint.basePath}${operationPath}`;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      // Signed per attempt: the signature carries the time.
      const signed = await this.#authHeaders(endpoint, region, path, headers, body);
      let response: Awaited<ReturnType<Pool['request']>>;
      try {
        response = await endpoint.pool.request({ method: 'POST', path, headers: signed, body, signal });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (signal?.aborted || attempt >= this.#options.maxAttempts || !code || !CONNECTION_FAULTS.has(code))
          throw err;
        await sleep(RETRY_BASE_DELAY_MS * 2 ** (attempt - 1), signal);
        continue;
      }
      const answer: Answer = {
        requestId: header(response.headers, 'x-amzn-requestid'),
        headers: response.headers,
        body: response.body,
      };
      if (response.statusCode >= 200 && response.statusCode < 300) return answer;
      throw await httpError(response.statusCode, answer, attempt);
    }
  }

  async converse(
    input: ConverseCommandInput,
    signal?: AbortSignal,
    region = '',
  ): Promise<ConverseCommandOutput> {
    const answer = await this.#post(
      region,
      `/model/${pathLabel(input.modelId!)}/converse`,
      { 'content-type': 'application/json' },
      converseBody(input),
      signal,
    );
    const output = JSON.parse(await answer.body.text()) as ConverseCommandOutput;
    const content = output.output?.message?.content;
    if (content) for (const block of content) decodeBlockBlobs(block);
    output.$metadata = { httpStatusCode: 200, requestId: answer.requestId, attempts: 1, totalRetryDelay: 0 };
    return output;
  }

  async converseStream(
    input: ConverseStreamCommandInput,
    signal?: AbortSignal,
    region = '',
  ): Promise<{ requestId: string | undefined; stream: AsyncIterable<ConverseStreamOutput> }> {
    const answer = await this.#post(
      region,
      `/model/${pathLabel(input.modelId!)}/converse-stream`,
      { 'content-type': 'application/json' },
      converseBody(input),
      signal,
    );
    return { requestId: answer.requestId, stream: converseEvents(answer.body) };
  }

  async invokeModel(input: RawInvokeInput, signal?: AbortSignal, region = ''): Promise<Uint8Array> {
    const answer = await this.#post(
      region,
      `/model/${pathLabel(input.modelId)}/invoke`,
      invokeHeaders(input, 'accept'),
      input.body,
      signal,
    );
    return new Uint8Array(await answer.body.arrayBuffer());
  }

  async invokeModelStream(
    input: RawInvokeInput,
    signal?: AbortSignal,
    region = '',
  ): Promise<{ requestId: string | undefined; stream: AsyncIterable<ResponseStream> }> {
    const answer = await this.#post(
      region,
      `/model/${pathLabel(input.modelId)}/invoke-with-response-stream`,
      invokeHeaders(input, 'x-amzn-bedrock-accept'),
      input.body,
      signal,
    );
    return { requestId: answer.requestId, stream: invokeEvents(answer.body) };
  }

  async destroy(): Promise<void> {
    const endpoints = [...this.#endpoints.values()];
    this.#endpoints.clear();
    await Promise.all(
      endpoints.map((e) =>
        e.then(
          (endpoint) => endpoint.pool.destroy(),
          () => undefined,
        ),
      ),
    );
  }
}

function invokeHeaders(input: RawInvokeInput, acceptHeader: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': input.contentType ?? 'application/json' };
  headers[acceptHeader] = input.accept ?? 'application/json';
  if (input.serviceTier !== undefined) headers['x-amzn-bedrock-service-tier'] = input.serviceTier;
  return headers;
}

/**
 * Passes an event message; `:message-type` error/exception frames are thrown. A check per message
 * rather than another generator layer, so each frame costs no extra promise round.
 */
function assertEvent(message: EventStreamMessage): void {
  const type = message.headers[':message-type'];
  if (type === 'event') return;
  if (type === 'exception')
    throw streamException(message.headers[':exception-type'] ?? 'unknownException', message.payload);
  if (type === 'error') {
    const err = new Error(message.headers[':error-message'] || 'UnknownError');
    err.name = message.headers[':error-code'] ?? 'UnknownError';
    throw err;
  }
  throw new Error(`Unrecognizable event type: ${message.headers[':event-type']}`);
}

/** One Converse stream member from an event message; undefined for members this SDK version skips. */
function converseEvent(message: EventStreamMessage): ConverseStreamOutput | undefined {
  assertEvent(message);
  const member = message.headers[':event-type'];
  // Members this SDK version does not know are skipped, as the SDK does.
  if (!member || !CONVERSE_STREAM_MEMBERS.has(member)) return undefined;
  const payload = JSON.parse(message.payload.toString('utf8')) as Record<string, unknown>;
  // Bedrock pads events with `p` so lengths do not leak content; the SDK drops it.
  delete payload.p;
  if (member === 'contentBlockDelta' || member === 'contentBlockStart') {
    decodeBlockBlobs(payload.delta);
    decodeBlockBlobs(payload.start);
  }
  return { [member]: payload } as unknown as ConverseStreamOutput;
}

function converseEvents(body: AsyncIterable<Buffer>): AsyncIterable<ConverseStreamOutput> {
  return decodeEventStream(body, converseEvent);
}

function invokeEvent(message: EventStreamMessage): ResponseStream | undefined {
  assertEvent(message);
  if (message.headers[':event-type'] !== 'chunk') return undefined;
  const payload = JSON.parse(message.payload.toString('utf8')) as { bytes?: string };
  return {
    chunk: { bytes: payload.bytes === undefined ? undefined : Buffer.from(payload.bytes, 'base64') },
  };
}

function invokeEvents(body: AsyncIterable<Buffer>): AsyncIterable<ResponseStream> {
  return decodeEventStream(body, invokeEvent);
}
