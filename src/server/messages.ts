/**
 * POST /v1/messages: validate → resolve model → inline remote media → translate → Bedrock Converse or
 * ConverseStream → translate back. A stream's headers go out only after Bedrock has answered, so an
 * upstream refusal (throttling, validation) is still a real HTTP status with retry-after.
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from '../anthropic/errors.ts';
import type { MessagesRequest } from '../anthropic/types.ts';
import { validateMessagesRequest } from '../anthropic/validate.ts';
import type { ResolvedModel } from '../models/types.ts';
import { ConverseStreamTranslator } from '../translate/converse-stream.ts';
import { fromConverseResponse } from '../translate/from-converse.ts';
import { type TranslatedRequest, toConverseRequest } from '../translate/to-converse.ts';
import { estimateInputTokens } from '../translate/token-estimate.ts';
import { fromBedrockError } from '../upstream/aws-errors.ts';
import { inlineRemoteMedia } from '../upstream/media-fetch.ts';
import { readJson } from './body.ts';
import type { Ctx, Handler } from './context.ts';
import type { AppDeps } from './deps.ts';
import { chooseServiceTier } from './feature-flags.ts';
import { resolveForRequest } from './resolve.ts';
import { sendJson } from './respond.ts';
import { SseWriter } from './sse.ts';

export function newMessageId(): string {
  return `msg_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** Header-safe summary of lossy steps: the count, then as many as fit. */
export function warningsHeader(warnings: readonly string[]): string {
  const text = `${warnings.length}; ${warnings.join('; ')}`.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 512 ? `${text.slice(0, 509)}...` : text;
}

interface Prepared {
  request: MessagesRequest;
  model: ResolvedModel;
  translated: TranslatedRequest;
  headers: Record<string, string>;
  inputTokensEstimate: number;
  /** Turns an upstream failure into the client's error (context overflow needs the sizes). */
  upstreamError: (err: unknown) => ApiError;
}

async function prepare(ctx: Ctx, deps: AppDeps, signal: AbortSignal): Promise<Prepared> {
  const request = validateMessagesRequest(await readJson(ctx.req, deps.config.maxBodyBytes));
  const model = await resolveForRequest(deps, request.model);
  await inlineRemoteMedia(request, { signal });
  const tier = chooseServiceTier(deps.config.defaultServiceTier, model.caps);
  const translated = toConverseRequest(request, {
    modelId: model.modelId,
    caps: model.caps,
    serviceTier: tier.tier,
    signingSecret: deps.signingSecret,
  });
  const warnings = tier.warning ? [tier.warning, ...translated.warnings] : translated.warnings;
  const headers: Record<string, string> = { 'x-abproxy-model': model.modelId };
  if (warnings.length > 0) {
    headers['x-abproxy-warnings'] = warningsHeader(warnings);
    ctx.log.debug({ requestId: ctx.requestId, warnings }, 'lossy translation');
  }
  const inputTokensEstimate = estimateInputTokens(request);
  const upstreamError = (err: unknown) =>
    err instanceof ApiError
      ? err
      : fromBedrockError(err, {
          estimatedInputTokens: inputTokensEstimate,
          contextWindow: model.caps.contextWindow,
        });
  return { request, model, translated, headers, inputTokensEstimate, upstreamError };
}

export function messagesHandler(deps: AppDeps): Handler {
  return async function messages(ctx) {
    const abort = new AbortController();
    // The client leaving before we answered cancels media fetches and the Bedrock call.
    ctx.res.on('close', () => {
      if (!ctx.res.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const { request, model, translated, headers, inputTokensEstimate, upstreamError } = await prepare(
      ctx,
      deps,
      abort.signal,
    );
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
      inputTokensEstimate,
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
  };
}
