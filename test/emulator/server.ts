/**
 * A strict test double of AWS Bedrock (runtime + control plane) on one loopback port speaking
 * HTTP/1.1 and h2c, plus the bedrock-mantle host on a second port (`mantleUrl`: only its
 * `/anthropic/v1/messages`). See README.md for scripting.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  EMULATOR_ACCOUNT_ID,
  getFoundationModel,
  getInferenceProfile,
  listFoundationModels,
  listInferenceProfiles,
} from './catalogue.ts';
import { converseResponse, converseStreamEvents, converseView, responseFields } from './converse.ts';
import { countTokens } from './count-tokens.ts';
import { type AnyResponse, BedrockError, otherAccount, validationError, writeAwsError } from './errors.ts';
import { eventFrame, exceptionFrame } from './eventstream.ts';
import { type CallFaults, type FaultPlan, Faults } from './faults.ts';
import { createDualServer } from './h2c.ts';
import { invokeResponse, invokeStreamEvents, invokeView, validateInvokeBody } from './invoke.ts';
import {
  listMantleModels,
  MANTLE_MODELS_PATH,
  MESSAGES_API_PATH,
  type MessagesApiHost,
  SIGNING_SERVICE,
  sseErrorFrame,
  sseFrame,
  validateMessagesApiCall,
  writeAnthropicError,
} from './messages-api.ts';
import { findModel, resolveModelIdentifier } from './models.ts';
import { buildReply } from './reply.ts';
import { ScriptQueue, type ScriptTurn } from './script.ts';
import { checkAuth } from './sigv4.ts';
import { RoleSessions } from './sts.ts';
import { validateConverseRequest } from './validate-converse.ts';

export type Operation =
  | 'Converse'
  | 'ConverseStream'
  | 'InvokeModel'
  | 'InvokeModelWithResponseStream'
  | 'CountTokens'
  | 'ListFoundationModels'
  | 'GetFoundationModel'
  | 'ListInferenceProfiles'
  | 'GetInferenceProfile'
  | 'AssumeRole'
  /** POST /anthropic/v1/messages (Bedrock's Anthropic Messages API); `host` says which. */
  | 'MessagesApi'
  /** GET /v1/models on the mantle host (its OpenAI-compatible model list). */
  | 'ListMantleModels';

export interface RecordedRequest {
  operation: Operation;
  /** Decoded model identifier from the path (runtime calls), or the body's `model` (MessagesApi). */
  modelId?: string;
  /** Which host the call reached: the runtime port or the mantle port. */
  host: MessagesApiHost;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The body's bytes as text, as they arrived (duplicate keys and number spellings included). */
  rawBody: string;
  httpVersion: '1.1' | '2';
  /** HTTP status the emulator answered with (200 for streams that later failed in-stream). */
  status?: number;
  /** The client went away before the response finished. */
  aborted: boolean;
  /** The response was sent completely. */
  finished: boolean;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  /**
   * The AWS account its callers are in (default EMULATOR_ACCOUNT_ID): its inference-profile ARNs name it,
   * and an inference-profile ARN naming another account is refused. Two emulators with different
   * accounts stand for upstreams in two accounts.
   */
  accountId?: string;
  /** Lifetime of the credentials its STS AssumeRole issues (default one hour). */
  roleCredentialSeconds?: number;
  /** Faults in force from the start (see faults.ts); `setFaults` / `POST /__emulator/faults` change them. */
  faults?: FaultPlan;
  /** Port of the bedrock-mantle host (default: any free one). */
  mantlePort?: number;
  /**
   * How far AWS's clock is ahead of this machine's (negative: behind), as a gateway with a wrong clock
   * sees it: signatures more than five minutes off are refused, and every answer's `Date` is AWS's time.
   */
  clockOffsetMs?: number;
}

