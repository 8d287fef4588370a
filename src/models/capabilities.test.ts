import { describe, expect, it } from 'vitest';
import { capabilitiesFor, familyOf } from './capabilities.ts';
import { claudeFeaturesFor } from './claude-features.ts';

describe('familyOf', () => {
  it.each([
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude'],
    ['amazon.nova-pro-v1:0', 'nova'],
    ['amazon.nova-2-lite-v1:0', 'nova'],
    ['amazon.titan-text-express-v1', 'titan'],
    ['qwen.qwen3-coder-480b-a35b-v1:0', 'qwen'],
    ['deepseek.r1-v1:0', 'deepseek'],
    ['deepseek.v3-v1:0', 'deepseek'],
    ['moonshot.kimi-k2-thinking', 'kimi'],
    ['minimax.minimax-m2', 'minimax'],
    ['zai.glm-4.6', 'glm'],
    ['openai.gpt-oss-20b-1:0', 'gpt-oss'],
    ['meta.llama3-3-70b-instruct-v1:0', 'llama'],
    ['mistral.mistral-large-2407-v1:0', 'mistral'],
    ['cohere.command-r-plus-v1:0', 'cohere'],
    ['ai21.jamba-1-5-large-v1:0', 'ai21'],
    ['writer.palmyra-x5-v1:0', 'writer'],
    ['acme.unknown-model-v1', 'other'],
  ])('%s → %s', (id, family) => {
    expect(familyOf(id)).toBe(family);
  });
});

