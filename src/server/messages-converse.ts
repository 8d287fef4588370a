/** The Converse path of POST /v1/messages: every non-Claude family (and Claude when configured). */

import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ServiceTier } from '../models/types.ts';
import { converseResponseAsStream } from '../translate/converse-as-stream.ts';
import { ConverseStreamTranslator } from '../translate/converse-stream.ts';
import { translateConverseResponse } from '../translate/from-converse.ts';
import { toConverseRequest } from '../translate/to-converse.ts';
import type { AppDeps } from './deps.ts';
import { type MessageCall, newMessageId } from './messages.ts';
import { reportUsage } from './report-usage.ts';
import { sendJson } from './respond.ts';
import { SseWriter } from './sse.ts';

/** The request with the tier of this attempt (a runtime fallback retries without one). */
function withTier<T extends { serviceTier?: unknown }>(input: T, tier: ServiceTier | undefined): T {
  return { ...input, serviceTier: tier && tier !== 'default' ? { type: tier } : undefined };
}

async function* replayed(events: readonly ConverseStreamOutput[]): AsyncIterable<ConverseStreamOutput> {
  yield* events;
}

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
      out = await call.sendWithTier((tier) =>
        deps.upstream.converse(withTier(translated.input, tier), abort.signal),
      );
    } catch (err) {
      if (abort.signal.aborted) return; // the client is gone; nobody to answer
      throw upstreamError(err);
    }
    const { result: body, warnings } = translateConverseResponse(out, responseContext);
    if (warnings.length > 0)
      ctx.log.debug({ requestId: ctx.requestId, warnings }, 'lossy response translation');
    reportUsage(ctx, body.usage);
    sendJson(ctx.res, 200, body, headers);
    return;
  }

  const translator = new ConverseStreamTranslator({
    ...responseContext,
    inputTokensEstimate: call.inputTokensEstimate,
  });
  // Some families take tools only without streaming (Llama 3.1+/4, Mistral Large): ask Converse and
  // replay its answer as a stream, so streaming clients with tools (Claude Code) still work.
  const replay = model.caps.streamingTools === false && translated.input.toolConfig !== undefined;
  let upstream: Awaited<ReturnType<AppDeps['upstream']['converseStream']>>;
  try {
    upstream = await call.sendWithTier(async (tier) => {
      if (!replay) return deps.upstream.converseStream(withTier(translated.input, tier), abort.signal);
      const out = await deps.upstream.converse(withTier(translated.input, tier), abort.signal);
      return { requestId: out.$metadata?.requestId, stream: replayed(converseResponseAsStream(out)) };
    });
  } catch (err) {
    if (abort.signal.aborted) return; // the client is gone; nobody to answer
    throw upstreamError(err);
  }

  const sse = new SseWriter(ctx.res, { pingIntervalMs: deps.config.pingIntervalMs, abort });
  sse.open(headers);
  deps.stats?.streamOpened(ctx);
  try {
    await sse.sendAll(translator.start());
    await sse.ping();
    for await (const event of upstream.stream) {
      if (sse.closed) break;
      const events = translator.push(event);
      if (events.length > 0) deps.stats?.firstToken(ctx);
      await sse.sendAll(events);
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
    ctx.streamFailed = true;
    // The response ends normally below, so nothing else would cancel the Bedrock call still streaming.
    abort.abort(new Error('stream failed'));
    await sse.fail(apiError);
  } finally {
    reportUsage(ctx, translator.usage(), { estimated: translator.usageIsEstimated });
  }
}
