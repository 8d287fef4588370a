import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../models/capabilities.ts';
import { effortFromBudget, effortToLevel } from '../models/reasoning-levels.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { familyParams } from './family-params.ts';

const SONNET_45 = capabilitiesFor('anthropic.claude-sonnet-4-5-20250929-v1:0');
const OPUS_46 = capabilitiesFor('anthropic.claude-opus-4-6-v1');
const OPUS_47 = capabilitiesFor('anthropic.claude-opus-4-7');
const SONNET_55 = capabilitiesFor('anthropic.claude-sonnet-5-5');
const HAIKU_3 = capabilitiesFor('anthropic.claude-3-haiku-20240307-v1:0');
const GPT_OSS = capabilitiesFor('openai.gpt-oss-120b-1:0');
const NOVA_2 = capabilitiesFor('amazon.nova-2-lite-v1:0');
const NOVA_PRO = capabilitiesFor('amazon.nova-pro-v1:0');
const QWEN = capabilitiesFor('qwen.qwen3-coder-480b-a35b-v1:0');
const R1 = capabilitiesFor('deepseek.r1-v1:0');
const LLAMA = capabilitiesFor('meta.llama3-3-70b-instruct-v1:0');

describe('familyParams: Claude', () => {
  it("passes Claude Code's budget thinking for Sonnet 4.5 without display", () => {
    const p = familyParams(SONNET_45, {
      thinking: { type: 'enabled', budget_tokens: 31_999, display: 'omitted' },
      maxTokens: 32_000,
    });
    expect(p.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 31_999 } });
    expect(p).toMatchObject({ maxTokens: 32_000, reasoning: true, warnings: [] });
  });

  it("passes Claude Code's adaptive thinking, its display and effort for an adaptive model", () => {
    const p = familyParams(SONNET_55, {
      thinking: { type: 'adaptive', display: 'omitted' },
      effort: 'medium',
      maxTokens: 128_000,
    });
    expect(p.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive', display: 'omitted' } });
    expect(p).toMatchObject({ effort: 'medium', maxTokens: 128_000, reasoning: true, warnings: [] });
  });

  it('sends thinking.display to Opus 4.7 and later only (older models refuse the key)', () => {
    const summarized = { type: 'adaptive', display: 'summarized' } as const;
    expect(
      familyParams(OPUS_47, { thinking: summarized, maxTokens: 1_000 }).additionalModelRequestFields,
    ).toEqual({ thinking: summarized });
    // A budget on an adaptive-only model becomes adaptive and keeps its display.
    const budget = familyParams(OPUS_47, {
      thinking: { type: 'enabled', budget_tokens: 4_000, display: 'summarized' },
      maxTokens: 8_000,
    });
    expect(budget.additionalModelRequestFields).toEqual({ thinking: summarized });
    const opus46 = familyParams(OPUS_46, { thinking: summarized, maxTokens: 1_000 });
    expect(opus46.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' } });
    expect(opus46.warnings).toEqual([]);
    const updates = familyParams(OPUS_47, {
      thinking: { type: 'adaptive', display: 'updates' },
      maxTokens: 1_000,
    });
    expect(updates.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' } });
    expect(updates.warnings.join()).toMatch(/display "updates" is not accepted on Bedrock/);
  });

  it('turns a budget into adaptive + effort on adaptive-only models', () => {
    const p = familyParams(OPUS_47, {
      thinking: { type: 'enabled', budget_tokens: 10_000 },
      maxTokens: 32_000,
    });
    expect(p.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' } });
    expect(p.effort).toBe('medium');
    expect(p.warnings.join()).toMatch(/adaptive thinking only/);
  });

  it('keeps a manual budget on models that still accept it (Opus 4.6)', () => {
    const p = familyParams(OPUS_46, {
      thinking: { type: 'enabled', budget_tokens: 8_000 },
      maxTokens: 16_000,
    });
    expect(p.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 8_000 } });
  });

  it('turns adaptive into a budget below max_tokens on budget-only models', () => {
    const p = familyParams(SONNET_45, { thinking: { type: 'adaptive' }, effort: 'low', maxTokens: 20_000 });
    expect(p.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 4_096 } });
    const high = familyParams(SONNET_45, { thinking: { type: 'adaptive' }, maxTokens: 8_000 });
    expect(high.additionalModelRequestFields).toEqual({
      thinking: { type: 'enabled', budget_tokens: 7_999 },
    });
    // Effort itself is not a Sonnet 4.5 parameter, but pairing it with adaptive is Claude Code's normal shape.
    expect(p.effort).toBeUndefined();
    expect(p.warnings).toEqual([]);
  });

  it('keeps budget_tokens within [1024, max_tokens)', () => {
    const low = familyParams(SONNET_45, {
      thinking: { type: 'enabled', budget_tokens: 500 },
      maxTokens: 4_000,
    });
    expect(low.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 1_024 } });
    const over = familyParams(SONNET_45, {
      thinking: { type: 'enabled', budget_tokens: 10_000 },
      maxTokens: 4_000,
    });
    expect(over.additionalModelRequestFields).toEqual({
      thinking: { type: 'enabled', budget_tokens: 3_999 },
    });
    const tiny = familyParams(SONNET_45, {
      thinking: { type: 'enabled', budget_tokens: 2_000 },
      maxTokens: 1_000,
    });
    expect(tiny.additionalModelRequestFields).toEqual({});
    expect(tiny.reasoning).toBe(false);
    expect(tiny.warnings.join()).toMatch(/no room for thinking/);
  });

  it('drops sampling settings thinking forbids, with warnings', () => {
    const p = familyParams(OPUS_46, {
      thinking: { type: 'enabled', budget_tokens: 2_000 },
      maxTokens: 8_000,
      temperature: 0.2,
      topP: 0.5,
      topK: 40,
    });
    expect(p.temperature).toBeUndefined();
    expect(p.topP).toBeUndefined();
    expect(p.additionalModelRequestFields).not.toHaveProperty('top_k');
    expect(p.warnings).toHaveLength(3);
    const allowed = familyParams(SONNET_45, {
      thinking: { type: 'enabled', budget_tokens: 2_000 },
      maxTokens: 8_000,
      temperature: 1,
    });
    expect(allowed.temperature).toBe(1);
  });

  it('sends top_k and keeps one of temperature/top_p where the model forbids both', () => {
    const p = familyParams(SONNET_45, { maxTokens: 1_000, temperature: 0.5, topP: 0.9, topK: 5 });
    expect(p.additionalModelRequestFields).toEqual({ top_k: 5 });
    expect(p.temperature).toBe(0.5);
    expect(p.topP).toBeUndefined();
    const old = familyParams(HAIKU_3, { maxTokens: 1_000, temperature: 0.5, topP: 0.9 });
    expect(old).toMatchObject({ temperature: 0.5, topP: 0.9 });
  });

  it('never sends thinking: disabled, and says so where the model cannot stop thinking', () => {
    const off = familyParams(SONNET_45, { thinking: { type: 'disabled' }, maxTokens: 1_000 });
    expect(off).toMatchObject({ additionalModelRequestFields: {}, reasoning: false, warnings: [] });
    const always = familyParams(SONNET_55, { thinking: { type: 'disabled' }, maxTokens: 1_000 });
    expect(always.additionalModelRequestFields).toEqual({});
    expect(always.warnings.join()).toMatch(/always thinks/);
  });

  it('caps effort at high when thinking is off', () => {
    const p = familyParams(OPUS_46, { effort: 'max', maxTokens: 1_000 });
    expect(p.effort).toBe('high');
    expect(
      familyParams(OPUS_46, { thinking: { type: 'adaptive' }, effort: 'max', maxTokens: 1_000 }).effort,
    ).toBe('max');
  });

  it('drops thinking on Claude models without it, warning only for an explicit budget', () => {
    expect(
      familyParams(HAIKU_3, { thinking: { type: 'adaptive' }, effort: 'high', maxTokens: 1_000 }),
    ).toMatchObject({
      additionalModelRequestFields: {},
      warnings: [],
    });
    const explicit = familyParams(HAIKU_3, {
      thinking: { type: 'enabled', budget_tokens: 2_000 },
      maxTokens: 4_000,
    });
    expect(explicit.additionalModelRequestFields).toEqual({});
    expect(explicit.warnings).toHaveLength(1);
  });
});