export interface Emulator {
  url: string;
  /** The bedrock-mantle host (for AWS_ENDPOINT_URL_BEDROCK_MANTLE). */
  mantleUrl: string;
  region: string;
  requests: RecordedRequest[];
  /** TCP connections accepted since start (or the last reset). */
  readonly connections: number;
  enqueue(...turns: ScriptTurn[]): void;
  /** Replaces the injected faults (an empty plan clears them); throws TypeError on a bad plan. */
  setFaults(plan: FaultPlan): void;
  /** Moves AWS's clock (see EmulatorOptions.clockOffsetMs). */
  setClockOffset(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

type Req = IncomingMessage | Http2ServerRequest;

const RUNTIME_ROUTE =
  /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)$/;
const OPERATIONS: Record<string, Operation> = {
  converse: 'Converse',
  'converse-stream': 'ConverseStream',
  invoke: 'InvokeModel',
  'invoke-with-response-stream': 'InvokeModelWithResponseStream',
  'count-tokens': 'CountTokens',
};
const DEFAULT_CHUNK_SIZE = 16;

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? 'us-east-1';
  const account = options.accountId ?? EMULATOR_ACCOUNT_ID;
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const script = new ScriptQueue();
  const cacheMemory = new Set<string>();
  const roles = new RoleSessions(options.roleCredentialSeconds);
  const faults = new Faults();
  if (options.faults) faults.set(options.faults);
  let clockOffsetMs = options.clockOffsetMs ?? 0;
  const awsNow = () => Date.now() + clockOffsetMs;

  const serve = (host: MessagesApiHost) =>
    createDualServer(
      (req, res) => {
        handle(req, res, host).catch((err: unknown) => {
          const error =
            err instanceof BedrockError ? err : new BedrockError('InternalServerException', String(err));
          if (host === 'mantle') writeAnthropicError(res, error, randomUUID());
          else writeAwsError(res, error, randomUUID());
        });
      },
      () => faults.refusing(),
    );
  const dual = serve('runtime');
  const mantle = serve('mantle');

  async function handle(req: Req, res: AnyResponse, host: MessagesApiHost): Promise<void> {
    const requestId = randomUUID();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const method = req.method ?? 'GET';
    // Every AWS answer carries AWS's time: what an SDK corrects its clock from.
    res.setHeader('date', new Date(awsNow()).toUTCString());
    const bodyBytes = await readBody(req);

    if (rawPath.startsWith('/__emulator/')) {
      controlRoute(method, rawPath, bodyBytes, res);
      return;
    }
    if (host === 'mantle' || rawPath.startsWith('/anthropic/')) {
      await messagesApiRoute(host, req, res, rawPath, rawQuery, method, bodyBytes);
      return;
    }

    const runtime = RUNTIME_ROUTE.exec(rawPath);
    const form =
      method === 'POST' && rawPath === '/' ? new URLSearchParams(bodyBytes.toString('utf8')) : undefined;
    const operation =
      form?.get('Action') === 'AssumeRole'
        ? 'AssumeRole'
        : runtime
          ? OPERATIONS[runtime[2]!]!
          : controlPlaneOperation(method, rawPath);
    const record = recordRequest(operation ?? ('Unknown' as Operation), host, req, res, rawPath, bodyBytes);
    if (runtime) record.modelId = safeDecode(runtime[1]!);
    const fail = (error: BedrockError) => {
      record.status = error.status;
      writeAwsError(res, error, requestId);
    };

    const authError = checkAuth(
      { method, rawPath, rawQuery, headers: req.headers, body: bodyBytes },
      (id) => roles.get(id),
      undefined,
      awsNow(),
    );
    if (authError) return fail(authError);
    if (!operation) {
      return fail(
        new BedrockError('UnknownOperationException', `No operation matches ${method} ${rawPath}`, 404),
      );
    }
    try {
      if (operation === 'AssumeRole') {
        const xml = roles.assumeRole(form!);
        record.status = 200;
        (res as ServerResponse).writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(xml);
      } else if (runtime) {
        if (method !== 'POST')
          throw new BedrockError('UnknownOperationException', `${method} is not supported here`, 405);
        await runtimeCall(operation, record, req, res, requestId);
      } else {
        const query = new URLSearchParams(rawQuery);
        const id = safeDecode(rawPath.split('/')[2] ?? '');
        if (!faults.has(id) && (operation === 'GetFoundationModel' || operation === 'GetInferenceProfile')) {
          throw new BedrockError('ResourceNotFoundException', `${id} is not available here.`);
        }
        const result =
          operation === 'ListFoundationModels'
            ? listFoundationModels(region, query)
            : operation === 'GetFoundationModel'
              ? getFoundationModel(region, id)
              : operation === 'ListInferenceProfiles'
                ? listInferenceProfiles(region, account, query)
                : getInferenceProfile(region, account, id);
        // An account/region with only some models (faults `models`) lists only those.
        if ('modelSummaries' in result) {
          result.modelSummaries = result.modelSummaries.filter((m) => faults.has(m.modelId));
        } else if ('inferenceProfileSummaries' in result) {
          result.inferenceProfileSummaries = result.inferenceProfileSummaries.filter((p) =>
            faults.has(p.inferenceProfileId),
          );
        }
        record.status = 200;
        writeJson(res, 200, result, requestId);
      }
    } catch (err) {
      if (err instanceof BedrockError) return fail(err);
      throw err;
    }
  }

