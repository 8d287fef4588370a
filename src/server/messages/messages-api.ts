/**
 * The `messages` and `mantle` Claude paths of POST /v1/messages: Bedrock's own Anthropic Messages API
 * (`/anthropic/v1/messages` on bedrock-runtime, or on the bedrock-mantle host). The body is shaped by
 * the same allow-list as InvokeModel (translate/to-messages.ts); the SSE answer goes to the client as
 * Bedrock sent it (translate/messages-api-stream.ts reads usage on the way), through the one stream
 * pump. Model ids: runtime takes the inference profile id the catalogue resolved; mantle takes bare
 * foundation ids (`anthropic.claude-…`), so the profile prefix is dropped there.
 */
import type { MessagesRequest } from '../../anthropic/types.ts';
import { applyFeatureSwitches } from '../../translate/feature-switches.ts';
import { fromInvokeResponseText } from '../../translate/invoke-stream.ts';
import { MessagesApiStreamTranslator } from '../../translate/messages-api-stream.ts';
import { invokeContextFor } from '../../translate/to-invoke.ts';
import { toMessagesApiBody } from '../../translate/to-messages.ts';
import type { MessagesApiHost } from '../../upstream/runtime.ts';
import { headerSafe, sendJson } from '../http/respond.ts';
import type { MessageCall } from './message-call.ts';
import { type OpenedStream, pumpStream } from './pump-stream.ts';
import { reportUsage } from './report-usage.ts';

const utf8 = new TextDecoder();

/** The Messages API call for `request` on `host`, and the lossy steps of shaping it. */
function messagesApiShape(call: MessageCall, request: MessagesRequest, host: MessagesApiHost) {
  const { deps, model } = call;
  const stream = request.stream === true;
  const switched = applyFeatureSwitches(request, deps.config);
  const shaped = toMessagesApiBody(switched.request, {
    ...invokeContextFor(model, call.betas, deps.claudeFeatures),
    stream,
  });
  const warnings = [...switched.warnings, ...shaped.warnings];
  if (shaped.droppedBetas.length > 0)
    warnings.push(`betas not sent to Bedrock: ${shaped.droppedBetas.join(', ')}`);
  const modelId = host === 'mantle' ? (model.mantleId ?? model.baseModelId) : model.modelId;
  const maxTokens = switched.request.max_tokens;
  const input = { host, modelId, body: shaped.body, betas: shaped.betas, stream, maxTokens };
  return { input, warnings };
}

/**
 * Opens the Messages API stream of `request` on `host` (the call's own, or a web-tools round's, which
 * always streams); undefined when the client left.
 */
export async function openMessagesApiStream(
  call: MessageCall,
  request: MessagesRequest,
  host: MessagesApiHost,
): Promise<(OpenedStream<Uint8Array> & { modelId: string }) | undefined> {
  const { input, warnings } = messagesApiShape(call, { ...request, stream: true }, host);
  const upstream = await call.send((serviceTier) =>
    call.deps.upstream.messagesApi({ ...input, serviceTier }, call.abort.signal),
  );
  if (!upstream) return undefined;
  const translator = new MessagesApiStreamTranslator({ model: request.model });
  return { upstream, translator, warnings, modelId: input.modelId };
}

/** The response headers: the id actually called (mantle drops the profile prefix). */
function calledHeaders(call: MessageCall, warnings: readonly string[], modelId: string) {
  return { ...call.headers(warnings), 'x-abproxy-model': headerSafe(call.ctx.upstream?.called ?? modelId) };
}

export async function messagesApiMessages(call: MessageCall, host: MessagesApiHost): Promise<void> {
  const { ctx, deps, request, abort } = call;
  if (request.stream) {
    const opened = await openMessagesApiStream(call, request, host);
    if (!opened) return;
    const headers = calledHeaders(call, opened.warnings, opened.modelId);
    // Returned, not awaited: the request body is not kept for the stream's life.
    return pumpStream(call, opened.upstream, opened.translator, headers);
  }
  const { input, warnings } = messagesApiShape(call, request, host);
  const upstream = await call.send((serviceTier) =>
    deps.upstream.messagesApi({ ...input, serviceTier }, abort.signal),
  );
  if (!upstream) return;
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of upstream.stream) chunks.push(chunk);
  } catch (err) {
    if (abort.signal.aborted) return;
    throw call.upstreamError(err);
  }
  const body = fromInvokeResponseText(utf8.decode(Buffer.concat(chunks)), { model: request.model });
  reportUsage(ctx, body.usage);
  ctx.span?.response(body);
  call.thread?.record(body);
  sendJson(ctx.res, 200, body, calledHeaders(call, warnings, input.modelId));
}
