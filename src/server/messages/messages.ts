/**
 * POST /v1/messages: validate → resolve model → inline remote media → decide the call once (tier,
 * estimate, headers) → the path message-path.ts picks (native InvokeModel, Bedrock's Messages API on
 * runtime or mantle, or Converse). Streams send
 * their headers only after Bedrock has answered, so an upstream refusal (throttling, validation) is
 * still a real HTTP status with retry-after.
 */
import { validateMessagesRequest } from '../../anthropic/validate.ts';
import { ContextUrls } from '../../tools/web/context-urls.ts';
import { convertWebHistory, hasWebHistory } from '../../tools/web-request.ts';
import { estimateInputTokens } from '../../translate/token-estimate.ts';
import { inlineRemoteMedia } from '../../upstream/media-fetch.ts';
import type { AppDeps } from '../deps.ts';
import { readJson } from '../http/body.ts';
import type { BodyHold } from '../http/body-budget.ts';
import { clientAbort } from '../http/client-abort.ts';
import type { Ctx, Handler } from '../http/context.ts';
import { callerOf } from '../middleware/accounting.ts';
import { chooseServiceTier } from './feature-flags.ts';
import { parseBetas } from './message-call.ts';
import { messagePath } from './message-path.ts';
import { messagesApiMessages } from './messages-api.ts';
import { converseMessages } from './messages-converse.ts';
import { invokeMessages } from './messages-invoke.ts';
import { planWebTools, webMessages } from './messages-web.ts';
import { resolveForRequest } from './resolve.ts';
import { ServedCall } from './served-call.ts';
import { messagesTier, setTierHeaders, type TierState } from './service-tier.ts';
import { openThreadTurn, type ThreadTurn } from './threads.ts';

export function messagesHandler(deps: AppDeps): Handler {
  return async function messages(ctx) {
    const { keyId } = callerOf(ctx);
    const hold = deps.bodyBudget?.holdFor(ctx.res, keyId);
    const body = await readJson(ctx.req, deps.config.maxBodyBytes, hold);
    // A thread's history is put back before anything looks at the request: validation, limits and
    // Bedrock see the whole conversation, as without threads.
    const thread = openThreadTurn(body, keyId, deps.threads);
    // Returned, not awaited: no layer stays suspended here for a stream's life (only a thread needs the finally).
    if (!thread) return serveMessages(deps, ctx, body, undefined, hold);
    try {
      // The history is held for this request as its body would have been.
      const refused = thread.heldBytes > 0 ? hold?.take(thread.heldBytes) : undefined;
      if (refused) throw refused;
      await serveMessages(deps, ctx, thread.body, thread, hold);
    } finally {
      thread.end();
    }
  };
}

/** The request, validated and served on the path its model takes. */
async function serveMessages(
  deps: AppDeps,
  ctx: Ctx,
  body: unknown,
  thread: ThreadTurn | undefined,
  hold: BodyHold | undefined,
) {
  // The client leaving before we answered cancels media fetches and the Bedrock call.
  const abort = clientAbort(ctx);
  const betas = parseBetas(ctx.req.headers['anthropic-beta']);
  let request = validateMessagesRequest(body, { betas });
  // Prompts stay out of logs unless the operator opts in (ABPROXY_LOG_BODIES=true, at debug level).
  if (deps.config.logBodies) ctx.log.debug({ requestId: ctx.requestId, body: request }, 'request body');
  const web = planWebTools(deps, request, callerOf(ctx));
  const webSpec = web.spec;
  request = web.request;
  ctx.model = request.model;
  ctx.stream = request.stream === true;
  const model = await resolveForRequest(deps, request.model, ctx.key);
  ctx.span?.request(request, model);
  // Taken first: the URL images and documents the user gave are URLs web fetch may fetch.
  const contextUrls = webSpec?.fetch ? ContextUrls.of(request.messages, webSpec.fetch.urlSources) : undefined;
  // Fetched media become the body: held in the body budget as the body's own bytes are.
  await inlineRemoteMedia(request, {
    signal: abort.signal,
    allowPrivate: deps.config.allowPrivateMedia,
    ...(hold ? { hold } : {}),
  });
  const wantedTier = messagesTier(
    ctx.key?.serviceTier ?? deps.config.defaultServiceTier,
    request.service_tier,
  );
  const tier = chooseServiceTier(wantedTier, model.caps);
  const tierState: TierState = { wanted: wantedTier, tier: tier.tier };
  setTierHeaders(ctx.res, tierState);
  const inputTokensEstimate = estimateInputTokens(request);
  // The gateway clamps max_tokens to the model's output cap: no answer costs more than that.
  const maxTokens = Math.min(request.max_tokens, model.caps.maxOutputTokens);
  ctx.meter?.holdBudget(model.baseModelId, inputTokensEstimate, maxTokens);
  await ctx.meter?.admitTokens(inputTokensEstimate);
  const warnings = tier.warning ? [tier.warning, ...web.warnings] : [...web.warnings];
  const call = new ServedCall({
    ctx,
    deps,
    request,
    model,
    betas,
    tierState,
    warnings,
    abort,
    inputTokensEstimate,
    thread,
  });
  ctx.meter?.begin({
    model: request.model,
    resolvedModel: model.modelId,
    pricedModel: model.baseModelId,
    metricsLabel: model.metricsLabel,
    stream: request.stream === true,
    tier: () => tierState.tier,
    userId: request.metadata?.user_id,
    inputTokensEstimate,
  });
  // The path's promise is returned, not awaited: this layer (and what only it holds) is not kept for a stream's life.
  if (webSpec) return webMessages(call, webSpec, hold, contextUrls);
  // Earlier web tool blocks echoed without web tools this time: still turned into tool calls + results.
  if (hasWebHistory(request.messages))
    call.request = {
      ...request,
      messages: convertWebHistory(request.messages, deps.signingSecret).messages,
    };
  const path = messagePath(deps.config, model, request.model);
  if (path === 'invoke') return invokeMessages(call);
  if (path === 'messages') return messagesApiMessages(call, 'runtime');
  if (path === 'mantle') return messagesApiMessages(call, 'mantle');
  return converseMessages(call);
}
