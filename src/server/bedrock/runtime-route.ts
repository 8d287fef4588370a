/**
 * POST /model/{modelId}/{operation} on the Bedrock-format door: the caller's body goes to Bedrock as
 * it is (the one change: the key's service tier when the caller named none), re-signed with the
 * gateway's credentials through the same upstream (pool, failover, retries) the Messages API uses, and
 * Bedrock's answer — JSON or eventstream frames — goes back byte for byte, a stream whole frame by whole
 * frame (watched for the usage Bedrock reports, and ended with an exception frame if it fails midway). Keys, model globs, limits, budgets, usage records and metrics are the
 * same middlewares and meter as /v1/messages.
 */
import type { ServiceTierType } from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../../anthropic/errors.ts';
import { SERVICE_TIERS, type ServiceTier } from '../../models/types.ts';
import { CONVERSE_STREAM_EXCEPTIONS, exceptionFrame } from '../../translate/invoke-via-messages.ts';
import { fromBedrockError } from '../../upstream/aws-errors.ts';
import { toBedrockFault } from '../../upstream/bedrock-faults.ts';
import type { ForwardOperation, ForwardResult } from '../../upstream/runtime.ts';
import type { AppDeps } from '../deps.ts';
import { readBody } from '../http/body.ts';
import { clientAbort, responseGone, stallDeadline } from '../http/client-abort.ts';
import type { Ctx, Handler, Middleware } from '../http/context.ts';
import { hasMoreJsonValues, MAX_JSON_VALUES } from '../http/json-values.ts';
import { drained } from '../http/respond.ts';
import { chooseServiceTier } from '../messages/feature-flags.ts';
import { reportUsage } from '../messages/report-usage.ts';
import { resolveForRequest } from '../messages/resolve.ts';
import { setTierHeaders, type TierState, tierWithinKey, withTierFallback } from '../messages/service-tier.ts';
import { callerOf } from '../middleware/accounting.ts';
import { jsonObjectBody } from './json-body.ts';
import { countOnMantle, invokeOnMantle, onMantle } from './mantle-call.ts';
import { decodeModelId, isStreamOperation, runtimeCall } from './paths.ts';
import { endOfAnswer, StreamUsage, usageOfAnswer } from './usage.ts';
import { WholeFrames } from './whole-frames.ts';

/** Request headers passed on to Bedrock; everything else (auth, hop-by-hop, client noise) is not. */
function forwardedHeaders(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (typeof value !== 'string') continue;
    if (name === 'content-type' || name === 'accept' || name.startsWith('x-amzn-bedrock-')) out[name] = value;
  }
  out['content-type'] ??= 'application/json';
  return out;
}

/** Response headers passed back: Bedrock's own metadata (token counts, latency, tier), never hop-by-hop. */
function returnedHeaders(answer: ForwardResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name === 'content-type' || name.startsWith('x-amzn-bedrock-')) out[name] = value;
  }
  if (answer.requestId) out['x-abproxy-upstream-request-id'] = answer.requestId;
  return out;
}

/** Content types a web page may POST without a CORS preflight: never a Bedrock call. */
function isSimpleFormType(value: string | undefined): boolean {
  const type = (value ?? '').split(';')[0]!.trim().toLowerCase();
  return (
    type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data' || type === 'text/plain'
  );
}

const isTier = (value: unknown): value is ServiceTier =>
  typeof value === 'string' && (SERVICE_TIERS as readonly string[]).includes(value);

interface Prepared {
  /** The tier the caller asked for itself (header or body), which is theirs to keep within the key's. */
  callerTier: string | undefined;
  /** The body for a given tier of ours (undefined: none); `keepCaller` off drops a tier the caller named. */
  bodyFor(tier: ServiceTier | undefined, keepCaller: boolean): Uint8Array;
  headersFor(tier: ServiceTier | undefined, keepCaller: boolean): Record<string, string>;
  /** The answer's max_tokens when the body says it: how long a pool waits on a silent upstream. */
  maxTokens?: number;
}

const TIER_HEADER = 'x-amzn-bedrock-service-tier';

const USER_ID_KEY = Buffer.from('"user_id"');
const MAX_TOKENS_KEY = Buffer.from('"max_tokens"');

const positive = (value: unknown) => (typeof value === 'number' && value > 0 ? value : undefined);

