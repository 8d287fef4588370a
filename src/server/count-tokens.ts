/**
 * POST /v1/messages/count_tokens → {"input_tokens": N}. Bedrock's CountTokens where the model has it
 * (on the same Converse shape the real call would send), else the gateway's estimate. An upstream
 * failure falls back to the estimate: a client uses the count to plan compaction, and an approximate
 * number serves it better than an error.
 */
import { validateCountTokensRequest } from '../anthropic/validate.ts';
import { toConverseRequest } from '../translate/to-converse.ts';
import { estimateInputTokens } from '../translate/token-estimate.ts';
import { readJson } from './body.ts';
import type { Handler } from './context.ts';
import type { AppDeps } from './deps.ts';
import { resolveForRequest } from './resolve.ts';
import { sendJson } from './respond.ts';

export function countTokensHandler(deps: AppDeps): Handler {
  return async function countTokens(ctx) {
    const request = validateCountTokensRequest(await readJson(ctx.req, deps.config.maxBodyBytes));
    const model = await resolveForRequest(deps, request.model);
    const headers = { 'x-abproxy-model': model.modelId };
    const estimate = () => estimateInputTokens({ ...request, max_tokens: 1 });
    if (!model.caps.countTokens) {
      sendJson(
        ctx.res,
        200,
        { input_tokens: estimate() },
        { ...headers, 'x-abproxy-token-count': 'estimate' },
      );
      return;
    }
    const { input } = toConverseRequest(
      { ...request, max_tokens: 1 },
      { modelId: model.modelId, caps: model.caps, signingSecret: deps.signingSecret },
    );
    const converse = {
      messages: input.messages,
      system: input.system,
      toolConfig: input.toolConfig,
    };
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort());
    try {
      // CountTokens takes a foundation model id, not an inference profile.
      const tokens = await deps.upstream.countTokens(
        { modelId: model.baseModelId, input: { converse } },
        abort.signal,
      );
      sendJson(ctx.res, 200, { input_tokens: tokens }, { ...headers, 'x-abproxy-token-count': 'bedrock' });
    } catch (err) {
      if (abort.signal.aborted) return;
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