  async function runtimeCall(
    operation: Operation,
    record: RecordedRequest,
    req: Req,
    res: AnyResponse,
    requestId: string,
  ): Promise<void> {
    if (record.body === undefined)
      throw validationError('Malformed request body: the body is not valid JSON.');
    const resolved = resolveModelIdentifier(record.modelId!, region, account);
    if (!resolved.ok) {
      if (resolved.reason === 'other-account') throw otherAccount();
      if (resolved.reason === 'on-demand' && operation !== 'CountTokens') {
        throw validationError(
          `Invocation of model ID ${record.modelId} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
        );
      }
      if (resolved.reason === 'invalid') throw validationError('The provided model identifier is invalid.');
    }
    // CountTokens takes the bare foundation id even for profile-only models.
    const model = resolved.ok ? resolved.target.model : findModel(record.modelId!);
    if (!model || !faults.has(model.modelId))
      throw validationError('The provided model identifier is invalid.');
    const body = record.body as Record<string, unknown>;
    const started = Date.now();

    if (operation === 'CountTokens') {
      record.status = 200;
      writeJson(res, 200, countTokens(body, model), requestId);
      return;
    }

    const streaming = operation === 'ConverseStream' || operation === 'InvokeModelWithResponseStream';
    const isConverse = operation === 'Converse' || operation === 'ConverseStream';
    let tier: string | undefined;
    if (isConverse) {
      validateConverseRequest(body, { model, stream: streaming });
      tier = (body.serviceTier as { type?: string } | undefined)?.type;
    } else {
      validateInvokeBody(body, model);
      tier = headerValue(req, 'x-amzn-bedrock-service-tier');
      if (tier && !model.serviceTiers.includes(tier)) {
        throw validationError(
          `The provided service tier (${tier}) is not supported for this model. Supported tiers: ${model.serviceTiers.join(', ')}.`,
        );
      }
    }
    const view = isConverse ? converseView(body, model, cacheMemory) : invokeView(body, model, cacheMemory);
    const injected: CallFaults = faults.forCall(model.modelId, streaming);
    if (injected.slowMs) await sleep(injected.slowMs);
    if (injected.throttle) throw injected.throttle;
    const scripted = script.take(model.modelId);
    const turn: ScriptTurn | undefined =
      injected.die?.how === 'exception'
        ? { ...scripted, errorAfterEvents: { events: injected.die.afterEvents, name: injected.die.name } }
        : scripted;
    if (turn?.delayMs) await sleep(turn.delayMs);
    if (turn?.error) {
      throw new BedrockError(
        turn.error.name,
        turn.error.message ?? `${turn.error.name} (scripted)`,
        turn.error.status,
        turn.error.retryAfter,
      );
    }
    const reply = buildReply(view, model, turn, isConverse ? 'converse' : 'anthropic');
    if (reply.stopReason === 'stop_sequence') {
      reply.stopSequence = turn?.stopSequence ?? firstStopSequence(body, isConverse);
    }
    const fields = isConverse ? responseFields(body, model, reply) : undefined;
    const latencyMs = Math.max(1, Date.now() - started);
    const tierHeader: Record<string, string> = tier ? { 'x-amzn-bedrock-service-tier': tier } : {};

    if (!streaming) {
      record.status = 200;
      if (isConverse) {
        writeJson(res, 200, converseResponse(reply, latencyMs, tier, fields), requestId);
      } else {
        writeJson(res, 200, invokeResponse(reply, model), requestId, {
          'x-amzn-bedrock-input-token-count': String(reply.usage.inputTokens),
          'x-amzn-bedrock-output-token-count': String(reply.usage.outputTokens),
          'x-amzn-bedrock-invocation-latency': String(latencyMs),
          'x-amzn-bedrock-cache-read-input-token-count': String(reply.usage.cacheReadInputTokens),
          'x-amzn-bedrock-cache-write-input-token-count': String(reply.usage.cacheWriteInputTokens),
          ...tierHeader,
        });
      }
      return;
    }

    const chunkSize = Math.max(1, turn?.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const frames = isConverse
      ? converseStreamEvents(reply, chunkSize, latencyMs, fields).map((e) =>
          eventFrame(e.eventType, e.payload),
        )
      : invokeStreamEvents(reply, model, chunkSize, latencyMs).map((e) =>
          eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(e)).toString('base64'), p: 'abcdefgh' }),
        );
    record.status = 200;
    (res as ServerResponse).writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': requestId,
      ...(isConverse ? {} : { 'x-amzn-bedrock-content-type': 'application/json' }),
      ...tierHeader,
    });
    await writeFrames(
      res,
      record,
      frames,
      turn,
      injected.die && injected.die.how !== 'exception'
        ? { afterEvents: injected.die.afterEvents, torn: injected.die.how === 'torn' }
        : undefined,
    );
  }

  /** Adds the call to `requests` and keeps its finished/aborted flags as the response goes. */
  function recordRequest(
    operation: RecordedRequest['operation'],
    host: MessagesApiHost,
    req: Req,
    res: AnyResponse,
    rawPath: string,
    bodyBytes: Buffer,
  ): RecordedRequest {
    const record: RecordedRequest = {
      operation,
      host,
      method: req.method ?? 'GET',
      path: rawPath,
      headers: { ...req.headers },
      body: parseJson(bodyBytes),
      rawBody: bodyBytes.toString('utf8'),
      httpVersion: req.httpVersion === '2.0' ? '2' : '1.1',
      aborted: false,
      finished: false,
    };
    requests.push(record);
    res.on('finish', () => {
      record.finished = true;
    });
    res.on('close', () => {
      if (!record.finished) record.aborted = true;
    });
    return record;
  }

  /** Bedrock's Anthropic Messages API on either host; Anthropic-shaped errors. */
  async function messagesApiRoute(
    host: MessagesApiHost,
    req: Req,
    res: AnyResponse,
    rawPath: string,
    rawQuery: string,
    method: string,
    bodyBytes: Buffer,
  ): Promise<void> {
    const requestId = randomUUID();
    const listing = host === 'mantle' && method === 'GET' && rawPath === MANTLE_MODELS_PATH;
    const record = recordRequest(
      listing ? 'ListMantleModels' : 'MessagesApi',
      host,
      req,
      res,
      rawPath,
      bodyBytes,
    );
    const fail = (error: BedrockError) => {
      record.status = error.status;
      writeAnthropicError(res, error, requestId);
    };
    const authError = checkAuth(
      { method, rawPath, rawQuery, headers: req.headers, body: bodyBytes },
      (id) => roles.get(id),
      SIGNING_SERVICE[host],
      awsNow(),
    );
    if (authError) return fail(authError);
    if (listing) {
      const list = listMantleModels();
      // An account with only some models (faults `models`) lists only those here too.
      list.data = list.data.filter((m) => faults.has(m.id));
      record.status = 200;
      writeJson(res, 200, list, requestId);
      return;
    }
    if (rawPath !== MESSAGES_API_PATH || method !== 'POST') {
      if (host === 'runtime') {
        // Observed on bedrock-runtime: an unknown /anthropic route answers 200 with this body.
        record.status = 200;
        writeJson(
          res,
          200,
          { Output: { __type: 'com.amazon.coral.service#UnknownOperationException' }, Version: '1.0' },
          requestId,
        );
        return;
      }
      return fail(new BedrockError('ResourceNotFoundException', `No route for ${method} ${rawPath}`, 404));
    }
    try {
      if (record.body === undefined) throw validationError('Request body is not valid JSON');
      const { model, invokeBody, stream } = validateMessagesApiCall(
        host,
        record.body,
        req.headers,
        region,
        account,
      );
      record.modelId = String((record.body as Record<string, unknown>).model);
      const tier = headerValue(req, 'x-amzn-bedrock-service-tier');
      if (tier && !model.serviceTiers.includes(tier)) {
        throw validationError(
          `The provided service tier (${tier}) is not supported for this model. Supported tiers: ${model.serviceTiers.join(', ')}.`,
        );
      }
      const started = Date.now();
      const view = invokeView(invokeBody, model, cacheMemory);
      const turn = script.take(model.modelId);
      if (turn?.delayMs) await sleep(turn.delayMs);
      if (turn?.error) {
        throw new BedrockError(
          turn.error.name,
          turn.error.message ?? `${turn.error.name} (scripted)`,
          turn.error.status,
          turn.error.retryAfter,
        );
      }
      const reply = buildReply(view, model, turn, 'anthropic');
      if (reply.stopReason === 'stop_sequence') {
        reply.stopSequence = turn?.stopSequence ?? firstStopSequence(invokeBody, false);
      }
      const tierHeader: Record<string, string> = tier ? { 'x-amzn-bedrock-service-tier': tier } : {};
      record.status = 200;
      if (!stream) {
        writeJson(res, 200, invokeResponse(reply, model), requestId, tierHeader);
        return;
      }
      const latencyMs = Math.max(1, Date.now() - started);
      const events = invokeStreamEvents(
        reply,
        model,
        Math.max(1, turn?.chunkSize ?? DEFAULT_CHUNK_SIZE),
        latencyMs,
      );
      // The invocation-metrics trailer is InvokeModel's; Anthropic's SSE has none.
      for (const event of events) delete event['amazon-bedrock-invocationMetrics'];
      (res as ServerResponse).writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-amzn-requestid': requestId,
        ...tierHeader,
      });
      await writeFrames(res, record, events.map(sseFrame), turn, undefined, sseErrorFrame);
    } catch (err) {
      if (err instanceof BedrockError) return fail(err);
      throw err;
    }
  }

  function controlRoute(method: string, path: string, body: Buffer, res: AnyResponse): void {
    try {
      if (method === 'POST' && path === '/__emulator/script') {
        const parsed = JSON.parse(body.toString('utf8') || '[]');
        script.enqueue(...(Array.isArray(parsed) ? parsed : [parsed]));
        writeJson(res, 200, { pending: script.pending }, randomUUID());
      } else if (method === 'POST' && path === '/__emulator/faults') {
        faults.set(JSON.parse(body.toString('utf8') || '{}'));
        writeJson(res, 200, { faults: faults.plan }, randomUUID());
        // Refusing from now: open connections go too, once this answer is out.
        if (faults.refusing()) setTimeout(() => dual.closeAll(), 50);
      } else if (method === 'GET' && path === '/__emulator/faults') {
        writeJson(res, 200, { faults: faults.plan }, randomUUID());
      } else if (method === 'GET' && path === '/__emulator/requests') {
        writeJson(res, 200, { requests, connections: dual.connectionCount() }, randomUUID());
      } else if (method === 'POST' && path === '/__emulator/reset') {
        reset();
        writeJson(res, 200, { ok: true }, randomUUID());
      } else {
        writeJson(res, 404, { message: `unknown emulator route ${method} ${path}` }, randomUUID());
      }
    } catch (err) {
      writeJson(res, 400, { message: String(err) }, randomUUID());
    }
  }

  function reset(): void {
    requests.length = 0;
    script.clear();
    faults.clear();
    cacheMemory.clear();
    dual.resetConnectionCount();
  }

  const listen = (server: typeof dual, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, host, () => resolve((server.server.address() as AddressInfo).port));
    });
  const port = await listen(dual, options.port ?? 0);
  const mantlePort = await listen(mantle, options.mantlePort ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    mantleUrl: `http://${urlHost}:${mantlePort}`,
    region,
    requests,
    get connections() {
      return dual.connectionCount();
    },
    enqueue: (...turns) => script.enqueue(...turns),
    setFaults: (plan) => {
      faults.set(plan);
      if (faults.refusing()) dual.closeAll();
    },
    setClockOffset: (ms) => {
      clockOffsetMs = ms;
    },
    reset,
    close: () =>
      Promise.all(
        [dual, mantle].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.server.close(() => resolve());
              server.closeAll();
            }),
        ),
      ).then(() => undefined),
  };
}

