/**
 * POST /v1/messages: validate → resolve model → inline remote media → pick the path. Claude models go
 * natively through InvokeModel (the Anthropic body itself, so every Claude feature survives) unless
 * config says Converse; every other family goes through Converse. Streams send their headers only
 * after Bedrock has answered, so an upstream refusal (throttling, validation) is still a real HTTP
 * status with retry-after.
 */
import { ApiError } from '../anthropic/errors.ts';
import type { MessagesRequest } from '../anthropic/types.ts';
import { validateMessagesRequest } from '../anthropic/validate.ts';
import type { ResolvedModel, ServiceTier } from '../models/types.ts';
import { estimateInputTokens } from '../translate/token-estimate.ts';
import { fromBedrockError } from '../upstream/aws-errors.ts';
import { inlineRemoteMedia } from '../upstream/media-fetch.ts';
import { readJson } from './body.ts';
import type { Ctx, Handler } from './context.ts';
import type { AppDeps } from './deps.ts';
import { chooseServiceTier } from './feature-flags.ts';
import { converseMessages } from './messages-converse.ts';
import { invokeMessages } from './messages-invoke.ts';
import { randomId } from './random-id.ts';
import { resolveForRequest } from './resolve.ts';
import { setTierHeaders, type TierState, withTierFallback } from './service-tier.ts';

export function newMessageId(): string {
  return randomId('msg_');
}

/** Header-safe summary of lossy steps: the count, then as many as fit. */
export function warningsHeader(warnings: readonly string[]): string {
  const text = `${warnings.length}; ${warnings.join('; ')}`.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 512 ? `${text.slice(0, 509)}...` : text;
}

/** The client's `anthropic-beta` header(s) as a list. */
export function parseBetas(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => beta !== '');
}

/** Everything both paths share, decided once per request. */
export interface MessageCall {
  ctx: Ctx;
  deps: AppDeps;
  request: MessagesRequest;
  model: ResolvedModel;
  betas: string[];
  tier: ServiceTier | undefined;
  /**
   * Sends the upstream call with the call's tier, retrying once on `default` when Bedrock rejects the
   * tier (then `tier` becomes undefined and the tier headers say so).
   */
  sendWithTier<T>(send: (tier: ServiceTier | undefined) => Promise<T>): Promise<T>;
  /** Lossy steps so far (tier fallback); each path adds its own. */
  warnings: string[];
  abort: AbortController;
  inputTokensEstimate: number;
  /** Turns an upstream failure into the client's error (context overflow needs the sizes). */
  upstreamError: (err: unknown) => ApiError;
  /** Response headers for a successful answer (model, warnings). */
  headers(extraWarnings: readonly string[]): Record<string, string>;
}

export function messagesHandler(deps: AppDeps): Handler {
  return async function messages(ctx) {
    const abort = new AbortController();
    // The client leaving before we answered cancels media fetches and the Bedrock call.
    ctx.res.on('close', () => {
      if (!ctx.res.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const betas = parseBetas(ctx.req.headers['anthropic-beta']);
    const request = validateMessagesRequest(await readJson(ctx.req, deps.config.maxBodyBytes), { betas });
    // Prompts stay out of logs unless the operator opts in (ABPROXY_LOG_BODIES=true, at debug level).
    if (deps.config.logBodies) ctx.log.debug({ requestId: ctx.requestId, body: request }, 'request body');
    ctx.model = request.model;
    ctx.stream = request.stream === true;
    const model = await resolveForRequest(deps, request.model, ctx.key);
    await inlineRemoteMedia(request, { signal: abort.signal, allowPrivate: deps.config.allowPrivateMedia });
    const wantedTier = ctx.key?.serviceTier ?? deps.config.defaultServiceTier;
    const tier = chooseServiceTier(wantedTier, model.caps);
    const tierState: TierState = { wanted: wantedTier, tier: tier.tier };
    setTierHeaders(ctx.res, tierState);
    const inputTokensEstimate = estimateInputTokens(request);
    await ctx.meter?.admitTokens(inputTokensEstimate);
    const warnings = tier.warning ? [tier.warning] : [];
    const call: MessageCall = {
      ctx,
      deps,
      request,
      model,
      betas,
      get tier() {
        return tierState.tier;
      },
      sendWithTier: async (send) => {
        const answer = await withTierFallback(tierState, ctx.res, send, (err) =>
          ctx.log.info(
            { requestId: ctx.requestId, tier: tierState.tier, err: (err as Error).message },
            'Bedrock rejected the service tier; retrying on default',
          ),
        );
        ctx.meter?.answered();
        return answer;
      },
      warnings,
      abort,
      inputTokensEstimate,
      upstreamError: (err) =>
        err instanceof ApiError
          ? err
          : fromBedrockError(err, {
              estimatedInputTokens: inputTokensEstimate,
              contextWindow: model.caps.contextWindow,
            }),
      headers(extraWarnings) {
        const all = [...warnings, ...extraWarnings];
        const headers: Record<string, string> = { 'x-abproxy-model': model.modelId };
        if (all.length > 0) {
          headers['x-abproxy-warnings'] = warningsHeader(all);
          ctx.log.debug({ requestId: ctx.requestId, warnings: all }, 'lossy translation');
        }
        return headers;
      },
    };
    ctx.meter?.begin({
      model: request.model,
      resolvedModel: model.modelId,
      metricsLabel: model.metricsLabel,
      stream: request.stream === true,
      tier: () => tierState.tier,
    });
    const native = model.caps.family === 'claude' && deps.config.claudePath === 'invoke';
    await (native ? invokeMessages(call) : converseMessages(call));
  };
}
