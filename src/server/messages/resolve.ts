import { ApiError } from '../../anthropic/errors.ts';
import { modelAllowed } from '../../auth/model-globs.ts';
import { anthropicIdsOf, isClaudeLike, withoutBracketSuffix } from '../../models/aliases.ts';
import { modelNameForGlobs, resolveModel } from '../../models/resolve.ts';
import type { CatalogueSnapshot, ResolvedModel } from '../../models/types.ts';
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
  key?: ModelLimitedKey,
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
  // The names are worked out only for a key limited to some models (not on every call).
  if (key?.models !== undefined || key?.availableModels !== undefined) {
    const names = namesOf(name, resolved);
    if (!modelAllowed(key.models, names)) {
      throw new ApiError('permission_error', `this API key may not use model '${name}'`);
    }
    // A sign-in policy's managed `availableModels` binds the gateway too, not only Claude Code's picker.
    if (!modelAllowed(key.availableModels, names)) {
      throw new ApiError('permission_error', `your sign-in policy does not offer model '${name}'`);
    }
  }
  return { ...resolved, caps: applyFeatureFlags(resolved.caps, deps.config) };
}

type ModelLimitedKey = Pick<KeyRecord, 'models'> & { availableModels?: readonly string[] };

/**
 * The names a key's model globs are matched against: the client's, the Bedrock id and its base id, and
 * for Claude its Anthropic name.
 */
function namesOf(name: string, resolved: ResolvedModel): string[] {
  const clientName = resolved.viaPattern ?? (isClaudeLike(name) ? withoutBracketSuffix(name.trim()) : name);
  const names = [clientName, resolved.modelId, resolved.baseModelId].map(modelNameForGlobs);
  // A key limited to `claude-*` means Claude however it is called: Claude Code in Bedrock mode (and the
  // Bedrock-format door) calls it by its Bedrock id.
  return [...names, ...anthropicIdsOf(names[2]!)];
}

/**
 * Whether a key may use a model named `name`, by the same rules as a call (its globs and its sign-in
 * policy's models): what /v1/models shows it. A name the catalogue cannot resolve is judged by itself.
 */
export function keyMayUse(
  deps: AppDeps,
  snapshot: CatalogueSnapshot,
  name: string,
  key?: ModelLimitedKey,
): boolean {
  if (key?.models === undefined && key?.availableModels === undefined) return true;
  let names: string[];
  try {
    names = namesOf(
      name,
      resolveModel(name, snapshot, { region: deps.config.region, overrides: deps.config.modelMap }),
    );
  } catch {
    names = [modelNameForGlobs(name)];
  }
  return modelAllowed(key.models, names) && modelAllowed(key.availableModels, names);
}
