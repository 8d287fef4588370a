/**
 * The seed converter's feature switches, applied by narrowing a model's capabilities: the translators
 * then drop (with warnings) or refuse what the model "cannot" do, exactly as for a model that truly
 * lacks the feature. Also picks the service tier the model can actually take.
 */
import type { Settings } from '../../config/config.ts';
import type { ModelCapabilities, ServiceTier } from '../../models/types.ts';

export type FeatureFlags = Pick<
  Settings,
  'enableToolUse' | 'enableExtendedThinking' | 'enableDocumentSupport' | 'promptCachingEnabled'
>;

export function applyFeatureFlags(caps: ModelCapabilities, flags: FeatureFlags): ModelCapabilities {
  const narrowed = { ...caps };
  if (!flags.promptCachingEnabled) narrowed.caching = false;
  if (!flags.enableExtendedThinking) {
    narrowed.reasoning = { kind: 'none' };
    narrowed.reasoningHistory = false;
  }
  if (!flags.enableDocumentSupport) narrowed.documents = false;
  if (!flags.enableToolUse) {
    narrowed.tools = false;
    narrowed.toolChoiceAny = false;
    narrowed.toolChoiceTool = false;
  }
  return narrowed;
}

/** The configured tier when the model offers it, else `default` with a warning. */
export function chooseServiceTier(
  wanted: ServiceTier,
  caps: ModelCapabilities,
): { tier: ServiceTier | undefined; warning?: string } {
  if (wanted === 'default') return { tier: undefined };
  if (caps.tiers.includes(wanted)) return { tier: wanted };
  return { tier: undefined, warning: `service tier '${wanted}' is not offered for this model; used default` };
}
