import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import { snapshotOf, US_EAST_1 } from './catalogue.fixture.ts';
import { withMantleModels } from './catalogue.ts';
import { baseModelIdOf, resolveModel } from './resolve.ts';
import type { CatalogueSnapshot } from './types.ts';

const us = { region: 'us-east-1' };

describe('resolveModel: Claude names', () => {
  it('prefers the region geo profile for dated and dateless names', () => {
    for (const name of ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5']) {
      const r = resolveModel(name, US_EAST_1, us);
      expect(r).toMatchObject({
        requested: name,
        modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        baseModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      });
      expect(r.caps.family).toBe('claude');
    }
  });

  it('falls back to global. when the region has no geo profile, and to the bare on-demand id', () => {
    expect(resolveModel('claude-opus-5-5', US_EAST_1, us).modelId).toBe('global.anthropic.claude-opus-5-5');
    const sa = resolveModel('claude-sonnet-4-5', US_EAST_1, { region: 'sa-east-1' });
    expect(sa.modelId).toBe('global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    const onDemandOnly = snapshotOf('us-east-1', [
      { id: 'anthropic.claude-3-haiku-20240307-v1:0', onDemand: true },
    ]);
    expect(resolveModel('claude-3-haiku-20240307', onDemandOnly, us).modelId).toBe(
      'anthropic.claude-3-haiku-20240307-v1:0',
    );
  });

  it('picks the newest snapshot for -latest and dateless old-style names', () => {
    expect(resolveModel('claude-3-5-sonnet-latest', US_EAST_1, us).baseModelId).toBe(
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
    );
    expect(resolveModel('claude-3-5-sonnet-20240620', US_EAST_1, us).baseModelId).toBe(
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
    );
    expect(resolveModel('claude-3-7-sonnet-latest', US_EAST_1, us).modelId).toBe(
      'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
    );
  });

  it('resolves shorthands to the newest model of that line in the catalogue', () => {
    expect(resolveModel('sonnet', US_EAST_1, us).baseModelId).toBe('anthropic.claude-sonnet-5-5');
    expect(resolveModel('opus', US_EAST_1, us).baseModelId).toBe('anthropic.claude-opus-5-5');
    expect(resolveModel('haiku', US_EAST_1, us).baseModelId).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
  });

  it('serves a Claude release the code has never heard of, straight from the catalogue', () => {
    const future = snapshotOf('eu-west-1', [
      { id: 'anthropic.claude-sonnet-7-2', profiles: ['eu', 'global'] },
    ]);
    const r = resolveModel('claude-sonnet-7-2', future, { region: 'eu-west-1' });
    expect(r.modelId).toBe('eu.anthropic.claude-sonnet-7-2');
    expect(r.caps.reasoning).toMatchObject({ kind: 'anthropic', adaptive: true });
  });

  it('answers an unknown Claude name with not_found_error like Anthropic does', () => {
    let error: unknown;
    try {
      resolveModel('claude-sonnet-9-9', US_EAST_1, us);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 404,
      type: 'not_found_error',
      message: 'model: claude-sonnet-9-9',
    });
  });

  it('uses the built-in table when the catalogue has no Claude models', () => {
    const empty: CatalogueSnapshot = {
      region: 'eu-west-1',
      source: 'builtin',
      fetchedAt: 0,
      models: [],
      profiles: [],
    };
    expect(resolveModel('claude-opus-5-5', empty, { region: 'eu-west-1' }).modelId).toBe(
      'eu.anthropic.claude-opus-5-5',
    );
    expect(resolveModel('claude-sonnet-4-5-20250929', empty, { region: 'us-west-2' }).modelId).toBe(
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    expect(() => resolveModel('claude-sonnet-9-9', empty, us)).toThrow(ApiError);
  });
});

