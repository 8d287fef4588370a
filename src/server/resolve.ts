import { resolveModel } from '../models/resolve.ts';
import type { ResolvedModel } from '../models/types.ts';
import type { AppDeps } from './deps.ts';
import { applyFeatureFlags } from './feature-flags.ts';

/** Client model name → Bedrock model and its capabilities, narrowed by the configured feature switches. */
export async function resolveForRequest(deps: AppDeps, name: string): Promise<ResolvedModel> {
  const snapshot = await deps.catalogue.snapshot();
  const resolved = resolveModel(name, snapshot, {
    region: deps.config.region,
    overrides: deps.config.modelMap,
  });
  return { ...resolved, caps: applyFeatureFlags(resolved.caps, deps.config) };
}
