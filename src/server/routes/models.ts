/** GET /v1/models and /v1/models/{id}, in Anthropic's list shape, from the catalogue snapshot. */
import { ApiError } from '../../anthropic/errors.ts';
import { toAnthropicModel, toAnthropicModelList } from '../../models/list.ts';
import type { AppDeps } from '../deps.ts';
import type { Handler } from '../http/context.ts';
import { sendJson } from '../http/respond.ts';

function parseLimit(raw: string | null): number {
  if (raw === null) return 20;
  // Decimal digits only: Number() would also take '0x10', '1e2', ' 5' or '' (0).
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw ApiError.invalid('limit: Input should be an integer between 1 and 1000');
  }
  return n;
}

export function listModelsHandler(deps: AppDeps): Handler {
  return async function listModels(ctx) {
    const query = ctx.url.searchParams;
    const page = toAnthropicModelList(await deps.catalogue.snapshot(), {
      limit: parseLimit(query.get('limit')),
      afterId: query.get('after_id') ?? undefined,
      beforeId: query.get('before_id') ?? undefined,
    });
    sendJson(ctx.res, 200, page);
  };
}

export function getModelHandler(deps: AppDeps): Handler {
  return async function getModel(ctx) {
    const id = ctx.params.id ?? '';
    // Throws not_found_error for a name the catalogue cannot serve.
    sendJson(ctx.res, 200, toAnthropicModel(await deps.catalogue.snapshot(), id));
  };
}
