/**
 * The native Claude path of POST /v1/messages: InvokeModel / InvokeModelWithResponseStream with the
 * Anthropic body itself. Stream chunks already are Anthropic events; InvokeStreamTranslator rewrites
 * the few that need it and forwards content deltas as the bytes Bedrock sent.
 */
import { applyFeatureSwitches } from '../../translate/feature-switches.ts';
import { fromInvokeResponseText, InvokeStreamTranslator } from '../../translate/invoke-stream.ts';
import { invokeContextFor, toInvokeBody } from '../../translate/to-invoke.ts';
import { sendJson } from '../http/respond.ts';
import type { MessageCall } from './message-call.ts';
import { pumpStream } from './pump-stream.ts';
import { reportUsage } from './report-usage.ts';

const utf8 = new TextDecoder();

export async function invokeMessages(call: MessageCall): Promise<void> {
  const { ctx, deps, request, model, abort } = call;
  const switched = applyFeatureSwitches(request, deps.config);
  const invoke = toInvokeBody(switched.request, invokeContextFor(model, call.betas, deps.claudeFeatures));
  const warnings = [...switched.warnings, ...invoke.warnings];
  if (invoke.droppedBetas.length > 0)
    warnings.push(`betas not sent to Bedrock: ${invoke.droppedBetas.join(', ')}`);
  const headers = call.headers(warnings);
  const input = { modelId: model.modelId, body: invoke.body, serviceTier: call.tier };

  if (!request.stream) {
    const bytes = await call.send((serviceTier) =>
      deps.upstream.invokeModel({ ...input, serviceTier }, abort.signal),
    );
    if (!bytes) return;
    const body = fromInvokeResponseText(utf8.decode(bytes), { model: request.model });
    reportUsage(ctx, body.usage);
    ctx.span?.response(body);
    call.thread?.record(body);
    sendJson(ctx.res, 200, body, headers);
    return;
  }

  const upstream = await call.send((serviceTier) =>
    deps.upstream.invokeModelStream({ ...input, serviceTier }, abort.signal),
  );
  if (!upstream) return;
  // Returned, not awaited: the InvokeModel body is not kept for the stream's life.
  return pumpStream(call, upstream, new InvokeStreamTranslator({ model: request.model }), headers);
}
