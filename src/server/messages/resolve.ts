import { ApiError } from '../../anthropic/errors.ts';
import { modelAllowed } from '../../auth/model-globs.ts';
import { isClaudeLike, withoutBracketSuffix } from '../../models/aliases.ts';
import { resolveModel } from '../../models/resolve.ts';
import type { ResolvedModel } from '../../models/types.ts';
import type { KeyRecord } from '../../store/types.ts';
import type { AppDeps } from '../deps.ts';
import { applyFeatureFlags } from './feature-flags.ts';

/**
 * Client model name → Bedrock model and its capabilities, narrowed by the configured feature switches.
 * A key limited to some models (`keys create --models`) gets 403 for any other, on every route that
 * names a model.
 */
export async function resolveForRequest(
  deps: AppDeps,
  name: string,
  key?: Pick<KeyRecord, 'models'> & { availableModels?: readonly string[] },
): Promise<ResolvedModel> {
  const snapshot = await deps.catalogue.snapshot();
  const resolved = resolveModel(name, snapshot, {
    region: deps.config.region,
    overrides: deps.config.modelMap,
  });
  // The client's name counts as the resolver read it: a `[…]` suffix on a Claude name is dropped there,
  // so `claude-sonnet-4-5[haiku]` must not pass a key limited to `*haiku*` and then call Sonnet. A name
  // a prefix pattern of the model map caught (`claude-x*` → Sonnet) is the client's invention: the
  // operator's target counts instead, so `claude-xhaiku` does not pass `*haiku*` either.
  const clientName = resolved.viaPattern ?? (isClaudeLike(name) ? withoutBracketSuffix(name.trim()) : name);
  const names = [clientName, resolved.modelId, resolved.baseModelId];
  if (!modelAllowed(key?.models, names)) {
    throw new ApiError('permission_error', `this API key may not use model '${name}'`);
  }
  // A sign-in policy's managed `availableModels` binds the gateway too, not only Claude Code's picker.
  if (!modelAllowed(key?.availableModels, names)) {
    throw new ApiError('permission_error', `your sign-in policy does not offer model '${name}'`);
  }
  return { ...resolved, caps: applyFeatureFlags(resolved.caps, deps.config) };
}
