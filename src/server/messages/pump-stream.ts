/**
 * The one stream loop of POST /v1/messages, for both paths: upstream events through a translator to
 * the client as SSE. A ping right after message_start, first-token stats, the client leaving (stops
 * reading, the Bedrock call is aborted by the SSE writer), a failure after the headers as an in-stream
 * `event: error`, and the usage the translator counted reported in every case; the translator's
 * warnings, found after the headers went out, are logged at debug level.
 *
 * Per event it does only synchronous work: the upstream's events arrive pushed, a body chunk at a time
 * (EventFeed), go through the translator and join the SSE writer's batch, which leaves in one write
 * per turn (the first with the headers, the last with the end). A promise is made only when the
 * client falls behind (Bedrock's body is paused until it drains).
 */
import { formatSseEvent } from '../../anthropic/sse.ts';
import type { OutgoingEvent, StreamTranslator } from '../../translate/stream-translator.ts';
import { isEventFeed } from '../../upstream/event-stream.ts';
import { stallDeadline } from '../http/client-abort.ts';
import { PING_FRAME, SseWriter } from '../http/sse.ts';
import type { MessageCall } from './message-call.ts';
import { reportUsage } from './report-usage.ts';
import { recordStreamedReply } from './threads.ts';

export interface UpstreamStream<E> {
  /** Upstream request id, for logs. */
  requestId: string | undefined;
  stream: AsyncIterable<E>;
}

/**
 * A path's stream once Bedrock answered: its events, the translator that reads them, and the lossy
 * steps known before the first event. The single call pumps it to the client; a web-tools round reads it.
 */
export interface OpenedStream<E> {
  upstream: UpstreamStream<E>;
  translator: StreamTranslator<E>;
  warnings: string[];
}

/** After one event: go on, stop reading (the client left), or wait for this before the next. */
type Next = 'more' | 'stop' | Promise<void>;

/**
 * Calls `each` for every upstream event, in order, until the stream ends, `each` says stop or throws.
 * A transport that can push (EventFeed: the undici one) hands over each body chunk's events in one
 * synchronous call: no promise per event, and the events of one chunk are written in one turn.
 * Anything else (the SDK transport, a replayed answer) is iterated.
 */
function forEachEvent<E>(stream: AsyncIterable<E>, each: (event: E) => Next): Promise<void> {
  if (!isEventFeed(stream)) return iterateEvents(stream, each);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err === undefined) resolve();
      else reject(err);
    };
    const control = stream.listen({
      events(batch) {
        if (settled) return;
        for (const event of batch) {
          let next: Next;
          try {
            next = each(event);
          } catch (err) {
            control.cancel();
            finish(err);
            return;
          }
          if (next === 'more') continue;
          if (next === 'stop') {
            control.cancel();
            finish();
            return;
          }
          // The client is slow: stop reading Bedrock's body until it caught up. The rest of this
          // batch is written meanwhile (already read, and bounded by one chunk).
          control.pause();
          next.then(() => {
            if (!settled) control.resume();
          });
        }
      },
      end: () => finish(),
      error: finish,
    });
  });
}

async function iterateEvents<E>(stream: AsyncIterable<E>, each: (event: E) => Next): Promise<void> {
  for await (const event of stream) {
    const next = each(event);
    if (next === 'stop') break;
    if (next !== 'more') await next;
  }
}

/**
 * What the pump keeps of the call for the stream's whole life. Not the call itself: it holds the request,
 * and a Claude Code prompt (hundreds of kB of text) would stay in memory as long as its answer streams.
 */
type PumpedCall = Pick<MessageCall, 'ctx' | 'deps' | 'abort' | 'thread' | 'upstreamError'>;

export function pumpStream<E>(
  call: MessageCall,
  upstream: UpstreamStream<E>,
  translator: StreamTranslator<E>,
  headers: Record<string, string>,
): Promise<void> {
  const { ctx, deps, abort, thread, upstreamError } = call;
  return pump({ ctx, deps, abort, thread, upstreamError }, upstream, translator, headers);
}