describe('familyParams: max_tokens', () => {
  it("clamps max_tokens to the model's output limit with a warning", () => {
    const p = familyParams(LLAMA, { maxTokens: 32_000 });
    expect(p.maxTokens).toBe(LLAMA.maxOutputTokens);
    expect(p.warnings.join()).toMatch(/clamped/);
  });
});

describe('familyParams: gpt-oss (effort field)', () => {
  it.each([
    [{ thinking: { type: 'enabled' as const, budget_tokens: 31_999 } }, 'high'],
    [{ thinking: { type: 'enabled' as const, budget_tokens: 2_048 } }, 'low'],
    [{ thinking: { type: 'adaptive' as const } }, 'medium'],
    [{ thinking: { type: 'adaptive' as const }, effort: 'low' as const }, 'low'],
    [{ thinking: { type: 'adaptive' as const }, effort: 'max' as const }, 'high'],
    [{ effort: 'xhigh' as const }, 'high'],
  ])('%o → reasoning_effort %s', (input, level) => {
    const p = familyParams(GPT_OSS, { ...input, maxTokens: 4_000 });
    expect(p.additionalModelRequestFields).toEqual({ reasoning_effort: level });
    expect(p.reasoning).toBe(true);
  });

  it('maps disabled to the lowest level and says it cannot switch off', () => {
    const p = familyParams(GPT_OSS, { thinking: { type: 'disabled' }, maxTokens: 4_000 });
    expect(p.additionalModelRequestFields).toEqual({ reasoning_effort: 'low' });
    expect(p.warnings).toHaveLength(1);
  });

  it('sends nothing when the client asks nothing', () => {
    expect(familyParams(GPT_OSS, { maxTokens: 4_000 }).additionalModelRequestFields).toEqual({});
  });
});

