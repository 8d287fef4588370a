/** The Converse path of POST /v1/messages: every non-Claude family (and Claude when configured). */
import { ConverseStreamTranslator } from '../translate/converse-stream.ts';
import { fromConverseResponse } from '../translate/from-converse.ts';
import { toConverseRequest } from '../translate/to-converse.ts';
import type { AppDeps } from './deps.ts';
import { type MessageCall, newMessageId } from './messages.ts';
import { sendJson } from './respond.ts';
import { SseWriter } from './sse.ts';

export async function converseMessages(call: MessageCall): Promise<void> {
  const { ctx, deps, request, model, abort, upstreamError } = call;
  const translated = toConverseRequest(request, {
    modelId: model.modelId,
    caps: model.caps,
    serviceTier: call.tier,
    signingSecret: deps.signingSecret,
  });
  const headers = call.headers(translated.warnings);
  const responseContext = {
    messageId: newMessageId(),
    model: request.model,
    caps: model.caps,
    toolNames: translated.toolNames,
    signingSecret: deps.signingSecret,
  };

  if (!request.stream) {
    let out: Awaited<ReturnType<AppDeps['upstream']['converse']>>;
    try {
      out = await deps.upstream.converse(translated.input, abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return; // the client is gone; nobody to answer
      throw upstreamError(err);
    }
    sendJson(ctx.res, 200, fromConverseResponse(out, responseContext), headers);
    return;
  }

  const translator = new ConverseStreamTranslator({
    ...responseContext,
    inputTokensEstimate: call.inputTokensEstimate,
  });
  let upstream: Awaited<ReturnType<AppDeps['upstream']['converseStream']>>;
  try {
    upstream = await deps.upstream.converseStream(translated.input, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) return; // the client is gone; nobody to answer
    throw upstreamError(err);
  }

  const sse = new SseWriter(ctx.res, { pingIntervalMs: deps.config.pingIntervalMs, abort });
  sse.open(headers);
  try {
    await sse.sendAll(translator.start());
    await sse.ping();
    for await (const event of upstream.stream) {
      if (sse.closed) break;
      await sse.sendAll(translator.push(event));
    }
    if (sse.closed) throw new Error('client disconnected');
    await sse.sendAll(translator.end());
    sse.end();
  } catch (err) {
    if (abort.signal.aborted || sse.closed) {
      ctx.log.debug(
        { requestId: ctx.requestId, usage: translator.usage() },
        'client disconnected mid-stream',
      );
      return;
    }
    const apiError = upstreamError(err);
    ctx.log.warn({ requestId: ctx.requestId, err, upstreamRequestId: upstream.requestId }, 'stream failed');
    await sse.fail(apiError);
  }
}
