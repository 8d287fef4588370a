/**
 * The one stream loop of POST /v1/messages, for both paths: upstream events through a translator to
 * the client as SSE. A ping right after message_start, first-token stats, the client leaving (stops
 * reading, the Bedrock call is aborted by the SSE writer), a failure after the headers as an in-stream
 * `event: error`, and the usage the translator counted reported in every case; the translator's
 * warnings, found after the headers went out, are logged at debug level.
 */
import type { OutgoingEvent, StreamTranslator } from '../../translate/stream-translator.ts';
import { SseWriter } from '../http/sse.ts';
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
  // The events of one upstream event leave in one write (hold … release), the first with the headers.
  const send = async (events: readonly OutgoingEvent[]) => {
    sse.hold();
    for (const event of events) {
      if ('frame' in event) await sse.sendFrame(event.frame);
      else await sse.send(event);
      if (span) span.streamEvent(event);
      if (event.type === 'message_start') await sse.ping();
      else if (event.type === 'content_block_start' || event.type === 'content_block_delta')
        deps.stats?.firstToken(ctx);
    }
    sse.release();
  };
  sse.hold(); // the headers go out with message_start and its ping
  sse.open(headers);
  deps.stats?.streamOpened(ctx);
  span?.streamOpened();
  let failure: unknown;
  try {
    await send(translator.start());
    for await (const event of upstream.stream) {
      if (sse.closed) break;
      await send(translator.push(event));
    }
    if (sse.closed) throw new Error('client disconnected');
    await send(translator.end());
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