describe('familyParams: Nova', () => {
  it('enables Nova 2 reasoning at the mapped effort and drops temperature/top_p', () => {
    const p = familyParams(NOVA_2, {
      thinking: { type: 'adaptive' },
      effort: 'low',
      maxTokens: 8_000,
      temperature: 0.3,
      topP: 0.9,
    });
    expect(p.additionalModelRequestFields).toEqual({
      reasoningConfig: { type: 'enabled', maxReasoningEffort: 'low' },
    });
    expect(p.temperature).toBeUndefined();
    expect(p.topP).toBeUndefined();
    expect(p.omitMaxTokens).toBeUndefined();
    expect(p.reasoning).toBe(true);
  });

  it('leaves maxTokens unset at high effort', () => {
    const p = familyParams(NOVA_2, {
      thinking: { type: 'enabled', budget_tokens: 31_999 },
      maxTokens: 32_000,
    });
    expect(p.additionalModelRequestFields).toEqual({
      reasoningConfig: { type: 'enabled', maxReasoningEffort: 'high' },
    });
    expect(p.omitMaxTokens).toBe(true);
  });

  it('keeps reasoning off when not asked, and nests top_k', () => {
    const p = familyParams(NOVA_2, { maxTokens: 1_000, topK: 20, temperature: 0.5 });
    expect(p.additionalModelRequestFields).toEqual({ inferenceConfig: { topK: 20 } });
    expect(p).toMatchObject({ temperature: 0.5, reasoning: false });
  });

  it('drops adaptive thinking silently on Nova v1', () => {
    const p = familyParams(NOVA_PRO, { thinking: { type: 'adaptive' }, effort: 'medium', maxTokens: 1_000 });
    expect(p).toMatchObject({ additionalModelRequestFields: {}, reasoning: false, warnings: [] });
  });
});

describe('familyParams: other controls', () => {
  it('sends nothing to always-reasoning models and marks the request as reasoning', () => {
    const p = familyParams(R1, { thinking: { type: 'adaptive' }, maxTokens: 4_000 });
    expect(p).toMatchObject({ additionalModelRequestFields: {}, reasoning: true, warnings: [] });
    expect(familyParams(R1, { thinking: { type: 'disabled' }, maxTokens: 4_000 }).warnings).toHaveLength(1);
  });

  it('warns about top_k where the model has no such field', () => {
    const caps: ModelCapabilities = { ...QWEN, topKField: null };
    const p = familyParams(caps, { maxTokens: 1_000, topK: 3 });
    expect(p.additionalModelRequestFields).toEqual({});
    expect(p.warnings.join()).toMatch(/top_k/);
  });

  it('switches a toggle model on and off', () => {
    const caps: ModelCapabilities = {
      ...QWEN,
      reasoning: {
        kind: 'toggle',
        on: { thinking: { type: 'enabled' } },
        off: { thinking: { type: 'disabled' } },
      },
    };
    expect(
      familyParams(caps, { thinking: { type: 'adaptive' }, maxTokens: 1_000 }).additionalModelRequestFields,
    ).toEqual({
      thinking: { type: 'enabled' },
    });
    expect(
      familyParams(caps, { thinking: { type: 'disabled' }, maxTokens: 1_000 }).additionalModelRequestFields,
    ).toEqual({
      thinking: { type: 'disabled' },
    });
  });
});

describe('reasoning levels', () => {
  it('maps budgets and efforts consistently', () => {
    expect(effortFromBudget(1_024)).toBe('low');
    expect(effortFromBudget(10_000)).toBe('medium');
    expect(effortFromBudget(31_999)).toBe('high');
    expect(effortFromBudget(100_000)).toBe('max');
    expect(effortToLevel('xhigh', ['low', 'medium', 'high'])).toBe('high');
    expect(effortToLevel('medium', ['low', 'high'])).toBe('low');
    expect(effortToLevel('low', ['medium', 'high'])).toBe('medium');
  });
});
