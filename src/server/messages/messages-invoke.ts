/**
 * The native Claude path of POST /v1/messages: InvokeModel / InvokeModelWithResponseStream with the
 * Anthropic body itself. Stream chunks already are Anthropic events; InvokeStreamTranslator rewrites
 * the few that need it and forwards content deltas as the bytes Bedrock sent.
 */
import type { ResponseStream } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest } from '../../anthropic/types.ts';
import { applyFeatureSwitches } from '../../translate/feature-switches.ts';
import { fromInvokeResponseText, InvokeStreamTranslator } from '../../translate/invoke-stream.ts';
import { invokeContextFor, toInvokeBody } from '../../translate/to-invoke.ts';
import { sendJson } from '../http/respond.ts';
import type { MessageCall } from './message-call.ts';
import { type OpenedStream, pumpStream } from './pump-stream.ts';
import { reportUsage } from './report-usage.ts';

const utf8 = new TextDecoder();

/** The InvokeModel body for `request`, and the lossy steps of shaping it. */
function invokeShape(call: MessageCall, request: MessagesRequest) {
  const { deps, model } = call;
  const switched = applyFeatureSwitches(request, deps.config);
  const invoke = toInvokeBody(switched.request, invokeContextFor(model, call.betas, deps.claudeFeatures));
  const warnings = [...switched.warnings, ...invoke.warnings];
  if (invoke.droppedBetas.length > 0)
    warnings.push(`betas not sent to Bedrock: ${invoke.droppedBetas.join(', ')}`);
  // max_tokens bounds how long a pool waits on a silent upstream for a non-stream answer.
  const maxTokens = switched.request.max_tokens;
  const input = { modelId: model.modelId, body: invoke.body, serviceTier: call.tier, maxTokens };
  return { input, warnings };
}

/** Opens the InvokeModel stream of `request` (the call's own, or a web-tools round's); undefined when the client left. */
export async function openInvokeStream(
  call: MessageCall,
  request: MessagesRequest,
): Promise<OpenedStream<ResponseStream> | undefined> {
  const { input, warnings } = invokeShape(call, request);
  const upstream = await call.send((serviceTier) =>
    call.deps.upstream.invokeModelStream({ ...input, serviceTier }, call.abort.signal),
  );
  if (!upstream) return undefined;
  return { upstream, translator: new InvokeStreamTranslator({ model: request.model }), warnings };
}

export async function invokeMessages(call: MessageCall): Promise<void> {
  const { ctx, deps, request, abort } = call;
  if (request.stream) {
    const opened = await openInvokeStream(call, request);
    if (!opened) return;
    // Returned, not awaited: the InvokeModel body is not kept for the stream's life.
    return pumpStream(call, opened.upstream, opened.translator, call.headers(opened.warnings));
  }
  const { input, warnings } = invokeShape(call, request);
  const bytes = await call.send((serviceTier) =>
    deps.upstream.invokeModel({ ...input, serviceTier }, abort.signal),
  );
  if (!bytes) return;
  const body = fromInvokeResponseText(utf8.decode(bytes), { model: request.model });
  reportUsage(ctx, body.usage);
  ctx.span?.response(body);
  call.thread?.record(body);
  sendJson(ctx.res, 200, body, call.headers(warnings));
}