async function pump<E>(
  call: PumpedCall,
  upstream: UpstreamStream<E>,
  translator: StreamTranslator<E>,
  headers: Record<string, string>,
): Promise<void> {
  const { ctx, deps, abort } = call;
  const span = ctx.span;
  const sse = new SseWriter(ctx.res, {
    pingIntervalMs: deps.config.pingIntervalMs,
    abort,
    stall: stallDeadline(ctx, deps.config.clientStallTimeoutMs),
  });
  // A thread holds the reply: the events sent are kept to fold it (threads.ts). Only thread requests pay.
  const sent: OutgoingEvent[] | undefined = call.thread ? [] : undefined;
  // Synchronous: the frames join the writer's batch for this turn (one write per upstream read, the
  // first with the headers). Answers false when the client is not keeping up.
  const write = (events: readonly OutgoingEvent[]): boolean => {
    if (sent) sent.push(...events);
    for (const event of events) {
      sse.write('frame' in event ? event.frame : formatSseEvent(event));
      if (span) span.streamEvent(event);
      if (event.type === 'message_start') sse.write(PING_FRAME);
      else if (event.type === 'content_block_start' || event.type === 'content_block_delta')
        deps.stats?.firstToken(ctx);
    }
    return sse.writable;
  };
  // The headers go out with the first event the translator makes of Bedrock's (and message_start and its
  // ping), not before: a stream that fails before any (Bedrock's in-stream throttlingException, say) is still answered
  // as an HTTP error, with the status and retry-after that clients act on, not a 200 and an error event.
  // Should the first event be slow, they go out after a ping interval anyway: from then on pings keep
  // the connection (and any proxy between) from reading as idle.
  let opened = false;
  const opening = translator.start();
  const open = () => {
    opened = true;
    clearTimeout(openLate);
    sse.open(headers);
    deps.stats?.streamOpened(ctx);
    span?.streamOpened();
    write(opening);
  };
  const openLate = setTimeout(() => {
    if (!opened && !sse.closed) open();
  }, deps.config.pingIntervalMs);
  let failure: unknown;
  try {
    await forEachEvent(upstream.stream, (event) => {
      if (sse.closed) return 'stop';
      const out = translator.push(event);
      if (!opened) {
        // Nothing to say yet (an SSE frame in parts, an event the opening already covers).
        if (out.length === 0) return 'more';
        open();
      }
      return write(out) ? 'more' : sse.drained();
    });
    if (sse.closed) throw new Error('client disconnected');
    const last = translator.end(); // throws for a stream that failed
    if (!opened) open();
    write(last);
    if (sent && call.thread) recordStreamedReply(call.thread, sent);
    sse.end();
  } catch (err) {
    if (!opened && !abort.signal.aborted && !sse.closed) {
      abort.abort(new Error('stream failed'));
      throw call.upstreamError(err);
    }
    if (abort.signal.aborted || sse.closed) {
      ctx.log.debug(
        { requestId: ctx.requestId, usage: translator.usage() },
        'client disconnected mid-stream',
      );
      if (opened) span?.streamEnded({ cut: true });
      return;
    }
    ctx.log.warn({ requestId: ctx.requestId, err, upstreamRequestId: upstream.requestId }, 'stream failed');
    ctx.streamFailed = true;
    failure = err;
    // The response ends normally below, so nothing else would cancel the Bedrock call still streaming.
    abort.abort(new Error('stream failed'));
    await sse.fail(call.upstreamError(err));
  } finally {
    clearTimeout(openLate);
    if (opened) {
      reportUsage(ctx, translator.usage(), { estimated: translator.usageIsEstimated });
      span?.streamEnded(failure === undefined ? {} : { err: failure });
    }
    // Found after the headers went out, so not in x-abproxy-warnings: logged like those are.
    if (translator.warnings?.length)
      ctx.log.debug({ requestId: ctx.requestId, warnings: translator.warnings }, 'lossy stream translation');
  }
}