/**
 * `max_tokens` of an Anthropic body sent to InvokeModel (not a stream: a stream's first byte needs no
 * such bound), parsed only when it is there and the parse cheap, as for anthropicUserId.
 */
function anthropicMaxTokens(body: Buffer): number | undefined {
  if (!body.includes(MAX_TOKENS_KEY) || hasMoreJsonValues(body, MAX_JSON_VALUES)) return undefined;
  try {
    return positive((JSON.parse(body.toString('utf8')) as { max_tokens?: unknown }).max_tokens);
  } catch {
    return undefined;
  }
}

/**
 * `metadata.user_id` of an Anthropic body sent to InvokeModel, for the usage record as /v1/messages
 * keeps it. The body goes on as it came, unparsed: it is parsed here only when it names a user_id.
 */
function anthropicUserId(body: Buffer): string | undefined {
  // Not worth a parse that would stall the event loop (the body goes on unparsed either way).
  if (!body.includes(USER_ID_KEY) || hasMoreJsonValues(body, MAX_JSON_VALUES)) return undefined;
  try {
    const userId = (JSON.parse(body.toString('utf8')) as { metadata?: { user_id?: unknown } }).metadata
      ?.user_id;
    return typeof userId === 'string' ? userId : undefined;
  } catch {
    return undefined;
  }
}

/** Where each operation carries its service tier: Converse in the body, InvokeModel in a header. */
function prepare(operation: ForwardOperation, body: Buffer, headers: Record<string, string>): Prepared {
  if (operation === 'converse' || operation === 'converse-stream') {
    const json = jsonObjectBody(body);
    const { [TIER_HEADER]: _header, ...withoutTierHeader } = headers;
    const tier = json.serviceTier as { type?: unknown } | undefined;
    const maxTokens = positive((json.inferenceConfig as { maxTokens?: unknown } | undefined)?.maxTokens);
    return {
      ...(maxTokens === undefined ? {} : { maxTokens }),
      callerTier: typeof tier?.type === 'string' ? tier.type : tier === undefined ? undefined : 'invalid',
      bodyFor: (ours, keepCaller) => {
        if (ours !== undefined) return Buffer.from(JSON.stringify({ ...json, serviceTier: { type: ours } }));
        if (tier === undefined) return body;
        // What was checked is what Bedrock gets: re-serialised, so that a duplicate `serviceTier` key
        // (JSON.parse keeps the last one; another parser may take the first) cannot carry a dearer tier.
        if (keepCaller) return Buffer.from(JSON.stringify(json));
        const { serviceTier: _dropped, ...rest } = json;
        return Buffer.from(JSON.stringify(rest));
      },
      // Converse's tier is the body's, checked above: a tier header beside it is not sent on.
      headersFor: () => withoutTierHeader,
    };
  }
  if (operation === 'count-tokens') jsonObjectBody(body);
  const callerTier = headers[TIER_HEADER];
  const maxTokens = operation === 'invoke' ? anthropicMaxTokens(body) : undefined;
  return {
    ...(maxTokens === undefined ? {} : { maxTokens }),
    callerTier: operation === 'count-tokens' ? 'none' : callerTier,
    bodyFor: () => body,
    headersFor: (ours, keepCaller) => {
      if (ours !== undefined) return { ...headers, [TIER_HEADER]: ours };
      if (keepCaller || callerTier === undefined) return headers;
      const { [TIER_HEADER]: _dropped, ...rest } = headers;
      return rest;
    },
  };
}

/**
 * The caller's own tier when it stands: with a key, only within the key's tier (`capped` off: the master
 * key or an open gateway, whose caller is the operator). 'none' (count-tokens) and 'invalid' (a
 * malformed Converse `serviceTier`, for Bedrock to refuse) stand as they are.
 */
function callerTierKept(
  callerTier: string | undefined,
  keyTier: ServiceTier,
  capped: boolean,
): string | undefined {
  if (callerTier === undefined || !capped || callerTier === 'none' || callerTier === 'invalid')
    return callerTier;
  return tierWithinKey(callerTier, keyTier) ? callerTier : undefined;
}

