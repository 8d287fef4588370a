/**
 * Capability objects for the request-translation tests, written out in full so the tests state what
 * they assume about a model instead of depending on the live capability table.
 */
import type { ModelCapabilities } from '../models/types.ts';
import type { BlockContext } from './block-context.ts';
import { DocumentNames } from './document-name.ts';
import { ToolNameMap } from './tool-names.ts';

export const CLAUDE: ModelCapabilities = {
  family: 'claude',
  tools: true,
  toolChoiceAny: true,
  toolChoiceTool: true,
  images: true,
  documents: true,
  reasoning: { kind: 'anthropic', adaptive: true, effort: true },
  reasoningHistory: true,
  caching: true,
  system: true,
  tiers: ['default', 'reserved'],
  contextWindow: 200_000,
  maxOutputTokens: 64_000,
  countTokens: true,
  topKField: 'top_k',
};

/** An open-weight model that reasons and takes its reasoning back, but sees no images or documents. */
export const OPEN: ModelCapabilities = {
  family: 'qwen',
  tools: true,
  toolChoiceAny: false,
  toolChoiceTool: false,
  images: false,
  documents: false,
  reasoning: { kind: 'always' },
  reasoningHistory: true,
  caching: false,
  system: true,
  tiers: ['default', 'flex', 'priority'],
  contextWindow: 262_144,
  maxOutputTokens: 32_768,
  countTokens: false,
  topKField: 'top_k',
};

/** A plain text model: no tools, no system prompt, nothing else. */
export const TEXT_ONLY: ModelCapabilities = {
  ...OPEN,
  family: 'other',
  tools: false,
  reasoning: { kind: 'none' },
  reasoningHistory: false,
  system: false,
};

export const SECRET = 'test-signing-secret';

export function blockContext(caps: ModelCapabilities, toolNames: string[] = []): BlockContext {
  return {
    modelId: `model-${caps.family}`,
    caps,
    signingSecret: SECRET,
    toolNames: new ToolNameMap(toolNames),
    documentNames: new DocumentNames(),
    warnings: new Set(),
  };
}
