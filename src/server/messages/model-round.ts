/**
 * One streamed model call as Anthropic stream events, on the call's own path (native InvokeModel,
 * Bedrock's Messages API on runtime or mantle, or Converse), for loops that call the model several times within one client request (the web tools loop). The same
 * translators the single-call paths use; the upstream failure before the first event is thrown as the
 * client's error (so a first call can still answer with a real HTTP status).
 */
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest, StreamEvent, Usage } from '../../anthropic/types.ts';
import type { ServiceTier } from '../../models/types.ts';
import { converseResponseAsStream } from '../../translate/converse-as-stream.ts';
import { ConverseStreamTranslator } from '../../translate/converse-stream.ts';
import { applyFeatureSwitches } from '../../translate/feature-switches.ts';
import { InvokeStreamTranslator } from '../../translate/invoke-stream.ts';
import { MessagesApiStreamTranslator } from '../../translate/messages-api-stream.ts';
import { thinkingAsked } from '../../translate/reasoning.ts';
import type { OutgoingEvent, StreamTranslator } from '../../translate/stream-translator.ts';
import { toConverseRequest } from '../../translate/to-converse.ts';
import { invokeContextFor, toInvokeBody } from '../../translate/to-invoke.ts';
import { toMessagesApiBody } from '../../translate/to-messages.ts';
import { type MessageCall, newMessageId } from './message-call.ts';
import { messagePath } from './message-path.ts';

export interface ModelRound {
  /** The call's events (message_start … message_stop), parsed. */
  events: AsyncIterable<StreamEvent>;
  /** Usage of this call so far (final once the events ended). */
  usage(): Usage;
  readonly usageIsEstimated: boolean;
  /** Lossy translation steps of this call. */
  warnings: string[];
}

function parsed(event: OutgoingEvent): StreamEvent {
  if (!('frame' in event)) return event;
  const data = event.frame
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  return JSON.parse(data) as StreamEvent;
}

async function* translate<E>(
  translator: StreamTranslator<E>,
  stream: AsyncIterable<E>,
): AsyncGenerator<StreamEvent> {
  for (const event of translator.start()) yield parsed(event);
  for await (const upstream of stream) {
    for (const event of translator.push(upstream)) yield parsed(event);
  }
  for (const event of translator.end()) yield parsed(event);
}

/** A round reading `stream` through `translator`. */
function roundOf<E>(
  translator: StreamTranslator<E>,
  stream: AsyncIterable<E>,
  warnings: string[],
): ModelRound {
  return {
    events: translate(translator, stream),
    usage: () => translator.usage(),
    get usageIsEstimated() {
      return translator.usageIsEstimated;
    },
    warnings,
  };
}

function withTier<T extends { serviceTier?: unknown }>(input: T, tier: ServiceTier | undefined): T {
  return { ...input, serviceTier: tier && tier !== 'default' ? { type: tier } : undefined };
}

async function* replayed(events: readonly ConverseStreamOutput[]): AsyncIterable<ConverseStreamOutput> {
  yield* events;
}

/** Starts one streamed model call for `request`; undefined when the client left meanwhile. */
export async function openModelRound(
  call: MessageCall,
  request: MessagesRequest,
): Promise<ModelRound | undefined> {
  const { deps, model, abort } = call;
  const path = messagePath(deps.config, model, call.request.model);
  if (path === 'messages' || path === 'mantle') {
    // Bedrock's Messages API, as the single-call path uses it (a model served only by mantle works too).
    const switched = applyFeatureSwitches(request, deps.config);
    const shaped = toMessagesApiBody(switched.request, {
      ...invokeContextFor(model, call.betas, deps.claudeFeatures),
      stream: true,
    });
    const host = path === 'mantle' ? 'mantle' : 'runtime';
    const upstream = await call.send((serviceTier) =>
      deps.upstream.messagesApi(
        {
          host,
          // mantle takes bare foundation ids (messages-api.ts).
          modelId: host === 'mantle' ? (model.mantleId ?? model.baseModelId) : model.modelId,
          body: shaped.body,
          betas: shaped.betas,
          stream: true,
          serviceTier,
        },
        abort.signal,
      ),
    );
    if (!upstream) return undefined;
    const translator = new MessagesApiStreamTranslator({ model: request.model });
    const warnings = [...switched.warnings, ...shaped.warnings];
    if (shaped.droppedBetas.length > 0)
      warnings.push(`betas not sent to Bedrock: ${shaped.droppedBetas.join(', ')}`);
    return roundOf(translator, upstream.stream, warnings);
  }
  if (path === 'invoke') {
    const switched = applyFeatureSwitches(request, deps.config);
    const invoke = toInvokeBody(switched.request, invokeContextFor(model, call.betas, deps.claudeFeatures));
    const upstream = await call.send((serviceTier) =>
      deps.upstream.invokeModelStream(
        { modelId: model.modelId, body: invoke.body, serviceTier },
        abort.signal,
      ),
    );
    if (!upstream) return undefined;
    const translator = new InvokeStreamTranslator({ model: request.model });
    return roundOf(translator, upstream.stream, [...switched.warnings, ...invoke.warnings]);
  }
  const translated = toConverseRequest(request, {
    modelId: model.modelId,
    caps: model.caps,
    serviceTier: call.tier,
    signingSecret: deps.signingSecret,
  });
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
    messageId: newMessageId(),
    model: request.model,
    caps: model.caps,
    toolNames: translated.toolNames,
    signingSecret: deps.signingSecret,
    stopSequences: translated.input.inferenceConfig?.stopSequences,
    omitReasoning: !thinkingAsked(request),
    inputTokensEstimate: call.inputTokensEstimate,
  });
  return roundOf(translator, upstream.stream, warnings);
}
