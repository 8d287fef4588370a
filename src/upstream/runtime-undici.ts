/**
 * The Bedrock runtime calls of one region over a keep-alive undici pool, without the AWS SDK's per-call
 * pipeline (middleware stack, schema serde, endpoint rules, user agent), which cost more CPU than
 * everything else in a request. The codec keeps the SDK's result and error shapes; the endpoint comes
 * from the SDK's own configuration. No retries here: `withRetries` wraps whichever transport is used.
 *
 * HTTP/1.1 carries one call per connection, and a Claude Code stream holds its connection for minutes:
 * the pool's cap is a setting, and a call that has to wait for a free connection is reported
 * (`onConnectionWait`) instead of queueing silently.
 */
import type {
  BedrockRuntimeClient,
  ConverseCommandInput,
  ConverseCommandOutput,
  ConverseStreamCommandInput,
  CountTokensCommandInput,
} from '@aws-sdk/client-bedrock-runtime';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Dispatcher } from 'undici';
import { UPSTREAM_ANSWER_TIMEOUT_MS, UPSTREAM_IDLE_TIMEOUT_MS } from '../config/settings.ts';
import { abortable } from './abortable.ts';
import { withAwsClock } from './aws-clock.ts';
import {
  checkJsonAnswer,
  converseBody,
  converseEvents,
  countTokensBody,
  decodeBlockBlobs,
  type Headers,
  header,
  httpError,
  invokeEvents,
  invokeHeaders,
  pathLabel,
} from './codec.ts';
import { DispatchedBody } from './dispatched-body.ts';
import { type Endpoint, resolveEndpoint } from './endpoint.ts';
import { malformedAnswer, malformedStream } from './event-stream.ts';
import { ConnectionTracker, WARM_CONNECTIONS } from './idle-connections.ts';
import {
  MESSAGES_API_PATH,
  MESSAGES_API_SIGNING_SERVICE,
  mantleEndpoint,
  messagesApiHeaders,
  notAnAnswer,
  oneChunk,
  withModel,
} from './messages-api.ts';
import { type ProxyEnv, proxyFor, readProxyEnv } from './proxy.ts';
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
import { SigV4Signer } from './sigv4.ts';
import { DecoratorHandler, Pool } from './undici-core.ts';

/** A call that waited for a free upstream connection, and the cap that made it wait. */
export interface ConnectionWait {
  waitedMs: number;
  maxConnections: number;
}

export interface UndiciRuntimeOptions {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** The region's SDK client, made on first use: its resolved config names the endpoint (it sends nothing). */
  sdkClient: () => Promise<BedrockRuntimeClient>;
  /** Bedrock API key (AWS_BEARER_TOKEN_BEDROCK): sent as a bearer token instead of SigV4. */
  bearerToken?: string;
  /** Most connections open to Bedrock at once; each carries one call at a time. */
  maxConnections: number;
  /** A begun answer silent this long is cut (undici's body timeout); 0: never. Default 5 min. */
  idleTimeoutMs?: number;
  /** A call whose answer has not begun (headers) within this long fails (undici's headers timeout); 0: never. */
  answerTimeoutMs?: number;
  /** Called when a call had to wait for one of the `maxConnections` to be free. */
  onConnectionWait?: (wait: ConnectionWait) => void;
  /** bedrock-mantle host URL (`AWS_ENDPOINT_URL_BEDROCK_MANTLE`); else the region's. */
  mantleEndpoint?: string;
  /** The outbound proxy variables (proxy.ts); else read from the environment when a pool is made. */
  proxyEnv?: ProxyEnv;
}

/** InvokeModel input as the SDK takes it; content type and accept default to JSON. */
export interface RawInvokeInput extends InvokeInput {
  contentType?: string;
  accept?: string;
}

interface Upstream extends Endpoint {
  dispatcher: Dispatcher;
  close(): Promise<void>;
  /** Closes idle connections beyond `keep` when the pool runs no call; returns how many. */
  closeIdle(keep: number): number;
}

