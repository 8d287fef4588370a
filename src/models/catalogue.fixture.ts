/** Catalogue snapshots for tests: a model list and its system profiles, as Bedrock would list them. */
import type { CatalogueModel, CatalogueProfile, CatalogueSnapshot } from './types.ts';

export interface FixtureModel {
  id: string;
  onDemand?: boolean;
  legacy?: boolean;
  /** Geo prefixes with a system profile, e.g. ['us', 'global']. */
  profiles?: string[];
  name?: string;
  output?: string[];
}

export function snapshotOf(
  region: string,
  models: FixtureModel[],
  extraProfiles: CatalogueProfile[] = [],
): CatalogueSnapshot {
  const catalogueModels: CatalogueModel[] = models.map((m) => ({
    modelId: m.id,
    name: m.name,
    inputModalities: ['TEXT'],
    outputModalities: m.output ?? ['TEXT'],
    onDemand: m.onDemand ?? false,
    active: !m.legacy,
  }));
  const profiles: CatalogueProfile[] = models.flatMap((m) =>
    (m.profiles ?? []).map((p) => ({
      id: `${p}.${m.id}`,
      arn: `arn:aws:bedrock:${region}:123456789012:inference-profile/${p}.${m.id}`,
      type: 'SYSTEM_DEFINED' as const,
      active: true,
      modelIds: [m.id],
    })),
  );
  return {
    region,
    source: 'live',
    fetchedAt: 0,
    models: catalogueModels,
    profiles: [...profiles, ...extraProfiles],
  };
}

/** A us-east-1 catalogue with a spread of Claude generations and open models. */
export const US_EAST_1 = snapshotOf('us-east-1', [
  { id: 'anthropic.claude-3-haiku-20240307-v1:0', onDemand: true, profiles: ['us'] },
  { id: 'anthropic.claude-3-5-sonnet-20240620-v1:0', onDemand: true, legacy: true, profiles: ['us'] },
  { id: 'anthropic.claude-3-5-sonnet-20241022-v2:0', legacy: true, profiles: ['us'] },
  { id: 'anthropic.claude-3-7-sonnet-20250219-v1:0', profiles: ['us'] },
  { id: 'anthropic.claude-sonnet-4-20250514-v1:0', profiles: ['us', 'global'] },
  { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', profiles: ['us', 'global'], name: 'Claude Sonnet 4.5' },
  { id: 'anthropic.claude-haiku-4-5-20251001-v1:0', profiles: ['us', 'global'] },
  { id: 'anthropic.claude-opus-4-6-v1', profiles: ['us', 'global'] },
  { id: 'anthropic.claude-opus-5-5', profiles: ['global'] },
  { id: 'anthropic.claude-sonnet-5-5', profiles: ['us', 'global'] },
  { id: 'qwen.qwen3-coder-480b-a35b-v1:0', onDemand: true },
  { id: 'openai.gpt-oss-120b-1:0', onDemand: true },
  { id: 'meta.llama4-maverick-17b-instruct-v1:0', profiles: ['us'] },
  { id: 'amazon.titan-embed-text-v2:0', onDemand: true, output: ['EMBEDDING'] },
]);
