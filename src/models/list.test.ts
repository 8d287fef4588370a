import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import { capabilitiesFor } from './capabilities.ts';
import { snapshotOf, US_EAST_1 } from './catalogue.fixture.ts';
import { withMantleModels } from './catalogue.ts';
import { allModels, toAnthropicModel, toAnthropicModelList } from './list.ts';

describe('toAnthropicModelList', () => {
  it('lists Claude models by the id Anthropic lists (dated, not also the alias) and the callable open models, not embeddings', () => {
    const ids = allModels(US_EAST_1).map((m) => m.id);
    expect(ids).toContain('claude-sonnet-4-5-20250929');
    expect(ids).toContain('claude-sonnet-4-20250514');
    // The dateless alias of a dated model is not listed (Claude Code's picker showed each model twice,
    // under one display name); it is still retrieved and called.
    expect(ids).not.toContain('claude-sonnet-4-5');
    expect(ids).not.toContain('claude-sonnet-4-0');
    expect(toAnthropicModel(US_EAST_1, 'claude-sonnet-4-5').display_name).toBe('Claude Sonnet 4.5');
    expect(ids).toContain('claude-opus-5-5');
    expect(ids).toContain('claude-3-7-sonnet-20250219');
    expect(ids).toContain('qwen.qwen3-coder-480b-a35b-v1:0');
    // Profile-only open models are listed by the id to call.
    expect(ids).toContain('us.meta.llama4-maverick-17b-instruct-v1:0');
    expect(ids).not.toContain('amazon.titan-embed-text-v2:0');
    expect(new Set(ids).size).toBe(ids.length);
    // Claude first, newest first.
    expect(['claude-opus-5-5', 'claude-sonnet-5-5']).toContain(ids[0]);
    expect(ids.indexOf('claude-3-haiku-20240307')).toBeLessThan(ids.indexOf('openai.gpt-oss-120b-1:0'));
    expect(ids.indexOf('claude-sonnet-4-5-20250929')).toBeLessThan(ids.indexOf('claude-3-7-sonnet-20250219'));
  });

  it('uses the catalogue name and the snapshot date, with the limits and line the SDK declares', () => {
    const m = allModels(US_EAST_1).find((x) => x.id === 'claude-sonnet-4-5-20250929');
    expect(m).toEqual({
      type: 'model',
      id: 'claude-sonnet-4-5-20250929',
      display_name: 'Claude Sonnet 4.5',
      created_at: '2025-09-29T00:00:00Z',
      max_input_tokens: capabilitiesFor('anthropic.claude-sonnet-4-5-20250929-v1:0').contextWindow,
      max_tokens: capabilitiesFor('anthropic.claude-sonnet-4-5-20250929-v1:0').maxOutputTokens,
      lifecycle: 'active',
      deprecated_at: null,
      retires_at: null,
      line: 'sonnet',
      capabilities: null,
    });
    const qwen = allModels(US_EAST_1).find((x) => x.id.startsWith('qwen.'));
    expect(qwen).toMatchObject({ line: null, lifecycle: 'active' });
    expect(qwen?.max_input_tokens).toBeGreaterThan(0);
  });

  it('leaves out Claude models the region cannot call', () => {
    const snap = snapshotOf('eu-west-1', [{ id: 'anthropic.claude-opus-4-6-v1', profiles: ['us'] }]);
    expect(allModels(snap)).toEqual([]);
  });

  it('pages with limit, after_id and before_id', () => {
    const all = allModels(US_EAST_1);
    const first = toAnthropicModelList(US_EAST_1, { limit: 3 });
    expect(first.data.map((m) => m.id)).toEqual(all.slice(0, 3).map((m) => m.id));
    expect(first).toMatchObject({ has_more: true, first_id: all[0]!.id, last_id: all[2]!.id });
    const second = toAnthropicModelList(US_EAST_1, { limit: 3, afterId: first.last_id! });
    expect(second.data[0]!.id).toBe(all[3]!.id);
    const back = toAnthropicModelList(US_EAST_1, { limit: 2, beforeId: second.first_id! });
    expect(back.data.map((m) => m.id)).toEqual(all.slice(1, 3).map((m) => m.id));
    expect(back.has_more).toBe(true);
    const everything = toAnthropicModelList(US_EAST_1, { limit: 1000 });
    expect(everything).toMatchObject({ has_more: false });
    expect(everything.data).toHaveLength(all.length);
  });

  it('answers an empty catalogue with an empty page', () => {
    expect(toAnthropicModelList(snapshotOf('us-east-1', []), {})).toEqual({
      data: [],
      has_more: false,
      first_id: null,
      last_id: null,
    });
  });
});

describe('toAnthropicModel', () => {
  it('finds listed ids and any servable Claude name, echoing the name asked for', () => {
    expect(toAnthropicModel(US_EAST_1, 'qwen.qwen3-coder-480b-a35b-v1:0').id).toBe(
      'qwen.qwen3-coder-480b-a35b-v1:0',
    );
    expect(toAnthropicModel(US_EAST_1, 'claude-3-7-sonnet-latest')).toMatchObject({
      id: 'claude-3-7-sonnet-latest',
      created_at: '2025-02-19T00:00:00Z',
    });
  });

  it('lists and finds a Claude model only the bedrock-mantle host serves', () => {
    const runtime = snapshotOf('us-east-1', [
      { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', profiles: ['us'] },
    ]);
    expect(allModels(runtime).map((m) => m.id)).not.toContain('claude-opus-5-5');
    const both = withMantleModels(runtime, ['anthropic.claude-opus-5-5']);
    expect(allModels(both).map((m) => m.id)).toEqual(['claude-opus-5-5', 'claude-sonnet-4-5-20250929']);
    expect(toAnthropicModel(both, 'opus')).toMatchObject({ id: 'opus', display_name: 'Claude Opus 5.5' });
  });

  it('finds the Bedrock ids /v1/messages takes (profile and foundation ids), echoing them', () => {
    const sonnet = toAnthropicModel(US_EAST_1, 'claude-sonnet-4-5-20250929');
    for (const id of [
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]) {
      expect(toAnthropicModel(US_EAST_1, id)).toEqual({ ...sonnet, id });
    }
    const qwen = toAnthropicModel(US_EAST_1, 'qwen.qwen3-coder-480b-a35b-v1:0');
    expect(qwen.id).toBe('qwen.qwen3-coder-480b-a35b-v1:0');
    expect(() => toAnthropicModel(US_EAST_1, 'us.anthropic.claude-nope-v1:0')).toThrow(ApiError);
  });

  it('404s on names it cannot serve', () => {
    expect(() => toAnthropicModel(US_EAST_1, 'claude-opus-9')).toThrow(ApiError);
    expect(() => toAnthropicModel(US_EAST_1, 'nope')).toThrow(/model: nope/);
  });
});