interface Answer {
  requestId: string | undefined;
  status: number;
  headers: Headers;
  body: DispatchedBody;
}

const SIGNING_SERVICE = 'bedrock';

/** Shorter waits are the pool handing a request to a connection just freed, not a shortage. */
const WAIT_REPORT_MS = 10;

/** undici's DecoratorHandler forwards every callback; its type declares none of them. */
const ForwardingHandler = DecoratorHandler as unknown as new (
  handler: Dispatcher.DispatchHandler,
) => ForwardingHandlerInstance;
interface ForwardingHandlerInstance extends Dispatcher.DispatchHandler {
  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void;
}

/** Times one call from its dispatch to the moment a connection takes it. */
class WaitTimer extends ForwardingHandler {
  readonly #queuedAt = performance.now();
  readonly #report: (waitedMs: number) => void;

  constructor(handler: Dispatcher.DispatchHandler, report: (waitedMs: number) => void) {
    super(handler);
    this.#report = report;
  }

  override onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    const waitedMs = performance.now() - this.#queuedAt;
    if (waitedMs >= WAIT_REPORT_MS) this.#report(waitedMs);
    super.onRequestStart(controller, context);
  }
}

/**
 * Reports calls that wait for a connection. The pool's `dispatch` answers false once every connection
 * is busy and 'drain' when one frees up; only calls dispatched in between are timed, so a pool with
 * room pays nothing.
 */
function reportWaits(
  pool: InstanceType<typeof Pool>,
  maxConnections: number,
  onWait: (wait: ConnectionWait) => void,
): Dispatcher.DispatcherComposeInterceptor {
  let saturated = false;
  pool.on('drain', () => {
    saturated = false;
  });
  const report = (waitedMs: number) => onWait({ waitedMs, maxConnections });
  return (dispatch) => (opts, handler) => {
    const free = dispatch(opts, saturated ? new WaitTimer(handler, report) : handler);
    if (!free) saturated = true;
    return free;
  };
}

/** Response headers with one value each (a repeated header keeps its first). */
function singleValues(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name.toLowerCase()] = String(first);
  }
  return out;
}

/** A whole non-stream answer: status, headers and every byte of the body. */
interface WholeAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * The most of one whole answer the gateway holds in memory: far above any model's answer (a batch of
 * generated images is a few MB), so a broken or hostile endpoint cannot make it hold gigabytes.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** An error answer's body is read for its message; the rest is not kept. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

function answerTooLarge(): Error {
  const err = new Error(`Bedrock's answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB; not read`);
  err.name = 'UpstreamAnswerTooLarge';
  return err;
}

/**
 * A 2xx answer's JSON document. A body that is not one (a proxy's HTML page, a cut answer) is Bedrock's
 * side failing, a 502 the client may retry: not the gateway's 500.
 */
function answerJson(body: Buffer): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  throw malformedAnswer(`a body that is not a JSON document (${body.length} bytes)`);
}

/**
 * The body of a 2xx answer to a stream call, when it is an event stream. Anything else (a proxy's
 * login page, JSON) is refused here, before the client's stream starts: it gets a 502 api_error that it
 * retries, saying what came back, instead of a 200 whose stream fails at once. An answer without a
 * content type is read as an event stream.
 */
function eventStreamBody(answer: Answer): DispatchedBody {
  const type = header(answer.headers, 'content-type');
  if (type === undefined || type.toLowerCase().startsWith('application/vnd.amazon.eventstream')) {
    return answer.body;
  }
  const err = malformedStream(
    `HTTP ${answer.status} with ${/^[\w.+-]+\/[\w.+-]+/.exec(type)?.[0]?.slice(0, 64) ?? 'an unreadable content type'} instead of an event stream`,
  );
  answer.body.destroy(err);
  throw err;
}

/**
 * The caller's signal wired to a dispatched call: it aborts the call before or after a connection
 * took it, until the answer ends.
 */
