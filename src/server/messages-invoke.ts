/**
 * The native Claude path of POST /v1/messages: InvokeModel / InvokeModelWithResponseStream with the
 * Anthropic body itself. Stream chunks already are Anthropic events; only message_start (model name)
 * and the last chunk (Bedrock's invocation metrics) need rewriting, so content deltas — nearly every
 * chunk — are forwarded as the bytes Bedrock sent, without a JSON round trip.
 */
import { ApiError } from '../anthropic/errors.ts';
import { formatSse } from '../anthropic/sse.ts';
import { claudeFeaturesFor } from '../models/claude-features.ts';
import { applyFeatureSwitches } from '../translate/feature-switches.ts';
import { createInvokeStream, fromInvokeResponse } from '../translate/invoke-stream.ts';
import { isStreamExceptionMember, streamExceptionToApiError } from '../translate/stream-errors.ts';
import { toInvokeBody } from '../translate/to-invoke.ts';
import type { AppDeps } from './deps.ts';
import type { MessageCall } from './messages.ts';
import { reportUsage } from './report-usage.ts';
import { sendJson } from './respond.ts';
import { SseWriter } from './sse.ts';

const utf8 = new TextDecoder();
const DELTA_PREFIX = '{"type":"content_block_delta"';

/** A chunk that can go to the client as Bedrock sent it: a content delta on one line. */
function passthroughFrame(text: string): string | undefined {
  if (!text.startsWith(DELTA_PREFIX) || text.includes('\n') || text.includes('\r')) return undefined;
  return `event: content_block_delta\ndata: ${text}\n\n`;
}

export async function invokeMessages(call: MessageCall): Promise<void> {
  const { ctx, deps, request, model, abort, upstreamError } = call;
  const features = claudeFeaturesFor(model.baseModelId, deps.claudeFeatures);
  const switched = applyFeatureSwitches(request, deps.config);
  const invoke = toInvokeBody(switched.request, {
    baseModelId: model.baseModelId,
    betas: call.betas,
    features,
    maxOutputTokens: model.caps.maxOutputTokens,
  });
  const warnings = [...switched.warnings, ...invoke.warnings];
  if (invoke.droppedBetas.length > 0)
    warnings.push(`betas not sent to Bedrock: ${invoke.droppedBetas.join(', ')}`);
  const headers = call.headers(warnings);
  const input = { modelId: model.modelId, body: invoke.body, serviceTier: call.tier };

  if (!request.stream) {
    let bytes: Uint8Array;
    try {
      bytes = await call.sendWithTier((serviceTier) =>
        deps.upstream.invokeModel({ ...input, serviceTier }, abort.signal),
      );
    } catch (err) {
      if (abort.signal.aborted) return;
      throw upstreamError(err);
    }
    const body = fromInvokeResponse(JSON.parse(utf8.decode(bytes)), { model: request.model });
    reportUsage(ctx, body.usage);
    sendJson(ctx.res, 200, body, headers);
    return;
  }

  let upstream: Awaited<ReturnType<AppDeps['upstream']['invokeModelStream']>>;
  try {
    upstream = await call.sendWithTier((serviceTier) =>
      deps.upstream.invokeModelStream({ ...input, serviceTier }, abort.signal),
    );
  } catch (err) {
    if (abort.signal.aborted) return;
    throw upstreamError(err);
  }

  const events = createInvokeStream({ model: request.model });
  const sse = new SseWriter(ctx.res, { pingIntervalMs: deps.config.pingIntervalMs, abort });
  sse.open(headers);
  deps.stats?.streamOpened(ctx);
  let stopped = false;
  try {
    for await (const item of upstream.stream) {
      if (sse.closed) break;
      const bytes = item.chunk?.bytes;
      if (!bytes) {
        const members = item as unknown as Record<string, unknown>;
        const member = Object.keys(members).find((key) => members[key] !== undefined);
        if (member && isStreamExceptionMember(member))
          throw streamExceptionToApiError(member, members[member]);
        continue;
      }
      const text = utf8.decode(bytes);
      const frame = passthroughFrame(text);
      if (frame) {
        events.passedThrough(text);
        deps.stats?.firstToken(ctx);
        await sse.sendFrame(frame);
        continue;
      }
      const event = events.push(JSON.parse(text) as Record<string, unknown>);
      const type = typeof event.type === 'string' ? event.type : 'unknown';
      if (type === 'content_block_delta') deps.stats?.firstToken(ctx);
      await sse.sendFrame(formatSse(type, event));
      if (type === 'message_start') await sse.ping();
      if (type === 'message_stop') stopped = true;
    }
    if (sse.closed) throw new Error('client disconnected');
    if (!stopped) throw new ApiError('api_error', 'Bedrock ended the stream before message_stop');
    sse.end();
  } catch (err) {
    if (abort.signal.aborted || sse.closed) {
      ctx.log.debug({ requestId: ctx.requestId, usage: events.usage() }, 'client disconnected mid-stream');
      return;
    }
    ctx.log.warn({ requestId: ctx.requestId, err, upstreamRequestId: upstream.requestId }, 'stream failed');
    ctx.streamFailed = true;
    // The response ends normally below, so nothing else would cancel the Bedrock call still streaming.
    abort.abort(new Error('stream failed'));
    await sse.fail(upstreamError(err));
  } finally {
    reportUsage(ctx, events.usage(), { estimated: events.usageIsEstimated });
  }
}
