/**
 * POST /v1/messages/count_tokens → {"input_tokens": N}. Bedrock's CountTokens where the model may have
 * it (every Claude model is tried, on the same body the real call would send), else the gateway's
 * estimate. An upstream failure falls back to the estimate: a client uses the count to plan compaction,
 * and an approximate number serves it better than an error. A model Bedrock refuses to count for is
 * remembered for a while, so its callers get the estimate without a wasted round trip.
 * `x-abproxy-token-count: bedrock|estimate` says which one answered.
 */
import type { CountTokensCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { CountTokensRequest } from '../../anthropic/types.ts';
import { validateCountTokensRequest } from '../../anthropic/validate.ts';
import { claudeFeaturesFor } from '../../models/claude-features.ts';
import type { ResolvedModel } from '../../models/types.ts';
import {
  convertWebHistory,
  hasWebHistory,
  isWebFetchTool,
  isWebSearchTool,
  modelTools,
  webToolsOf,
} from '../../tools/web-request.ts';
import { applyFeatureSwitches } from '../../translate/feature-switches.ts';
import {
  messagesApiLacksFormat,
  modelLacksFormat,
  refuseUnenforcedFormat,
} from '../../translate/output-format.ts';
import { toConverseRequest } from '../../translate/to-converse.ts';
import { invokeContextFor, toInvokeBody } from '../../translate/to-invoke.ts';
import { estimateInputTokens } from '../../translate/token-estimate.ts';
import { classifyBedrockError } from '../../upstream/aws-errors.ts';
import { tokenCount } from '../../usage/bounds.ts';
import type { AppDeps } from '../deps.ts';
import { readJson } from '../http/body.ts';
import { clientAbort } from '../http/client-abort.ts';
import type { Handler } from '../http/context.ts';
import { headerSafe, sendJson } from '../http/respond.ts';
import { parseBetas } from '../messages/message-call.ts';
import { messagePath } from '../messages/message-path.ts';
import { resolveForRequest } from '../messages/resolve.ts';
import { threadCountBody } from '../messages/threads.ts';
import { callerOf } from '../middleware/accounting.ts';
import { CountRefusals } from './count-refusals.ts';

function asModelSees(request: CountTokensRequest, secret: string): CountTokensRequest {
  const spec = webToolsOf(request);
  const tools = spec
    ? [...(request.tools ?? []).filter((t) => !isWebSearchTool(t) && !isWebFetchTool(t)), ...modelTools(spec)]
    : request.tools;
  const messages = hasWebHistory(request.messages)
    ? convertWebHistory(request.messages, secret).messages
    : request.messages;
  return { ...request, messages, ...(tools ? { tools } : {}) };
}

/** Bedrock said this model cannot count (not a throttle or a fault of this one request's body). */
function isModelRefusal(err: unknown): boolean {
  const { status } = classifyBedrockError(err);
  if (status === 403 || status === 404) return true;
  return status === 400 && /support/i.test(err instanceof Error ? err.message : '');
}

export function countTokensHandler(deps: AppDeps, refusals = new CountRefusals()): Handler {
  return async function countTokens(ctx) {
    // Counted as the model would see it: web server tools as the ordinary tools the loop gives it, and
    // echoed web tool blocks as the tool calls and results they become.
    const { keyId } = callerOf(ctx);
    const body = await readJson(ctx.req, deps.config.maxBodyBytes, deps.bodyBudget?.holdFor(ctx.res, keyId));
    // A thread's continue counts the whole conversation, as the message would send it.
    const whole = threadCountBody(body, keyId, deps.threads);
    const request = asModelSees(validateCountTokensRequest(whole), deps.signingSecret);
    const model = await resolveForRequest(deps, request.model, ctx.key);
    ctx.span?.model(request.model, model);
    // What the call would refuse is refused here too, before any count (an estimate included).
    refuseUnenforcedFormat(request, formatRefusal(deps, model, request.model));
    const headers = { 'x-abproxy-model': headerSafe(model.modelId) };
    const estimate = () => estimateInputTokens({ ...request, max_tokens: 1 });
    // bedrock-runtime's CountTokens does not know a model only bedrock-mantle serves, and mantle counts
    // nothing: the estimate, without a call that can only fail.
    if (!model.caps.countTokens || model.servedBy === 'mantle' || refusals.has(model.baseModelId)) {
      sendJson(
        ctx.res,
        200,
        { input_tokens: estimate() },
        { ...headers, 'x-abproxy-token-count': 'estimate' },
      );
      return;
    }
    const input = countInput(deps, request, model, parseBetas(ctx.req.headers['anthropic-beta']));
    const abort = clientAbort(ctx);
    try {
      // CountTokens takes a foundation model id, not an inference profile.
      const tokens = await deps.upstream.countTokens({ modelId: model.baseModelId, input }, abort.signal);
      // A count that is not a whole number from 0 up (a broken upstream's -5, 1e300 or "12") is no count.
      if (tokenCount(tokens) !== tokens)
        throw new Error(`Bedrock CountTokens answered ${String(tokens).slice(0, 32)}`);
      sendJson(ctx.res, 200, { input_tokens: tokens }, { ...headers, 'x-abproxy-token-count': 'bedrock' });
    } catch (err) {
      if (abort.signal.aborted) return;
      if (isModelRefusal(err)) refusals.remember(model.baseModelId);
      ctx.log.debug(
        { err, requestId: ctx.requestId },
        'Bedrock CountTokens failed; answering with an estimate',
      );
      sendJson(
        ctx.res,
        200,
        { input_tokens: estimate() },
        { ...headers, 'x-abproxy-token-count': 'estimate' },
      );
    }
  };
}

/** Why the real call would refuse `output_config.format` for this model on its path (null: it would not). */
function formatRefusal(deps: AppDeps, model: ResolvedModel, requested: string): string | null {
  const path = messagePath(deps.config, model, requested);
  if (path === 'messages' || path === 'mantle') return messagesApiLacksFormat(model.baseModelId);
  const enforced =
    path === 'converse'
      ? model.caps.structuredOutputs
      : claudeFeaturesFor(model.baseModelId, deps.claudeFeatures).outputFormat;
  return enforced ? null : modelLacksFormat(path === 'converse' ? model.modelId : model.baseModelId);
}

/** What CountTokens counts: the same body the real call would send (native for Claude, else Converse). */
function countInput(
  deps: AppDeps,
  request: CountTokensRequest,
  model: ResolvedModel,
  betas: string[],
): CountTokensCommandInput['input'] {
  // Bedrock's Messages API has no count_tokens: its paths count the InvokeModel body, which carries
  // the same content.
  if (messagePath(deps.config, model, request.model) !== 'converse') {
    // The same feature switches as the real call, so the count matches what would be sent.
    const { request: switched } = applyFeatureSwitches(
      { ...request, max_tokens: model.caps.maxOutputTokens },
      deps.config,
    );
    const { body } = toInvokeBody(switched, invokeContextFor(model, betas, deps.claudeFeatures));
    return { invokeModel: { body: new TextEncoder().encode(body) } };
  }
  const { input } = toConverseRequest(
    { ...request, max_tokens: 1 },
    { modelId: model.modelId, caps: model.caps, signingSecret: deps.signingSecret },
  );
  return { converse: { messages: input.messages, system: input.system, toolConfig: input.toolConfig } };
}
