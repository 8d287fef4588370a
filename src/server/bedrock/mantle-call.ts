/**
 * The door's calls on a Claude model only bedrock-mantle serves (Claude Code's default Opus 5.5 in
 * Bedrock mode): bedrock-runtime has no such model, and mantle has no InvokeModel, so InvokeModel and
 * its stream go to mantle's Anthropic Messages API — the body shaped for the model as the `mantle` path
 * of /v1/messages shapes it, so what Claude Code writes for InvokeModel is not refused — and the answer
 * comes back in InvokeModel's shape (translate/invoke-via-messages.ts). Converse has no such bridge here (there is no Converse →
 * Messages translation): a clear ValidationException naming the operation. CountTokens on an
 * InvokeModel body is the gateway's estimate, as /v1/messages/count_tokens answers for these models.
 * Keys, limits, tiers, usage records and metrics are the door's own, set up by runtime-route.ts.
 */
import type { ServiceTierType } from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../../anthropic/errors.ts';
import type { MessagesRequest } from '../../anthropic/types.ts';
import type { ResolvedModel } from '../../models/types.ts';
import { fromInvokeResponseText } from '../../translate/invoke-stream.ts';
import {
  exceptionFrame,
  InvokeChunkStream,
  invokeAnswerText,
  invokeBodyToMessagesApi,
  invokeUsageHeaders,
} from '../../translate/invoke-via-messages.ts';
import { estimateInputTokens } from '../../translate/token-estimate.ts';
import { fromBedrockError } from '../../upstream/aws-errors.ts';
import { toBedrockFault } from '../../upstream/bedrock-faults.ts';
import type { ForwardOperation, MessagesApiResult } from '../../upstream/runtime.ts';
import type { AppDeps } from '../deps.ts';
import { responseGone, stallDeadline } from '../http/client-abort.ts';
import type { Ctx } from '../http/context.ts';
import { drained, sendJson } from '../http/respond.ts';
import { warningsHeader } from '../messages/message-call.ts';
import { messagePath } from '../messages/message-path.ts';
import { reportUsage } from '../messages/report-usage.ts';
import { jsonObjectBody } from './json-body.ts';

type Json = Record<string, unknown>;

const OPERATION_NAMES: Record<ForwardOperation, string> = {
  invoke: 'InvokeModel',
  'invoke-with-response-stream': 'InvokeModelWithResponseStream',
  converse: 'Converse',
  'converse-stream': 'ConverseStream',
  'count-tokens': 'CountTokens',
};

/**
 * Whether the door sends this call to mantle: a Claude model the catalogues say only bedrock-mantle
 * serves, unless the operator's ABPROXY_CLAUDE_PATHS names another path for it (their word wins, as on
 * /v1/messages). Throws the ValidationException for an operation mantle cannot do here.
 */
export function onMantle(
  deps: AppDeps,
  model: ResolvedModel,
  requested: string,
  operation: ForwardOperation,
): boolean {
  if (model.servedBy !== 'mantle' || messagePath(deps.config, model, requested) !== 'mantle') return false;
  if (operation === 'converse' || operation === 'converse-stream') {
    throw ApiError.invalid(
      `${OPERATION_NAMES[operation]} is not available for ${requested}: only bedrock-mantle serves this model, and this gateway calls it there only for InvokeModel and InvokeModelWithResponseStream (or POST /v1/messages)`,
    );
  }
  return true;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** CountTokens `{input: {invokeModel: {body: base64}}}` → an estimate; a Converse input is refused. */
export function countOnMantle(ctx: Ctx, requested: string, body: Buffer): void {
  const input = jsonObjectBody(body).input as
    | { invokeModel?: { body?: unknown }; converse?: unknown }
    | undefined;
  const encoded = input?.invokeModel?.body;
  if (typeof encoded !== 'string') {
    throw ApiError.invalid(
      `CountTokens for ${requested} (served only by bedrock-mantle) takes an invokeModel input`,
    );
  }
  // Buffer reads what is not base64 as nothing (or as other bytes): say what is wrong with it instead.
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw ApiError.invalid('The invokeModel body is not valid base64');
  }
  let request: MessagesRequest;
  try {
    request = jsonObjectBody(Buffer.from(encoded, 'base64')) as unknown as MessagesRequest;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    throw ApiError.invalid(err.message.replace(/request body/i, 'invokeModel body'));
  }
  if (!Array.isArray(request.messages)) throw ApiError.invalid('messages: Field required');
  let inputTokens: number;
  try {
    inputTokens = estimateInputTokens(request);
  } catch {
    throw ApiError.invalid('The invokeModel body is not a Claude Messages body');
  }
  sendJson(ctx.res, 200, { inputTokens }, { 'x-abproxy-token-count': 'estimate' });
}

