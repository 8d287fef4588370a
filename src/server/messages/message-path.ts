/**
 * Which Bedrock API serves a model: Claude natively through InvokeModel (the Anthropic body itself, so
 * every Claude feature survives), Bedrock's Anthropic Messages API (`messages` on bedrock-runtime,
 * `mantle` on the bedrock-mantle host) or Converse, as the config says — `claudePaths` per model glob
 * first, then `claudePath`; every other family through Converse. Messages and count_tokens ask here,
 * so a count is made on the body the real call would send.
 *
 * Where `claudePath` names a host that does not serve the model, the host that does wins (decided from
 * the cached catalogues, `model.servedBy`): a Claude model only bedrock-mantle lists goes to `mantle`,
 * and one the mantle list lacks goes to `invoke` when `claudePath` is `mantle`. A `claudePaths` entry
 * is the operator's word for that model and is never second-guessed.
 */
import type { Config } from '../../config/config.ts';
import type { ClaudePath } from '../../config/settings.ts';
import type { ModelCapabilities, ResolvedModel } from '../../models/types.ts';
import { globMatcher } from '../../upstream/upstreams.ts';

export type MessagePath = ClaudePath;

const matchers = new WeakMap<object, [(id: string) => boolean, ClaudePath][]>();

function perModel(paths: Readonly<Record<string, ClaudePath>>): [(id: string) => boolean, ClaudePath][] {
  let list = matchers.get(paths);
  if (!list) {
    list = Object.entries(paths).map(([glob, path]) => [globMatcher(glob), path]);
    matchers.set(paths, list);
  }
  return list;
}

export function messagePath(
  config: Pick<Config, 'claudePath'> & Partial<Pick<Config, 'claudePaths'>>,
  model: { caps: Pick<ModelCapabilities, 'family'> } & Partial<
    Pick<ResolvedModel, 'modelId' | 'baseModelId' | 'servedBy'>
  >,
  requested?: string,
): MessagePath {
  if (model.caps.family !== 'claude') return 'converse';
  const paths = config.claudePaths;
  if (paths && Object.keys(paths).length > 0) {
    const names = [requested, model.modelId, model.baseModelId].filter((n): n is string => !!n);
    for (const [matches, path] of perModel(paths)) if (names.some(matches)) return path;
  }
  if (model.servedBy === 'mantle') return 'mantle';
  if (model.servedBy === 'runtime' && config.claudePath === 'mantle') return 'invoke';
  return config.claudePath;
}
