import { describe, expect, it } from 'vitest';
import type { ModelCapabilities } from '../../models/types.ts';
import { CLAUDE } from '../../translate/caps.fixture.ts';
import { applyFeatureFlags, chooseServiceTier } from './feature-flags.ts';

const caps: ModelCapabilities = {
  ...CLAUDE,
  reasoning: { kind: 'anthropic', adaptive: false },
  tiers: ['default', 'priority'],
};
const allOn = {
  enableToolUse: true,
  enableExtendedThinking: true,
  enableDocumentSupport: true,
  promptCachingEnabled: true,
};

describe('applyFeatureFlags', () => {
  it('leaves capabilities alone when every switch is on', () => {
    expect(applyFeatureFlags(caps, allOn)).toEqual(caps);
  });

  it('turns off caching, reasoning, documents and tools by switch', () => {
    const off = applyFeatureFlags(caps, {
      enableToolUse: false,
      enableExtendedThinking: false,
      enableDocumentSupport: false,
      promptCachingEnabled: false,
    });
    expect(off).toMatchObject({ caching: false, documents: false, tools: false, toolChoiceAny: false });
    expect(off.reasoning).toEqual({ kind: 'none' });
    expect(caps.caching).toBe(true);
  });
});

describe('chooseServiceTier', () => {
  it('uses a tier the model offers and falls back to default with a warning otherwise', () => {
    expect(chooseServiceTier('priority', caps)).toEqual({ tier: 'priority' });
    const flex = chooseServiceTier('flex', caps);
    expect(flex.tier).toBeUndefined();
    expect(flex.warning).toMatch(/flex/);
    expect(chooseServiceTier('default', caps)).toEqual({ tier: undefined });
  });
});