abstract class SignalledHandler {
  readonly #signal: AbortSignal | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  readonly #onAbort = () => this.#controller?.abort(this.#signal?.reason);
  /** Whether undici sends its own copy of the request body (made from our string): ours to release. */
  readonly #privateBody: boolean;
  #sentBody: Buffer | undefined;

  constructor(signal: AbortSignal | undefined, privateBody: boolean) {
    this.#signal = signal;
    this.#privateBody = privateBody;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#signal?.aborted) controller.abort(this.#signal.reason);
  }

  /** undici wrote the request body: kept to be released once Bedrock has it (releaseBody). */
  onBodySent(chunk: unknown): void {
    if (this.#privateBody && chunk instanceof Buffer) this.#sentBody = chunk;
  }

  /**
   * Bedrock answered 2xx, so it has read the whole request: frees undici's copy of the body, which its
   * request object would otherwise keep until the answer ends. A Claude Code request is hundreds of kB,
   * and its stream lasts minutes: per stream that copy was most of what the gateway held (a 1 MB prompt
   * left ~0.9 MB of buffers per open stream). Detaching the copy's memory (ArrayBuffer.transfer) frees
   * it whoever still points at the Buffer; only a copy that owns its whole memory is released (a small
   * body shares Node's buffer pool), and never our own bytes (a Uint8Array body is sent as it is).
   */
  protected releaseBody(): void {
    const sent = this.#sentBody;
    this.#sentBody = undefined;
    if (sent && sent.byteOffset === 0 && sent.byteLength === sent.buffer.byteLength) {
      (sent.buffer as ArrayBuffer).transfer(0);
    }
  }

  /** The answer ended (or failed): the signal no longer concerns it. */
  protected settled(): void {
    this.#sentBody = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/**
 * Collects a non-stream answer straight from the dispatcher: no body stream, no consume step and no
 * async resource per call as undici's `request()` makes (the caller reads the whole body anyway).
 */
class CollectWhole extends SignalledHandler implements Dispatcher.DispatchHandler {
  readonly #resolve: (answer: WholeAnswer) => void;
  readonly #reject: (err: unknown) => void;
  #status = 0;
  #headers: Headers = {};
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    resolve: (answer: WholeAnswer) => void,
    reject: (err: unknown) => void,
    signal: AbortSignal | undefined,
    privateBody: boolean,
  ) {
    super(signal, privateBody);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.#status = statusCode;
    this.#headers = headers;
    if (statusCode >= 200 && statusCode < 300) this.releaseBody();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    const ok = this.#status >= 200 && this.#status < 300;
    if (this.#size > (ok ? MAX_ANSWER_BYTES : MAX_ERROR_BODY_BYTES)) {
      // An error's message is in its first bytes; a 2xx this large is refused whole.
      if (ok) controller.abort(answerTooLarge());
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.settled();
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#resolve({ status: this.#status, headers: this.#headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.settled();
    this.#reject(err);
  }
}

/**
 * A streamed answer straight from the dispatcher: on a 2xx it resolves at the headers with the body
 * as it comes (DispatchedBody, no Readable per call); any other status is read whole and rejected as
 * the SDK-shaped error.
 */
class StreamAnswer extends SignalledHandler implements Dispatcher.DispatchHandler {
  readonly #resolve: (answer: Answer) => void;
  readonly #reject: (err: unknown) => void;
  #status = 0;
  #headers: Headers = {};
  #body: DispatchedBody | undefined;
  readonly #errorChunks: Buffer[] = [];
  #errorBytes = 0;

  constructor(
    resolve: (answer: Answer) => void,
    reject: (err: unknown) => void,
    signal: AbortSignal | undefined,
    privateBody: boolean,
  ) {
    super(signal, privateBody);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.#status = statusCode;
    this.#headers = headers;
    if (statusCode >= 200 && statusCode < 300) {
      this.releaseBody();
      this.#body = new DispatchedBody(controller);
      const requestId = header(headers, 'x-amzn-requestid');
      this.#resolve({ requestId, status: statusCode, headers, body: this.#body });
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#body) {
      this.#body.push(chunk);
      return;
    }
    this.#errorBytes += chunk.length;
    if (this.#errorBytes <= MAX_ERROR_BODY_BYTES) this.#errorChunks.push(chunk);
  }

  onResponseEnd(): void {
    this.settled();
    if (this.#body) {
      this.#body.complete();
      return;
    }
    const text = Buffer.concat(this.#errorChunks).toString('utf8');
    this.#reject(httpError(this.#status, this.#headers, text, header(this.#headers, 'x-amzn-requestid')));
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.settled();
    if (this.#body) this.#body.fail(err);
    else this.#reject(err);
  }
}

export class UndiciRuntime implements BedrockRuntime {
  readonly #options: UndiciRuntimeOptions;
  readonly #signer: SigV4Signer;
  readonly #mantleSigner: SigV4Signer;
  #upstream: Promise<Upstream> | undefined;
  #mantle: Promise<Upstream> | undefined;
  /** Every pool opened (the runtime host's and the mantle host's), for closeIdle(). */
  readonly #opened = new Set<Upstream>();

  constructor(options: UndiciRuntimeOptions) {
    this.#options = options;
    this.#signer = new SigV4Signer({ service: SIGNING_SERVICE, credentials: options.credentials });
    this.#mantleSigner = new SigV4Signer({
      service: MESSAGES_API_SIGNING_SERVICE.mantle,
      credentials: options.credentials,
    });
  }

  /** The endpoint and its pool, resolved on the first call (a failed resolution is retried later). */
  #connect(): Promise<Upstream> {
    if (!this.#upstream) {
      const upstream = this.#open();
      upstream.catch(() => {
        if (this.#upstream === upstream) this.#upstream = undefined;
      });
      this.#upstream = upstream;
    }
    return this.#upstream;
  }

  async #open(): Promise<Upstream> {
    const { sdkClient, region } = this.#options;
    return this.#poolFor(await resolveEndpoint(await sdkClient(), region));
  }

  /** Resolves the endpoint and makes its pool now (no connection is opened): the first call waits less. */
  async warm(): Promise<void> {
    await this.#connect();
  }

  /** The bedrock-mantle host's own pool (opened on its first call). */
  #connectMantle(): Promise<Upstream> {
    this.#mantle ??= Promise.resolve().then(() =>
      this.#poolFor(mantleEndpoint(this.#options.mantleEndpoint, this.#options.region)),
    );
    return this.#mantle;
  }

  #poolFor(endpoint: Endpoint): Upstream {
    const { maxConnections, onConnectionWait } = this.#options;
    // HTTP/1.1 only: undici 8 offers h2 in TLS's ALPN by default, and a server that supports it (Bedrock
    // does) may pick it, carrying these calls on undici's h2 client: a path not tested here, and measured
    // at +37% CPU per call against the same server over HTTP/1.1 (h2c, bench/profile.ts). The HTTP/2
    // transport is ABPROXY_UPSTREAM_HTTP=2 (test/integration/upstream-tls.test.ts checks both).
    // Through the outbound proxy when one applies to this origin: decided here, once per pool.
    const proxy = proxyFor(this.#options.proxyEnv ?? readProxyEnv(), endpoint.origin);
    const connections = new ConnectionTracker({ allowH2: false }, proxy);
    const pool = new Pool(endpoint.origin, {
      allowH2: false,
      connect: connections.connect,
      connections: maxConnections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      // Bedrock may think for minutes before its first byte (a non-stream answer: its whole generation),
      // but an upstream that accepted the call and never answers must not hold it for ever.
      headersTimeout: this.#options.answerTimeoutMs ?? UPSTREAM_ANSWER_TIMEOUT_MS,
      // Once the answer began, silence this long is a stalled stream (UND_ERR_BODY_TIMEOUT: a timeout).
      bodyTimeout: this.#options.idleTimeoutMs ?? UPSTREAM_IDLE_TIMEOUT_MS,
    });
    const dispatcher = onConnectionWait
      ? pool.compose(reportWaits(pool, maxConnections, onConnectionWait))
      : pool;
    const upstream: Upstream = {
      ...endpoint,
      dispatcher,
      close: () => {
        this.#opened.delete(upstream);
        return pool.destroy();
      },
      closeIdle: (keep) => {
        const { running, pending, queued } = pool.stats;
        return connections.closeIdle(keep, running + pending + queued > 0);
      },
    };
    this.#opened.add(upstream);
    return upstream;
  }

  /**
   * After a burst: closes the connections it left idle but a few warm ones (idle-connections.ts), in
   * every pool that runs no call. Returns how many were closed.
   */
  closeIdle(keep = WARM_CONNECTIONS): number {
    let closed = 0;
    for (const upstream of this.#opened) closed += upstream.closeIdle(keep);
    return closed;
  }

  async #authHeaders(
    upstream: Upstream,
    path: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
    signer: SigV4Signer,
  ): Promise<Record<string, string>> {
    const { bearerToken, region } = this.#options;
    if (bearerToken !== undefined) {
      return { ...headers, host: upstream.host, authorization: `Bearer ${bearerToken}` };
    }
    return signer.sign({ method: 'POST', host: upstream.host, path, headers, body, region });
  }

  /** The connection pool, the path and the signed headers of one POST. */
  async #prepare(
    operationPath: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
    signal: AbortSignal | undefined,
    host: 'runtime' | 'mantle',
  ): Promise<{ upstream: Upstream; path: string; signed: Record<string, string> }> {
    const upstream = await (host === 'mantle' ? this.#connectMantle() : this.#connect());
    const path = `${upstream.basePath}${operationPath}`;
    signal?.throwIfAborted();
    const signing = this.#authHeaders(
      upstream,
      path,
      headers,
      body,
      host === 'mantle' ? this.#mantleSigner : this.#signer,
    );
    // Credentials may come from STS: a client gone, or the pool's first-byte timer, stops the wait.
    const signed = await (signal ? abortable(signing, signal) : signing);
    return { upstream, path, signed };
  }

