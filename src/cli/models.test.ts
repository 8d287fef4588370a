import { describe, expect, it } from 'vitest';
import type { CatalogueSnapshot } from '../models/types.ts';
import { collectModels, tokenCount } from './models.ts';

const model = (modelId: string, extra: Partial<CatalogueSnapshot['models'][number]> = {}) => ({
  modelId,
  inputModalities: ['TEXT'],
  outputModalities: ['TEXT'],
  onDemand: true,
  active: true,
  ...extra,
});

const snapshot: CatalogueSnapshot = {
  region: 'us-west-2',
  source: 'live',
  fetchedAt: 0,
  models: [
    model('anthropic.claude-sonnet-4-5-20250929-v1:0', { onDemand: false }),
    model('openai.gpt-oss-120b-1:0'),
    model('amazon.titan-embed-text-v2:0', { outputModalities: ['EMBEDDING'] }),
    model('meta.llama3-3-70b-instruct-v1:0', { onDemand: false }),
  ],
  profiles: [
    {
      id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      arn: 'arn:aws:bedrock:us-west-2::inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      type: 'SYSTEM_DEFINED',
      active: true,
      modelIds: ['anthropic.claude-sonnet-4-5-20250929-v1:0'],
    },
  ],
};

describe('collectModels', () => {
  it('with several upstreams, says which may serve each model in failover order', () => {
    const report = collectModels(snapshot, {
      upstreams: [{ name: 'claude-only', models: ['*anthropic.claude*'] }, { name: 'any' }],
    });
    expect(report.models.map((m) => [m.id, m.upstreams])).toEqual([
      ['claude-sonnet-4-5-20250929', ['claude-only', 'any']],
      ['openai.gpt-oss-120b-1:0', ['any']],
    ]);
    expect(collectModels(snapshot).models[0]!.upstreams).toBeUndefined();
  });

  it('lists callable text models, Claude by its Anthropic id through the region profile', () => {
    const report = collectModels(snapshot);
    expect(report.models.map((m) => [m.id, m.bedrockId])).toEqual([
      ['claude-sonnet-4-5-20250929', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
      ['openai.gpt-oss-120b-1:0', 'openai.gpt-oss-120b-1:0'],
    ]);
    expect(report.aliases.find((a) => a.alias === 'sonnet')?.bedrockId).toBe(
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
  });

  it('--all adds embedding models and models with no way to be called in the region', () => {
    const all = collectModels(snapshot, { all: true });
    const embed = all.models.find((m) => m.baseModelId === 'amazon.titan-embed-text-v2:0');
    expect(embed).toMatchObject({ text: false, callable: true });
    const llama = all.models.find((m) => m.baseModelId === 'meta.llama3-3-70b-instruct-v1:0');
    expect(llama).toMatchObject({ callable: false, bedrockId: null });
  });

  it('reports a config alias that cannot resolve instead of failing', () => {
    const report = collectModels(snapshot, { modelMap: { 'claude-opus-9': 'claude-opus-9-9' } });
    expect(report.aliases[0]).toMatchObject({ alias: 'claude-opus-9', via: 'config', bedrockId: null });
    expect(report.aliases[0]!.error).toMatch(/claude-opus-9-9/);
  });
});

describe('tokenCount', () => {
  it('writes limits the way model cards do', () => {
    expect(tokenCount(200_000)).toBe('200k');
    expect(tokenCount(131_072)).toBe('128k');
    expect(tokenCount(1_000_000)).toBe('1M');
    expect(tokenCount(4096)).toBe('4k');
    expect(tokenCount(999)).toBe('999');
  });
});