/** The ValidationException for a path's model id; an empty one in Bedrock's own words. */
function modelIdRefusal(encoded: string, reason: string): string {
  if (encoded === '') {
    return "1 validation error detected: Value '' at 'modelId' failed to satisfy constraint: Member must have length greater than or equal to 1";
  }
  return `The model id in the path ${reason}`;
}

/** Sends POST /model/… to the door's handler; everything else goes on to the router. */
export function bedrockRuntimeRoute(handler: Handler): Middleware {
  return function bedrockRuntimeRouteMiddleware(ctx, next) {
    if (ctx.req.method === 'POST' && ctx.url.pathname.startsWith('/model/')) return handler(ctx);
    return next();
  };
}

export function bedrockRuntimeHandler(deps: AppDeps): Handler {
  return async function bedrockRuntime(ctx) {
    const call = runtimeCall(ctx.url.pathname);
    if (!call?.operation) {
      throw new ApiError(
        'not_found_error',
        `Unknown operation '${(call?.operationName ?? '').slice(0, 64)}': this door serves /model/{modelId}/invoke, invoke-with-response-stream, converse, converse-stream and count-tokens`,
      );
    }
    const { operation } = call;
    const id = decodeModelId(call.encodedModelId);
    if (!id.ok) throw ApiError.invalid(modelIdRefusal(call.encodedModelId, id.reason));
    if (isSimpleFormType(ctx.req.headers['content-type'])) {
      throw new ApiError('unsupported_media_type', "Send the body as 'content-type: application/json'");
    }
    const stream = isStreamOperation(operation);
    const abort = clientAbort(ctx);
    const body = await readBody(
      ctx.req,
      deps.config.maxBodyBytes,
      deps.bodyBudget?.holdFor(ctx.res, callerOf(ctx).keyId),
    );
    ctx.model = id.modelId;
    ctx.stream = stream;
    const model = await resolveForRequest(deps, id.modelId, ctx.key);
    ctx.span?.model(id.modelId, model);
    // A Claude model only bedrock-mantle serves: InvokeModel goes to its Messages API (mantle-call.ts).
    const mantle = onMantle(deps, model, id.modelId, operation);
    if (mantle && operation === 'count-tokens') return countOnMantle(ctx, id.modelId, body);
    const prepared = prepare(operation, body, forwardedHeaders(ctx));

    // The key's tier applies when the caller names none, or names one above the key's (as /v1/messages
    // never takes a caller's tier); a tier the caller named within the key's is theirs.
    const keyTier = ctx.key?.serviceTier ?? deps.config.defaultServiceTier;
    const callerTier = callerTierKept(prepared.callerTier, keyTier, ctx.key !== undefined);
    const keepCaller = callerTier !== undefined;
    const chosen = callerTier === undefined ? chooseServiceTier(keyTier, model.caps) : { tier: undefined };
    const tierState: TierState = { wanted: keyTier, tier: chosen.tier };
    if (callerTier === undefined) setTierHeaders(ctx.res, tierState);
    const usedTier = (): ServiceTier =>
      callerTier !== undefined
        ? isTier(callerTier)
          ? callerTier
          : 'default'
        : (tierState.tier ?? 'default');

    if (operation !== 'count-tokens') {
      // Bytes/4 over-counts JSON a little: an admission estimate, settled with Bedrock's counts.
      const inputTokensEstimate = Math.ceil(body.length / 4);
      // The id actually called: mantle's bare id for a model only mantle serves (as /v1/messages records).
      const resolvedModel = mantle ? (model.mantleId ?? model.baseModelId) : model.modelId;
      // A body without a max_tokens Bedrock reads (Converse's maxTokens, Claude's max_tokens) may run to the model's cap.
      const maxTokens = Math.min(prepared.maxTokens ?? Number.POSITIVE_INFINITY, model.caps.maxOutputTokens);
      ctx.meter?.holdBudget(model.baseModelId, inputTokensEstimate, maxTokens);
      await ctx.meter?.admitTokens(inputTokensEstimate);
      ctx.meter?.begin({
        model: id.modelId,
        resolvedModel,
        pricedModel: model.baseModelId,
        metricsLabel: model.metricsLabel,
        tier: usedTier,
        stream,
        door: 'bedrock',
        userId: operation.startsWith('invoke') ? anthropicUserId(body) : undefined,
        inputTokensEstimate,
      });
    }
    if (mantle) {
      return invokeOnMantle({
        deps,
        ctx,
        model,
        requested: id.modelId,
        stream,
        body,
        headers: forwardedHeaders(ctx),
        abort,
        send: (call) =>
          withTierFallback(tierState, ctx.res, (tier) =>
            call(prepared.headersFor(tier, keepCaller)[TIER_HEADER] as ServiceTierType | undefined),
          ),
      });
    }
    let answer: ForwardResult;
    try {
      answer = await withTierFallback(tierState, ctx.res, (tier) =>
        deps.upstream.forward(
          {
            operation,
            modelId: model.modelId,
            body: prepared.bodyFor(tier, keepCaller),
            headers: prepared.headersFor(tier, keepCaller),
            ...(prepared.maxTokens === undefined ? {} : { maxTokens: prepared.maxTokens }),
          },
          abort.signal,
        ),
      );
    } catch (err) {
      if (abort.signal.aborted) return; // the client is gone
      // Through the one fault table, so usage records and metrics get the status the client gets; the
      // Bedrock name stays on the cause (toBedrockFault reads it).
      throw fromBedrockError(err);
    }
    ctx.meter?.answered();
    // The admission estimate's rule (bytes/4), for a stream cut before Bedrock reported its input.
    if (stream) await pumpFrames(ctx, deps, operation, answer, abort, Math.ceil(body.length / 4));
    else await sendWhole(ctx, operation, answer);
  };
}