  /** POSTs once; resolves with a 2xx answer, else throws the SDK-shaped error. */
  async #post(
    operationPath: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
    signal: AbortSignal | undefined,
    host: 'runtime' | 'mantle' = 'runtime',
  ): Promise<Answer> {
    return withAwsClock(async () => {
      const { upstream, path, signed } = await this.#prepare(operationPath, headers, body, signal, host);
      return new Promise<Answer>((resolve, reject) => {
        upstream.dispatcher.dispatch(
          { origin: upstream.origin, method: 'POST', path, headers: signed, body },
          new StreamAnswer(resolve, reject, signal, typeof body === 'string'),
        );
      });
    });
  }

  /** POSTs once for a whole (non-stream) answer: its body on a 2xx, else the SDK-shaped error. */
  async #postWhole(
    operationPath: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<{ requestId: string | undefined; headers: Headers; body: Buffer }> {
    return withAwsClock(async () => {
      const { upstream, path, signed } = await this.#prepare(operationPath, headers, body, signal, 'runtime');
      const answer = await new Promise<WholeAnswer>((resolve, reject) => {
        upstream.dispatcher.dispatch(
          { origin: upstream.origin, method: 'POST', path, headers: signed, body },
          new CollectWhole(resolve, reject, signal, typeof body === 'string'),
        );
      });
      const requestId = header(answer.headers, 'x-amzn-requestid');
      if (answer.status >= 200 && answer.status < 300) {
        return { requestId, headers: answer.headers, body: answer.body };
      }
      throw httpError(answer.status, answer.headers, answer.body.toString('utf8'), requestId);
    });
  }

  async converse(input: ConverseCommandInput, signal?: AbortSignal): Promise<ConverseCommandOutput> {
    const answer = await this.#postWhole(
      `/model/${pathLabel(input.modelId!)}/converse`,
      { 'content-type': 'application/json' },
      converseBody(input),
      signal,
    );
    const output = answerJson(answer.body) as ConverseCommandOutput;
    const content = output.output?.message?.content;
    if (content) for (const block of content) decodeBlockBlobs(block);
    output.$metadata = { httpStatusCode: 200, requestId: answer.requestId, attempts: 1, totalRetryDelay: 0 };
    return output;
  }

  async converseStream(
    input: ConverseStreamCommandInput,
    signal?: AbortSignal,
  ): Promise<ConverseStreamResult> {
    const answer = await this.#post(
      `/model/${pathLabel(input.modelId!)}/converse-stream`,
      { 'content-type': 'application/json' },
      converseBody(input),
      signal,
    );
    return { requestId: answer.requestId, stream: converseEvents(eventStreamBody(answer)) };
  }

  async invokeModel(input: RawInvokeInput, signal?: AbortSignal): Promise<Uint8Array> {
    const answer = await this.#postWhole(
      `/model/${pathLabel(input.modelId)}/invoke`,
      invokeHeaders(input, 'accept'),
      input.body,
      signal,
    );
    checkJsonAnswer(answer.body, header(answer.headers, 'content-type'));
    return new Uint8Array(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
  }

  async invokeModelStream(input: RawInvokeInput, signal?: AbortSignal): Promise<InvokeStreamResult> {
    const answer = await this.#post(
      `/model/${pathLabel(input.modelId)}/invoke-with-response-stream`,
      invokeHeaders(input, 'x-amzn-bedrock-accept'),
      input.body,
      signal,
    );
    return { requestId: answer.requestId, stream: invokeEvents(eventStreamBody(answer)) };
  }

  async countTokens(input: CountTokensCommandInput, signal?: AbortSignal): Promise<number> {
    const answer = await this.#postWhole(
      `/model/${pathLabel(input.modelId!)}/count-tokens`,
      { 'content-type': 'application/json' },
      countTokensBody(input),
      signal,
    );
    const output = answerJson(answer.body) as { inputTokens?: number };
    return output.inputTokens ?? 0;
  }

  async forward(input: ForwardInput, signal?: AbortSignal): Promise<ForwardResult> {
    const answer = await this.#post(
      `/model/${pathLabel(input.modelId)}/${input.operation}`,
      input.headers,
      input.body,
      signal,
    );
    return {
      requestId: answer.requestId,
      status: answer.status,
      headers: singleValues(answer.headers),
      stream: answer.body,
    };
  }

  // ---- Bedrock's Anthropic Messages API ----

  async messagesApi(input: MessagesApiInput, signal?: AbortSignal): Promise<MessagesApiResult> {
    const answer = await this.#post(
      MESSAGES_API_PATH,
      messagesApiHeaders(input),
      withModel(input.body, input.modelId),
      signal,
      input.host,
    );
    // A non-stream answer (or a stream that is not SSE) is one document: read here, so a 200 that is
    // not an answer fails here.
    const sse = input.stream && (header(answer.headers, 'content-type') ?? '').includes('text/event-stream');
    const text = sse ? undefined : await answer.body.text(MAX_ANSWER_BYTES, answerTooLarge);
    const wrong = notAnAnswer(input.stream, 200, answer.headers, text, answer.requestId);
    if (wrong) throw wrong;
    return { requestId: answer.requestId, stream: text === undefined ? answer.body : oneChunk(text) };
  }

  async destroy(): Promise<void> {
    const upstreams = [this.#upstream, this.#mantle];
    this.#upstream = undefined;
    this.#mantle = undefined;
    for (const upstream of upstreams) {
      await upstream?.then(
        (u) => u.close(),
        () => undefined,
      );
    }
  }
}
