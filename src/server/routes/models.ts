/** GET /v1/models and /v1/models/{id}, in Anthropic's list shape, from the catalogue snapshot. */
import { ApiError, echoed } from '../../anthropic/errors.ts';
import { toAnthropicModel, toAnthropicModelList } from '../../models/list.ts';
import type { AppDeps } from '../deps.ts';
import type { Handler } from '../http/context.ts';
import { sendJson } from '../http/respond.ts';
import { keyMayUse } from '../messages/resolve.ts';

function parseLimit(raw: string | null): number {
  if (raw === null) return 20;
  // Decimal digits only: Number() would also take '0x10', '1e2', ' 5' or '' (0).
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw ApiError.invalid('limit: Input should be an integer between 1 and 1000');
  }
  return n;
}

/**
 * A key limited to some models (`keys create --models`, a sign-in policy's models) is shown only those:
 * Claude Code's gateway model discovery offers every listed Claude id, and each other one would be a 403.
 */
export function listModelsHandler(deps: AppDeps): Handler {
  return async function listModels(ctx) {
    const query = ctx.url.searchParams;
    const snapshot = await deps.catalogue.snapshot();
    const page = toAnthropicModelList(snapshot, {
      limit: parseLimit(query.get('limit')),
      afterId: query.get('after_id') ?? undefined,
      beforeId: query.get('before_id') ?? undefined,
      visible: (id) => keyMayUse(deps, snapshot, id, ctx.key),
    });
    sendJson(ctx.res, 200, page);
  };
}

export function getModelHandler(deps: AppDeps): Handler {
  return async function getModel(ctx) {
    const id = ctx.params.id ?? '';
    const snapshot = await deps.catalogue.snapshot();
    // Throws not_found_error for a name the catalogue cannot serve; one the key may not use is not
    // shown either (as Anthropic answers for a model an account cannot reach).
    const model = toAnthropicModel(snapshot, id);
    if (!keyMayUse(deps, snapshot, id, ctx.key))
      throw new ApiError('not_found_error', `model: ${echoed(id)}`);
    sendJson(ctx.res, 200, model);
  };
}