export interface MantleInvoke {
  deps: AppDeps;
  ctx: Ctx;
  model: ResolvedModel;
  /** The model id as the caller wrote it (the answer's `model`). */
  requested: string;
  stream: boolean;
  body: Buffer;
  /** Request headers the door would forward (x-amzn-bedrock-*). */
  headers: Record<string, string>;
  abort: AbortController;
  /** Makes the upstream call with the tier runtime-route.ts chose (and its one fallback to none). */
  send(
    call: (serviceTier: ServiceTierType | undefined) => Promise<MessagesApiResult>,
  ): Promise<MessagesApiResult>;
}

/** Sends one InvokeModel(WithResponseStream) to mantle's Messages API and answers in InvokeModel's shape. */
export async function invokeOnMantle(call: MantleInvoke): Promise<void> {
  const { deps, ctx, model, stream, abort } = call;
  if (call.headers['x-amzn-bedrock-guardrailidentifier'] !== undefined) {
    throw ApiError.invalid(
      `Guardrails are not applied to ${call.requested}: only bedrock-mantle serves it, whose Messages API takes none`,
    );
  }
  const shaped = invokeBodyToMessagesApi(jsonObjectBody(call.body), model, {
    stream,
    features: deps.claudeFeatures,
  });
  const modelId = model.mantleId ?? model.baseModelId;
  const headers: Record<string, string> = {};
  if (shaped.warnings.length > 0) headers['x-abproxy-warnings'] = warningsHeader(shaped.warnings);
  let upstream: MessagesApiResult;
  try {
    upstream = await call.send((serviceTier) =>
      deps.upstream.messagesApi(
        {
          host: 'mantle',
          modelId,
          body: shaped.body,
          betas: shaped.betas,
          stream,
          ...(serviceTier === undefined ? {} : { serviceTier }),
        },
        abort.signal,
      ),
    );
  } catch (err) {
    if (abort.signal.aborted) return;
    throw fromBedrockError(err);
  }
  if (upstream.requestId) headers['x-abproxy-upstream-request-id'] = upstream.requestId;
  ctx.meter?.answered();
  if (stream) await pumpChunks(call, upstream, headers);
  else await sendMessage(call, upstream, headers);
}

async function sendMessage(
  call: MantleInvoke,
  upstream: MessagesApiResult,
  headers: Record<string, string>,
): Promise<void> {
  const { ctx, abort } = call;
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of upstream.stream) chunks.push(chunk);
  } catch (err) {
    if (abort.signal.aborted) return;
    throw fromBedrockError(err);
  }
  const message = fromInvokeResponseText(Buffer.concat(chunks).toString('utf8'), { model: call.requested });
  reportUsage(ctx, message.usage);
  ctx.span?.response(message);
  const text = invokeAnswerText(message as unknown as Json, call.requested);
  ctx.res.writeHead(200, {
    ...headers,
    ...invokeUsageHeaders(message.usage),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  ctx.res.end(text);
}

async function pumpChunks(
  call: MantleInvoke,
  upstream: MessagesApiResult,
  headers: Record<string, string>,
): Promise<void> {
  const { ctx, deps, abort } = call;
  const { res } = ctx;
  const chunks = new InvokeChunkStream({ model: call.requested });
  res.writeHead(200, { ...headers, 'content-type': 'application/vnd.amazon.eventstream' });
  res.flushHeaders();
  deps.stats?.streamOpened(ctx);
  const stall = stallDeadline(ctx, deps.config.clientStallTimeoutMs);
  const write = async (frames: Uint8Array[]) => {
    for (const frame of frames) {
      if (responseGone(res)) return;
      deps.stats?.firstToken(ctx);
      if (!res.write(frame)) await drained(res, abort.signal, stall);
    }
  };
  try {
    for await (const chunk of upstream.stream) {
      if (responseGone(res)) break;
      await write(chunks.push(chunk));
    }
    if (responseGone(res)) throw new Error('client disconnected');
    await write(chunks.end());
    res.end();
  } catch (err) {
    if (abort.signal.aborted || responseGone(res)) return;
    ctx.log.warn({ requestId: ctx.requestId, err, upstreamRequestId: upstream.requestId }, 'stream failed');
    ctx.streamFailed = true;
    abort.abort(new Error('stream failed'));
    // As Bedrock ends a failed stream: an exception event the SDKs raise, then the end.
    const fault = toBedrockFault(fromBedrockError(err));
    res.end(exceptionFrame(fault.name, fault.message));
  } finally {
    reportUsage(ctx, chunks.usage(), { estimated: chunks.usageIsEstimated });
    ctx.span?.response(chunks.answer());
  }
}
