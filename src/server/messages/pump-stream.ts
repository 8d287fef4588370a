/**
 * The one stream loop of POST /v1/messages, for both paths: upstream events through a translator to
 * the client as SSE. A ping right after message_start, first-token stats, the client leaving (stops
 * reading, the Bedrock call is aborted by the SSE writer), a failure after the headers as an in-stream
 * `event: error`, and the usage the translator counted reported in every case; the translator's
 * warnings, found after the headers went out, are logged at debug level.
 */
import { formatSseEvent } from '../../anthropic/sse.ts';
import type { OutgoingEvent, StreamTranslator } from '../../translate/stream-translator.ts';
import { PING_FRAME, SseWriter } from '../http/sse.ts';
import type { MessageCall } from './message-call.ts';
import { reportUsage } from './report-usage.ts';

export interface UpstreamStream<E> {
  /** Upstream request id, for logs. */
  requestId: string | undefined;
  stream: AsyncIterable<E>;
}

export async function pumpStream<E>(
  call: MessageCall,
  upstream: UpstreamStream<E>,
  translator: StreamTranslator<E>,
  headers: Record<string, string>,
): Promise<void> {
  const { ctx, deps, abort } = call;
  const span = ctx.span;
  const sse = new SseWriter(ctx.res, { pingIntervalMs: deps.config.pingIntervalMs, abort });
  // Synchronous: the frames join the writer's batch for this turn (one write per upstream read, the
  // first with the headers). Answers false when the client is not keeping up.
  const write = (events: readonly OutgoingEvent[]): boolean => {
    for (const event of events) {
      sse.write('frame' in event ? event.frame : formatSseEvent(event));
      if (span) span.streamEvent(event);
      if (event.type === 'message_start') sse.write(PING_FRAME);
      else if (event.type === 'content_block_start' || event.type === 'content_block_delta')
        deps.stats?.firstToken(ctx);
    }
    return sse.writable;
  };
  sse.open(headers); // the headers go out with message_start and its ping
  deps.stats?.streamOpened(ctx);
  span?.streamOpened();
  let failure: unknown;
  try {
    write(translator.start());
    for await (const event of upstream.stream) {
      if (sse.closed) break;
      if (!write(translator.push(event))) await sse.drained();
    }
    if (sse.closed) throw new Error('client disconnected');
    write(translator.end());
    sse.end();
  } catch (err) {
    if (abort.signal.aborted || sse.closed) {
      ctx.log.debug(
        { requestId: ctx.requestId, usage: translator.usage() },
        'client disconnected mid-stream',
      );
      span?.streamEnded({ cut: true });
      return;
    }
    ctx.log.warn({ requestId: ctx.requestId, err, upstreamRequestId: upstream.requestId }, 'stream failed');
    ctx.streamFailed = true;
    failure = err;
    // The response ends normally below, so nothing else would cancel the Bedrock call still streaming.
    abort.abort(new Error('stream failed'));
    await sse.fail(call.upstreamError(err));
  } finally {
    reportUsage(ctx, translator.usage(), { estimated: translator.usageIsEstimated });
    span?.streamEnded(failure === undefined ? {} : { err: failure });
    // Found after the headers went out, so not in x-abproxy-warnings: logged like those are.
    if (translator.warnings?.length)
      ctx.log.debug({ requestId: ctx.requestId, warnings: translator.warnings }, 'lossy stream translation');
  }
}