describe('capabilitiesFor', () => {
  it('knows which models have structured outputs on Converse (outputConfig.textFormat, tool strict)', () => {
    const yes = [
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-haiku-4-5-20251001-v1:0',
      'anthropic.claude-opus-4-6-v1',
      'anthropic.claude-opus-4-7',
      'qwen.qwen3-coder-480b-a35b-v1:0',
      'qwen.qwen3-32b-v1:0',
      'deepseek.v3-v1:0',
      'deepseek.v3.2',
      'openai.gpt-oss-120b-1:0',
      'moonshot.kimi-k2-thinking',
      'moonshotai.kimi-k2.5',
      'zai.glm-4.7',
      'mistral.mistral-large-3-675b-instruct',
      'mistral.ministral-3-8b-instruct',
      'google.gemma-3-27b-it',
      'nvidia.nemotron-nano-12b-v2',
    ];
    const no = [
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'anthropic.claude-3-7-sonnet-20250219-v1:0',
      'deepseek.r1-v1:0',
      'minimax.minimax-m2',
      'zai.glm-4.6',
      'meta.llama3-3-70b-instruct-v1:0',
      'amazon.nova-pro-v1:0',
      'mistral.mistral-large-2407-v1:0',
      'acme.unknown-model-v1',
    ];
    for (const id of yes) expect([id, capabilitiesFor(id).structuredOutputs]).toEqual([id, true]);
    for (const id of no) expect([id, capabilitiesFor(id).structuredOutputs ?? false]).toEqual([id, false]);
  });

  it('gives unknown ids a conservative default: text and tools only', () => {
    const caps = capabilitiesFor('acme.unknown-model-v1');
    expect(caps).toMatchObject({
      family: 'other',
      tools: true,
      images: false,
      documents: false,
      caching: false,
      reasoning: { kind: 'none' },
      tiers: ['default'],
      countTokens: false,
    });
  });

  it('knows the Claude generations apart', () => {
    expect(capabilitiesFor('anthropic.claude-3-haiku-20240307-v1:0')).toMatchObject({
      reasoning: { kind: 'none' },
      maxOutputTokens: 4_096,
      images: true,
    });
    // 3.5 Haiku has no vision on Bedrock.
    expect(capabilitiesFor('anthropic.claude-3-5-haiku-20241022-v1:0')).toMatchObject({
      images: false,
      caching: true,
    });
    expect(capabilitiesFor('anthropic.claude-3-7-sonnet-20250219-v1:0').reasoning).toEqual({
      kind: 'anthropic',
      adaptive: false,
    });
    const sonnet45 = capabilitiesFor('anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(sonnet45).toMatchObject({
      maxOutputTokens: 64_000,
      contextWindow: 200_000,
      exclusiveSampling: true,
    });
    expect(sonnet45.reasoning).toMatchObject({ kind: 'anthropic', adaptive: false });
    expect(capabilitiesFor('anthropic.claude-opus-4-1-20250805-v1:0').maxOutputTokens).toBe(32_000);
    expect(capabilitiesFor('anthropic.claude-opus-4-5-20251101-v1:0').reasoning).toMatchObject({
      effort: true,
    });
    expect(capabilitiesFor('anthropic.claude-opus-4-6-v1')).toMatchObject({
      reasoning: { kind: 'anthropic', adaptive: true, effort: true },
      maxOutputTokens: 128_000,
      contextWindow: 1_000_000,
    });
    // Sonnet 4.6 has its 1M window without a beta; a 200k one made Claude Code compact at a fifth of it.
    expect(capabilitiesFor('anthropic.claude-sonnet-4-6').contextWindow).toBe(1_000_000);
    expect(capabilitiesFor('anthropic.claude-opus-4-7').reasoning).toMatchObject({
      adaptive: true,
      budget: false,
    });
  });

  it('treats generation 5 and later (and future minors) as 1M-context adaptive models', () => {
    for (const id of [
      'anthropic.claude-sonnet-5',
      'anthropic.claude-opus-5-5',
      'anthropic.claude-haiku-6-1',
    ]) {
      const caps = capabilitiesFor(id);
      expect(caps.contextWindow, id).toBe(1_000_000);
      expect(caps.reasoning, id).toMatchObject({ kind: 'anthropic', adaptive: true, budget: false });
    }
    expect(capabilitiesFor('anthropic.claude-sonnet-5').reasoning).not.toMatchObject({ canDisable: false });
    expect(capabilitiesFor('anthropic.claude-opus-5-5').reasoning).toMatchObject({ canDisable: false });
    expect(capabilitiesFor('anthropic.claude-fable-5-1').reasoning).toMatchObject({ canDisable: false });
  });

  it('tries CountTokens for every Claude model (refusals are remembered at run time), no other family', () => {
    for (const id of [
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'anthropic.claude-3-7-sonnet-20250219-v1:0',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-haiku-4-5-20251001-v1:0',
      'anthropic.claude-opus-4-5-20251101-v1:0',
      'anthropic.claude-opus-4-1-20250805-v1:0',
      'anthropic.claude-sonnet-4-6',
      'anthropic.claude-opus-4-6-v1',
    ]) {
      expect(capabilitiesFor(id).countTokens, id).toBe(true);
    }
    expect(capabilitiesFor('amazon.nova-pro-v1:0').countTokens).toBe(false);
  });

  it('gives the 1-hour cache TTL to Claude 4.5 and later only, as the native table does', () => {
    for (const id of [
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-haiku-4-5-20251001-v1:0',
      'anthropic.claude-opus-4-5-20251101-v1:0',
      'anthropic.claude-sonnet-4-6',
      'anthropic.claude-opus-4-7',
      'anthropic.claude-sonnet-5',
      'anthropic.claude-opus-5-5',
    ]) {
      expect(capabilitiesFor(id).cacheTtl, id).toBe(true);
      expect(claudeFeaturesFor(id).cacheTtl, id).toBe(true);
    }
    for (const id of [
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'anthropic.claude-opus-4-1-20250805-v1:0',
      'anthropic.claude-3-7-sonnet-20250219-v1:0',
      'amazon.nova-pro-v1:0',
    ]) {
      expect(capabilitiesFor(id).cacheTtl ?? false, id).toBe(false);
    }
  });

  it('separates Nova micro (text only) from the multimodal Novas, and Nova 2 reasons', () => {
    expect(capabilitiesFor('amazon.nova-micro-v1:0')).toMatchObject({ images: false, documents: false });
    expect(capabilitiesFor('amazon.nova-lite-v1:0')).toMatchObject({
      images: true,
      documents: true,
      caching: true,
    });
    expect(capabilitiesFor('amazon.nova-premier-v1:0').contextWindow).toBe(1_000_000);
    expect(capabilitiesFor('amazon.nova-pro-v1:0').reasoning.kind).toBe('none');
    expect(capabilitiesFor('amazon.nova-2-lite-v1:0').reasoning.kind).toBe('nova');
    expect(capabilitiesFor('amazon.nova-pro-v1:0').topKField).toBe('inferenceConfig.topK');
  });

  it("sends top_k to Mistral's text-completion models only (its chat format has none)", () => {
    expect(capabilitiesFor('mistral.mixtral-8x7b-instruct-v0:1').topKField).toBe('top_k');
    expect(capabilitiesFor('mistral.mistral-large-2402-v1:0').topKField).toBe('top_k');
    expect(capabilitiesFor('mistral.mistral-large-2407-v1:0').topKField).toBeNull();
    expect(capabilitiesFor('us.mistral.pixtral-large-2502-v1:0').topKField).toBeNull();
  });

  it('maps open-weight reasoning controls', () => {
    expect(capabilitiesFor('openai.gpt-oss-120b-1:0').reasoning).toEqual({
      kind: 'effort-field',
      field: 'reasoning_effort',
      levels: ['low', 'medium', 'high'],
    });
    expect(capabilitiesFor('deepseek.r1-v1:0')).toMatchObject({
      reasoning: { kind: 'always' },
      tools: false,
    });
    expect(capabilitiesFor('deepseek.v3-v1:0')).toMatchObject({ reasoning: { kind: 'none' }, tools: true });
    expect(capabilitiesFor('moonshot.kimi-k2-thinking').reasoning.kind).toBe('always');
    expect(capabilitiesFor('qwen.qwen3-coder-480b-a35b-v1:0')).toMatchObject({ tools: true, images: false });
    expect(capabilitiesFor('qwen.qwen3-vl-235b-a22b').images).toBe(true);
  });

  it('gives Llama tools from 3.1 on and vision on 3.2 11b/90b and Llama 4', () => {
    expect(capabilitiesFor('meta.llama3-8b-instruct-v1:0').tools).toBe(false);
    expect(capabilitiesFor('meta.llama3-1-70b-instruct-v1:0')).toMatchObject({ tools: true, images: false });
    expect(capabilitiesFor('meta.llama3-2-3b-instruct-v1:0').tools).toBe(false);
    expect(capabilitiesFor('meta.llama3-2-90b-instruct-v1:0')).toMatchObject({ tools: true, images: true });
    expect(capabilitiesFor('meta.llama4-scout-17b-instruct-v1:0')).toMatchObject({
      tools: true,
      images: true,
    });
  });

  it('knows families without system prompts or tools', () => {
    expect(capabilitiesFor('amazon.titan-text-express-v1')).toMatchObject({ system: false, tools: false });
    expect(capabilitiesFor('mistral.mistral-7b-instruct-v0:2')).toMatchObject({
      system: false,
      tools: false,
    });
    expect(capabilitiesFor('mistral.pixtral-large-2502-v1:0')).toMatchObject({ images: true, tools: true });
  });

  it('always lists the default tier first', () => {
    for (const id of [
      'anthropic.claude-opus-4-6-v1',
      'openai.gpt-oss-20b-1:0',
      'acme.x',
      'amazon.nova-pro-v1:0',
    ]) {
      expect(capabilitiesFor(id).tiers[0]).toBe('default');
    }
  });
});