async function writeFrames(
  response: AnyResponse,
  record: RecordedRequest,
  frames: Uint8Array[],
  turn?: ScriptTurn,
  disconnect?: { afterEvents: number; torn: boolean },
  failure: (name: string, message: string) => Uint8Array = exceptionFrame,
): Promise<void> {
  const res = response as ServerResponse;
  const failAfter = turn?.errorAfterEvents;
  for (let i = 0; i < frames.length; i++) {
    if (record.aborted || res.destroyed) return;
    if (disconnect !== undefined && i === disconnect.afterEvents) {
      // Injected fault: the connection dies under the stream (once the events before it are out),
      // `torn`: after half of the next event's frame.
      if (disconnect.torn) res.write(frames[i]!.subarray(0, Math.ceil(frames[i]!.length / 2)));
      await sleep(30);
      res.socket?.destroy();
      return;
    }
    if (failAfter && i === failAfter.events) {
      res.write(failure(failAfter.name, failAfter.message ?? `${failAfter.name} (scripted)`));
      res.end();
      return;
    }
    if (turn?.chunkDelayMs && i > 0) await sleep(turn.chunkDelayMs);
    if (record.aborted || res.destroyed) return;
    const ok = res.write(frames[i]!);
    if (!ok)
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
  }
  if (failAfter && failAfter.events >= frames.length) {
    res.write(failure(failAfter.name, failAfter.message ?? `${failAfter.name} (scripted)`));
  }
  res.end();
}

