/**
 * One streamed model call as Anthropic stream events, on the call's own path (native InvokeModel,
 * Bedrock's Messages API on runtime or mantle, or Converse), for loops that call the model several
 * times within one client request (the web tools loop). Opened by the single-call paths' own stream
 * openers, so a round sends what a streamed call would; the upstream failure before the first event
 * is thrown as the client's error (so a first call can still answer with a real HTTP status).
 */
import type { MessagesRequest, StreamEvent, Usage } from '../../anthropic/types.ts';
import type { RequestSpan } from '../../telemetry/tracing.ts';
import type { OutgoingEvent, StreamTranslator } from '../../translate/stream-translator.ts';
import type { MessageCall } from './message-call.ts';
import { messagePath } from './message-path.ts';
import { openMessagesApiStream } from './messages-api.ts';
import { openConverseStream } from './messages-converse.ts';
import { openInvokeStream } from './messages-invoke.ts';
import type { OpenedStream } from './pump-stream.ts';

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
  span: RequestSpan | undefined,
): AsyncGenerator<StreamEvent> {
  try {
    for (const event of translator.start()) yield parsed(event);
    for await (const upstream of stream) {
      for (const event of translator.push(upstream)) yield parsed(event);
    }
    for (const event of translator.end()) yield parsed(event);
  } finally {
    // This call's own tokens on its attempt span (the request's total is the sum of the rounds').
    span?.roundUsage(translator.usage());
  }
}

/** A round reading an opened stream through its translator. */
function roundOf<E>({ upstream, translator, warnings }: OpenedStream<E>, span?: RequestSpan): ModelRound {
  return {
    events: translate(translator, upstream.stream, span),
    usage: () => translator.usage(),
    get usageIsEstimated() {
      return translator.usageIsEstimated;
    },
    warnings,
  };
}

/**
 * Starts one streamed model call for `request`, on the path the call's model takes; undefined when
 * the client left meanwhile.
 */
export async function openModelRound(
  call: MessageCall,
  request: MessagesRequest,
): Promise<ModelRound | undefined> {
  const path = messagePath(call.deps.config, call.model, call.request.model);
  // The single call's own stream openers: a round sends exactly what a streamed call would.
  if (path === 'messages' || path === 'mantle') {
    const opened = await openMessagesApiStream(call, request, path === 'mantle' ? 'mantle' : 'runtime');
    return opened && roundOf(opened, call.ctx.span);
  }
  if (path === 'invoke') {
    const opened = await openInvokeStream(call, request);
    return opened && roundOf(opened, call.ctx.span);
  }
  const opened = await openConverseStream(call, request);
  return opened && roundOf(opened, call.ctx.span);
}
