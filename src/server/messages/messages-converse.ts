/** The Converse path of POST /v1/messages: every non-Claude family (and Claude when configured). */

import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest } from '../../anthropic/types.ts';
import type { ServiceTier } from '../../models/types.ts';
import { converseResponseAsStream } from '../../translate/converse-as-stream.ts';
import { ConverseStreamTranslator } from '../../translate/converse-stream.ts';
import { translateConverseResponse } from '../../translate/from-converse.ts';
import { thinkingAsked } from '../../translate/reasoning.ts';
import { toConverseRequest } from '../../translate/to-converse.ts';
import { sendJson } from '../http/respond.ts';
import { type MessageCall, newMessageId } from './message-call.ts';
import { type OpenedStream, pumpStream } from './pump-stream.ts';
import { reportUsage } from './report-usage.ts';

/** The request with the tier of this attempt (a runtime fallback retries without one). */
function withTier<T extends { serviceTier?: unknown }>(input: T, tier: ServiceTier | undefined): T {
  return { ...input, serviceTier: tier && tier !== 'default' ? { type: tier } : undefined };
}

async function* replayed(events: readonly ConverseStreamOutput[]): AsyncIterable<ConverseStreamOutput> {
  yield* events;
}

/** The Converse request for `request`, and the context its answer is read with. */
function converseShape(call: MessageCall, request: MessagesRequest) {
  const { deps, model } = call;
  const translated = toConverseRequest(request, {
    modelId: model.modelId,
    caps: model.caps,
    serviceTier: call.tier,
    signingSecret: deps.signingSecret,
  });
  const responseContext = {
    messageId: newMessageId(),
    model: request.model,
    caps: model.caps,
    toolNames: translated.toolNames,
    signingSecret: deps.signingSecret,
    stopSequences: translated.input.inferenceConfig?.stopSequences,
    omitReasoning: !thinkingAsked(request),
  };
  return { translated, responseContext };
}

/**
 * Opens the Converse stream of `request` (the call's own, or a web-tools round's); undefined when the
 * client left meanwhile. Some families take tools only without streaming (Llama 3.1+/4, Mistral Large):
 * their one Converse answer is replayed as a stream, so streaming clients with tools (Claude Code) work.
 */
export async function openConverseStream(
  call: MessageCall,
  request: MessagesRequest,
): Promise<OpenedStream<ConverseStreamOutput> | undefined> {
  const { deps, model, abort } = call;
  const { translated, responseContext } = converseShape(call, request);
  const warnings = [...translated.warnings];
  const replay = model.caps.streamingTools === false && translated.input.toolConfig !== undefined;
  const upstream = await call.send(async (tier) => {
    if (!replay) return deps.upstream.converseStream(withTier(translated.input, tier), abort.signal);
    const out = await deps.upstream.converse(withTier(translated.input, tier), abort.signal);
    const { result: events, warnings: replayWarnings } = converseResponseAsStream(out);
    warnings.push(...replayWarnings);
    return { requestId: out.$metadata?.requestId, stream: replayed(events) };
  });
  if (!upstream) return undefined;
  const translator = new ConverseStreamTranslator({
    ...responseContext,
    inputTokensEstimate: call.inputTokensEstimate,
  });
  return { upstream, translator, warnings };
}

export async function converseMessages(call: MessageCall): Promise<void> {
  const { ctx, deps, request, abort } = call;
  if (request.stream) {
    const opened = await openConverseStream(call, request);
    if (!opened) return;
    // Warnings known before the headers go out are in x-abproxy-warnings; the pump logs later ones.
    // Returned, not awaited: the Converse request (the whole translated prompt) is not kept for the stream's life.
    return pumpStream(call, opened.upstream, opened.translator, call.headers(opened.warnings));
  }
  const { translated, responseContext } = converseShape(call, request);
  const out = await call.send((tier) =>
    deps.upstream.converse(withTier(translated.input, tier), abort.signal),
  );
  if (!out) return;
  const { result: body, warnings } = translateConverseResponse(out, responseContext);
  reportUsage(ctx, body.usage);
  ctx.span?.response(body);
  call.thread?.record(body);
  sendJson(ctx.res, 200, body, call.headers([...translated.warnings, ...warnings]));
}