function controlPlaneOperation(method: string, path: string): Operation | undefined {
  if (method !== 'GET') return undefined;
  if (path === '/foundation-models') return 'ListFoundationModels';
  if (/^\/foundation-models\/[^/]+$/.test(path)) return 'GetFoundationModel';
  if (path === '/inference-profiles') return 'ListInferenceProfiles';
  if (/^\/inference-profiles\/[^/]+$/.test(path)) return 'GetInferenceProfile';
  return undefined;
}

function writeJson(
  res: AnyResponse,
  status: number,
  value: unknown,
  requestId: string,
  extra: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  (res as ServerResponse).writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': requestId,
    ...extra,
  });
  res.end(body);
}

function readBody(request: Req): Promise<Buffer> {
  const req = request as IncomingMessage;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function headerValue(req: Req, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type { ScriptTurn } from './script.ts';
export { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from './sigv4.ts';

/** The first stop sequence a request named (Converse inferenceConfig or Claude's body). */
function firstStopSequence(body: Record<string, unknown>, isConverse: boolean): string | undefined {
  const list = isConverse
    ? (body.inferenceConfig as { stopSequences?: unknown } | undefined)?.stopSequences
    : body.stop_sequences;
  return Array.isArray(list) && typeof list[0] === 'string' ? list[0] : undefined;
}