async function sendWhole(ctx: Ctx, operation: ForwardOperation, answer: ForwardResult): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer.stream) chunks.push(Buffer.from(chunk));
  const bytes = Buffer.concat(chunks);
  if (operation !== 'count-tokens') {
    const usage = usageOfAnswer(operation, bytes, answer.headers);
    if (usage) reportUsage(ctx, usage);
    ctx.span?.response(endOfAnswer(operation, bytes));
  }
  ctx.res.writeHead(answer.status, { ...returnedHeaders(answer), 'content-length': bytes.length });
  ctx.res.end(bytes);
}

/**
 * Bedrock's eventstream to the client as it comes, whole frames only, with backpressure; the frames are
 * watched for usage. A failure once frames went out (the connection to Bedrock dropped, the answer cut
 * inside a frame or corrupt, the idle timeout) ends the stream as Bedrock ends a failed one: an
 * exception frame the SDKs raise as the modeled exception (mapped through the fault table, message
 * scrubbed), then the end — never a cut socket or a torn frame.
 */
async function pumpFrames(
  ctx: Ctx,
  deps: AppDeps,
  operation: ForwardOperation,
  answer: ForwardResult,
  abort: AbortController,
  inputEstimate: number,
): Promise<void> {
  const { res } = ctx;
  const usage = new StreamUsage();
  const frames = new WholeFrames((frame) => usage.push(frame));
  const stall = stallDeadline(ctx, deps.config.clientStallTimeoutMs);
  res.writeHead(answer.status, returnedHeaders(answer));
  res.flushHeaders();
  deps.stats?.streamOpened(ctx);
  try {
    for await (const chunk of answer.stream) {
      if (responseGone(res)) break;
      const whole = frames.push(chunk);
      if (whole === undefined) continue;
      deps.stats?.firstToken(ctx);
      if (!res.write(whole)) await drained(res, abort.signal, stall);
    }
    if (responseGone(res)) throw new Error('client disconnected');
    frames.end();
    res.end();
  } catch (err) {
    if (!abort.signal.aborted && !responseGone(res)) {
      ctx.log.warn({ requestId: ctx.requestId, err, upstreamRequestId: answer.requestId }, 'stream failed');
      ctx.streamFailed = true;
      abort.abort(new Error('stream failed'));
      const fault = toBedrockFault(fromBedrockError(err));
      const members = operation === 'converse-stream' ? CONVERSE_STREAM_EXCEPTIONS : undefined;
      res.end(exceptionFrame(fault.name, fault.message, members));
    }
  } finally {
    // Bedrock failed the stream itself (its exception frame went to the client as it came): recorded as
    // an interrupted stream, as the gateway's own exception frame above is.
    if (usage.failed) ctx.streamFailed = true;
    const billed = usage.billed(inputEstimate);
    reportUsage(ctx, billed.usage, { estimated: billed.estimated });
    ctx.span?.response(usage.end);
  }
}