describe('resolveModel: overrides', () => {
  it('lets config map a Claude name to another model, whose family then decides the caps', () => {
    const r = resolveModel('claude-sonnet-4-5', US_EAST_1, {
      region: 'us-east-1',
      overrides: { 'claude-sonnet-4-5': 'qwen.qwen3-coder-480b-a35b-v1:0' },
    });
    expect(r).toMatchObject({ requested: 'claude-sonnet-4-5', modelId: 'qwen.qwen3-coder-480b-a35b-v1:0' });
    expect(r.caps.family).toBe('qwen');
  });

  it('matches prefix patterns, longest first, and may target another Claude name', () => {
    const overrides = { 'claude-*': 'openai.gpt-oss-120b-1:0', 'claude-opus-*': 'claude-sonnet-4-5' };
    expect(resolveModel('claude-haiku-4-5', US_EAST_1, { region: 'us-east-1', overrides }).caps.family).toBe(
      'gpt-oss',
    );
    expect(resolveModel('claude-opus-4-6', US_EAST_1, { region: 'us-east-1', overrides }).modelId).toBe(
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
  });
});

describe('resolveModel: pass-through', () => {
  it('passes Bedrock ids and profile ids unchanged and strips geo prefixes for the caps', () => {
    const r = resolveModel('us.amazon.nova-2-lite-v1:0', US_EAST_1, us);
    expect(r).toMatchObject({
      modelId: 'us.amazon.nova-2-lite-v1:0',
      baseModelId: 'amazon.nova-2-lite-v1:0',
    });
    expect(r.caps.reasoning.kind).toBe('nova');
    expect(resolveModel('global.anthropic.claude-opus-4-6-v1', US_EAST_1, us).caps.reasoning).toMatchObject({
      adaptive: true,
    });
    expect(resolveModel('apac.amazon.nova-pro-v1:0', US_EAST_1, us).baseModelId).toBe('amazon.nova-pro-v1:0');
  });

  it('calls the region profile for a bare id that Bedrock only serves through a profile', () => {
    // Llama 4 Maverick has no on-demand throughput: the bare id would be refused by Bedrock.
    expect(resolveModel('meta.llama4-maverick-17b-instruct-v1:0', US_EAST_1, us)).toMatchObject({
      modelId: 'us.meta.llama4-maverick-17b-instruct-v1:0',
      baseModelId: 'meta.llama4-maverick-17b-instruct-v1:0',
    });
    // On-demand models and unknown ids keep the id the client gave.
    expect(resolveModel('qwen.qwen3-coder-480b-a35b-v1:0', US_EAST_1, us).modelId).toBe(
      'qwen.qwen3-coder-480b-a35b-v1:0',
    );
    expect(resolveModel('acme.future-model-v9:0', US_EAST_1, us).modelId).toBe('acme.future-model-v9:0');
  });

  it('reads the model out of foundation-model and inference-profile ARNs', () => {
    expect(
      baseModelIdOf('arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-3-70b-instruct-v1:0', US_EAST_1),
    ).toBe('meta.llama3-3-70b-instruct-v1:0');
    const arn =
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const r = resolveModel(arn, US_EAST_1, us);
    expect(r.baseModelId).toBe('anthropic.claude-sonnet-4-5-20250929-v1:0');
  });

  it('calls what a foundation-model or system profile ARN stands for, whatever its region and account', () => {
    // Bedrock refuses an ARN of another region or another account's profile: the upstream gets the id.
    const profile = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    for (const account of ['123456789012', '999999999999']) {
      const arn = `arn:aws:bedrock:us-west-2:${account}:inference-profile/${profile}`;
      expect(resolveModel(arn, US_EAST_1, us).modelId).toBe(profile);
    }
    expect(
      resolveModel(
        'arn:aws:bedrock:eu-west-1::foundation-model/qwen.qwen3-coder-480b-a35b-v1:0',
        US_EAST_1,
        us,
      ).modelId,
    ).toBe('qwen.qwen3-coder-480b-a35b-v1:0');
    // A model Bedrock serves only through a profile: the region's profile, as for its bare id.
    expect(
      resolveModel(
        'arn:aws:bedrock:us-east-1::foundation-model/meta.llama4-maverick-17b-instruct-v1:0',
        US_EAST_1,
        us,
      ).modelId,
    ).toBe('us.meta.llama4-maverick-17b-instruct-v1:0');
    // One account's own resources stay as they are; so does anything that is not a Bedrock model ARN.
    for (const arn of [
      'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123',
      'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123def456',
      'arn:aws:s3:us-east-1::foundation-model/x.y',
    ]) {
      expect(resolveModel(arn, US_EAST_1, us).modelId).toBe(arn);
    }
  });

  it('uses the catalogue for application inference profiles and stays conservative when unknown', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
    const snap = snapshotOf(
      'us-east-1',
      [],
      [{ id: 'abc123', arn, type: 'APPLICATION', active: true, modelIds: ['openai.gpt-oss-20b-1:0'] }],
    );
    expect(resolveModel(arn, snap, us).caps.family).toBe('gpt-oss');
    const unknown = resolveModel(arn, US_EAST_1, us);
    expect(unknown.baseModelId).toBe(arn);
    expect(unknown.caps.family).toBe('other');
  });
});

describe('resolveModel: which host serves the model (servedBy)', () => {
  const runtime = snapshotOf('us-east-1', [
    { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', profiles: ['us'] },
    { id: 'anthropic.claude-haiku-4-5-20251001-v1:0', profiles: ['us'] },
  ]);
  const withMantle: CatalogueSnapshot = withMantleModels(runtime, [
    'anthropic.claude-sonnet-4-5-20250929-v1:0',
    'anthropic.claude-opus-5-5',
  ]);

  it('resolves a Claude name only mantle lists to its bare id, served by mantle', () => {
    for (const name of ['claude-opus-5-5', 'opus', 'anthropic.claude-opus-5-5']) {
      expect(resolveModel(name, withMantle, us)).toMatchObject({
        modelId: 'anthropic.claude-opus-5-5',
        baseModelId: 'anthropic.claude-opus-5-5',
        // One label however the model was named, so a dashboard sums its calls (and cost) in one row.
        metricsLabel: 'claude-opus-5-5',
        servedBy: 'mantle',
      });
    }
  });

  it('labels a Claude model in metrics by its Anthropic id however it was named (client name, Bedrock id, profile)', () => {
    for (const name of [
      'claude-sonnet-4-5',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]) {
      expect(resolveModel(name, runtime, us).metricsLabel, name).toBe('claude-sonnet-4-5-20250929');
    }
  });

  it('says runtime for a model the mantle list lacks, nothing where both serve it or no list was read', () => {
    expect(resolveModel('claude-haiku-4-5', withMantle, us).servedBy).toBe('runtime');
    expect(resolveModel('claude-sonnet-4-5', withMantle, us).servedBy).toBeUndefined();
    expect(resolveModel('claude-haiku-4-5', runtime, us).servedBy).toBeUndefined();
    // A name neither catalogue knows is passed through with no claim about its host.
    expect(resolveModel('anthropic.claude-nobody-1', withMantle, us).servedBy).toBeUndefined();
    expect(() => resolveModel('claude-opus-5-5', runtime, us)).toThrow(ApiError);
  });
});
