/**
 * What each Bedrock model can do, keyed by its foundation model id (no geo prefix, no ARN).
 * A family gives the defaults; per-model overrides (regexes over the id, applied in order, later wins)
 * refine them. Unknown ids get a conservative default: text + tools, nothing else.
 *
 * Sources (checked November 2026):
 * - Converse feature table (system prompts, document chat, vision, tool use per model):
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-supported-models-features.html
 * - ToolChoice `any`/`tool`: "Only supported by Anthropic Claude 3 and Amazon Nova models" (tool);
 *   Mistral Large takes `any`: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolChoice.html
 * - Prompt caching GA: Claude 3.5 Haiku, 3.7 Sonnet and Claude 4.x, Nova Micro/Lite/Pro/Premier:
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html
 * - Adaptive thinking / effort models; Opus 4.7, Fable and Mythos refuse manual budgets:
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html
 * - searchResult content blocks: Claude 3.5 Haiku, 3.7 Sonnet, Sonnet 4 / 4.5, Opus 4 / 4.1 (SearchResultBlock
 *   in the Converse API reference); later Claude assumed alike. unverified for 4.5 Haiku and later.
 * - `thinking.display` (in additionalModelRequestFields.thinking, as on InvokeModel): the adaptive-only
 *   models, Opus 4.7 on, which omit thinking text unless asked (Anthropic's "What's new in Claude 4.7";
 *   claude-features.ts thinkingDisplay).
 * - CountTokens: Claude 3.5 Haiku, 3.5 Sonnet v1/v2, 3.7 Sonnet, Sonnet 4, Opus 4 (+ Haiku 4.5); models
 *   launched as cross-region only do not support it; Nova is refused:
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/count-tokens.html
 * - Nova 2 reasoningConfig {type, maxReasoningEffort}; Nova top_k is additionalModelRequestFields
 *   {inferenceConfig: {topK}}: https://docs.aws.amazon.com/nova/latest/nova2-userguide/extended-thinking.html,
 *   https://docs.aws.amazon.com/nova/latest/userguide/prompting-tool-troubleshooting.html
 * - gpt-oss takes additionalModelRequestFields.reasoning_effort (aws-samples and LiteLLM's Converse config).
 * - Claude context / output limits: Claude Code 2.1.331's model table (/work/shared/protocol-notes.md).
 * - Structured outputs (Converse outputConfig.textFormat and toolSpec.strict): Claude Sonnet 4.5, Haiku 4.5,
 *   Opus 4.5, Opus 4.6 (https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-structured-outputs.html;
 *   later Claude as on InvokeModel, claude-features.ts); open models per the supported-models section of
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html as models.dev mirrors it
 *   (PR #1326): Qwen3, DeepSeek V3.x, gpt-oss, Kimi K2 Thinking / K2.5, GLM 4.7 / 5, Mistral Large 3,
 *   Ministral 3, Magistral Small, Devstral 2, Voxtral, Gemma 3 12B/27B, Nemotron; not MiniMax, Llama, Nova.
 * Anything marked `unverified` is a conservative guess.
 */
import type { ModelCapabilities, ModelFamily, ServiceTier } from './types.ts';

type Overrides = Partial<Omit<ModelCapabilities, 'family'>>;

const DEFAULT_ONLY: readonly ServiceTier[] = ['default'];
// Flex/priority launched for open-weight models and Nova; Claude takes reserved capacity only. unverified
const OPEN_TIERS: readonly ServiceTier[] = ['default', 'flex', 'priority'];
const CLAUDE_TIERS: readonly ServiceTier[] = ['default', 'reserved'];

/** The conservative default for ids nobody knows: text + tools, nothing else. */
const BASE: ModelCapabilities = {
  family: 'other',
  tools: true,
  toolChoiceAny: false,
  toolChoiceTool: false,
  images: false,
  documents: false,
  reasoning: { kind: 'none' },
  reasoningHistory: false,
  caching: false,
  system: true,
  tiers: DEFAULT_ONLY,
  contextWindow: 128_000,
  maxOutputTokens: 4_096,
  countTokens: false,
  topKField: null,
};

const FAMILY_DEFAULTS: Record<ModelFamily, Overrides> = {
  claude: {
    toolChoiceAny: true,
    toolChoiceTool: true,
    images: true,
    documents: true,
    reasoningHistory: true,
    tiers: CLAUDE_TIERS,
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    topKField: 'top_k',
    // Tried for every Claude model; a refusal is remembered per model at run time (count-tokens.ts).
    countTokens: true,
  },
  nova: {
    toolChoiceAny: true,
    toolChoiceTool: true,
    images: true,
    documents: true,
    caching: true,
    tiers: OPEN_TIERS,
    contextWindow: 300_000,
    maxOutputTokens: 10_000, // unverified (Nova v1 output cap)
    topKField: 'inferenceConfig.topK',
  },
  // No top_k: Bedrock documents no extra request fields for Qwen, and an unknown one is a 400 (dropping is safe).
  // Bedrock refuses stopSequences for Qwen3 (dify-official-plugins#1767) and gpt-oss (crewAI#3317,
  // langchain4j#3650), even an empty list.
  qwen: { tiers: OPEN_TIERS, contextWindow: 262_144, maxOutputTokens: 32_768, stopSequences: false }, // unverified limits
  deepseek: { documents: true, tiers: OPEN_TIERS, contextWindow: 128_000, maxOutputTokens: 32_768 }, // unverified
  kimi: { contextWindow: 256_000, maxOutputTokens: 32_768 }, // unverified
  minimax: { reasoning: { kind: 'always' }, contextWindow: 196_608, maxOutputTokens: 32_768 }, // unverified
  glm: { reasoning: { kind: 'always' }, contextWindow: 200_000, maxOutputTokens: 32_768 }, // unverified
  'gpt-oss': {
    structuredOutputs: true,
    reasoning: { kind: 'effort-field', field: 'reasoning_effort', levels: ['low', 'medium', 'high'] },
    tiers: OPEN_TIERS,
    contextWindow: 128_000,
    maxOutputTokens: 32_768, // unverified
    stopSequences: false,
  },
  // Converse: Llama has system prompts and document chat; tool use from 3.1 on (overrides below).
  llama: {
    tools: false,
    streamingTools: false,
    documents: true,
    contextWindow: 128_000,
    maxOutputTokens: 2_048,
  },
  mistral: { documents: true, contextWindow: 32_000, maxOutputTokens: 8_192, topKField: 'top_k' },
  cohere: { documents: true, contextWindow: 128_000, maxOutputTokens: 4_096, topKField: 'k' },
  ai21: { documents: true, contextWindow: 256_000, maxOutputTokens: 4_096 },
  // Titan: no system prompts, no tools (Converse table).
  titan: { tools: false, system: false, documents: true, contextWindow: 32_000, maxOutputTokens: 4_096 },
  writer: { contextWindow: 128_000, maxOutputTokens: 8_192 }, // unverified
  other: {},
};

/** Family by foundation model id; order matters only where patterns could overlap. */
const FAMILY_PATTERNS: ReadonlyArray<readonly [RegExp, ModelFamily]> = [
  [/^anthropic\.|^claude-/, 'claude'],
  [/^amazon\.nova/, 'nova'],
  [/^amazon\.titan/, 'titan'],
  [/^qwen\./, 'qwen'],
  [/^deepseek\./, 'deepseek'],
  [/^moonshot(ai)?\.|kimi/, 'kimi'],
  [/^minimax\./, 'minimax'],
  [/^(zai|z-ai|zhipu)\.|glm-/, 'glm'],
  [/^openai\.gpt-oss/, 'gpt-oss'],
  [/^meta\./, 'llama'],
  [/^mistral\./, 'mistral'],
  [/^cohere\./, 'cohere'],
  [/^ai21\./, 'ai21'],
  [/^writer\./, 'writer'],
];

const CLAUDE_ADAPTIVE = { kind: 'anthropic', adaptive: true, effort: true } as const;
const CLAUDE_ADAPTIVE_ONLY = { ...CLAUDE_ADAPTIVE, budget: false, display: true } as const;
const CLAUDE_ALWAYS_THINKS = { ...CLAUDE_ADAPTIVE_ONLY, canDisable: false } as const;
const CLAUDE_BUDGET = { kind: 'anthropic', adaptive: false } as const;

/** Per-model refinements, matched against the foundation id; later entries win. */
const MODEL_OVERRIDES: ReadonlyArray<{ family: ModelFamily; match: RegExp; caps: Overrides }> = [
  // ---- Claude ----
  { family: 'claude', match: /claude-3-haiku/, caps: { maxOutputTokens: 4_096 } },
  // 3.5 Haiku: no vision in the Converse table.
  { family: 'claude', match: /claude-3-5-haiku/, caps: { images: false, caching: true } },
  {
    family: 'claude',
    match: /claude-(3-5-haiku|3-7-sonnet|(sonnet|opus|haiku)-\d|fable|mythos)/,
    caps: { searchResults: true },
  },
  {
    family: 'claude',
    match: /claude-3-7-sonnet/,
    caps: { reasoning: CLAUDE_BUDGET, caching: true, maxOutputTokens: 64_000 },
  },
  {
    family: 'claude',
    match: /claude-(sonnet|opus|haiku)-4/,
    caps: { reasoning: CLAUDE_BUDGET, caching: true, maxOutputTokens: 64_000 },
  },
  { family: 'claude', match: /claude-opus-4-(\d{8}|1-)/, caps: { maxOutputTokens: 32_000 } },
  // Opus 4.1 and the 4.5 generation refuse temperature together with top_p.
  { family: 'claude', match: /claude-(opus-4-1|(sonnet|opus|haiku)-4-5)/, caps: { exclusiveSampling: true } },
  { family: 'claude', match: /claude-opus-4-5/, caps: { reasoning: { ...CLAUDE_BUDGET, effort: true } } },
  {
    family: 'claude',
    match: /claude-(sonnet|opus)-4-6/,
    // A 1M window without the context-1m beta Sonnet 4 and 4.5 needed (Anthropic's model pages).
    caps: {
      reasoning: CLAUDE_ADAPTIVE,
      contextWindow: 1_000_000,
      maxOutputTokens: 128_000,
      exclusiveSampling: true,
    },
  },
  {
    family: 'claude',
    match: /claude-opus-4-[78]/,
    caps: {
      reasoning: CLAUDE_ADAPTIVE_ONLY,
      contextWindow: 1_000_000,
      maxOutputTokens: 128_000,
      exclusiveSampling: true,
    },
  },
  // Generation 5 and later (incl. Fable, Mythos): 1M context, adaptive only. `\d+` keeps future minors covered.
  {
    family: 'claude',
    match: /claude-((sonnet|opus|haiku)-([5-9]|\d\d)|fable|mythos)/,
    caps: {
      reasoning: CLAUDE_ADAPTIVE_ONLY,
      caching: true,
      contextWindow: 1_000_000,
      maxOutputTokens: 128_000,
      exclusiveSampling: true,
    },
  },
  // The 1-hour cache TTL and structured outputs: Claude 4.5 and later (prompt-caching and
  // structured-outputs pages; the native table's cacheTtl and outputFormat).
  {
    family: 'claude',
    match: /claude-((sonnet|opus|haiku)-(4-[5-9]|[5-9]|\d\d)|fable|mythos)/,
    caps: { cacheTtl: true, structuredOutputs: true },
  },
  // These refuse thinking: disabled (Claude Code's table: *-5-5, every Fable; AWS: Mythos).
  {
    family: 'claude',
    match: /claude-((sonnet|opus|haiku)-5-5|fable|mythos)/,
    caps: { reasoning: CLAUDE_ALWAYS_THINKS },
  },

  // ---- Nova ----
  { family: 'nova', match: /nova-micro/, caps: { images: false, documents: false, contextWindow: 128_000 } },
  { family: 'nova', match: /nova-premier/, caps: { contextWindow: 1_000_000, maxOutputTokens: 32_000 } },
  {
    family: 'nova',
    match: /nova-2-/,
    caps: {
      reasoning: { kind: 'nova' },
      contextWindow: 1_000_000,
      maxOutputTokens: 65_535, // unverified
    },
  },

  // ---- Qwen ----
  { family: 'qwen', match: /qwen3-32b/, caps: { contextWindow: 131_072, maxOutputTokens: 16_384 } }, // unverified
  { family: 'qwen', match: /qwen3-.*vl/, caps: { images: true } },
  { family: 'qwen', match: /qwen3-next/, caps: { contextWindow: 262_144 } },
  // Thinking variants reason on every turn with no knob. unverified
  { family: 'qwen', match: /thinking/, caps: { reasoning: { kind: 'always' } } },
  { family: 'qwen', match: /qwen3/, caps: { structuredOutputs: true } },

  // ---- DeepSeek ----
  // R1: always reasons; no tool use on Bedrock (Converse table). unverified that it is still so.
  {
    family: 'deepseek',
    match: /deepseek\.r1/,
    caps: { tools: false, reasoning: { kind: 'always' }, tiers: DEFAULT_ONLY, contextWindow: 128_000 },
  },
  {
    family: 'deepseek',
    match: /deepseek\.v3/,
    caps: { contextWindow: 163_840, maxOutputTokens: 32_768, structuredOutputs: true },
  },

  // ---- Kimi ----
  { family: 'kimi', match: /thinking/, caps: { reasoning: { kind: 'always' } } },
  { family: 'kimi', match: /kimi-k2(-thinking|\.5)/, caps: { structuredOutputs: true } },

  // ---- GLM ----
  { family: 'glm', match: /glm-(4\.7|5)/, caps: { structuredOutputs: true } },

  // ---- Llama ----
  { family: 'llama', match: /llama3-[123]-|llama3-3|llama4/, caps: { tools: true } },
  { family: 'llama', match: /llama3-2-(1b|3b)/, caps: { tools: false } },
  { family: 'llama', match: /llama3-2-(11b|90b)/, caps: { images: true } },
  { family: 'llama', match: /llama3-(8b|70b)-instruct/, caps: { contextWindow: 8_192 } },
  { family: 'llama', match: /llama4/, caps: { images: true, maxOutputTokens: 8_192 } }, // unverified output cap

  // ---- Mistral ----
  {
    family: 'mistral',
    match: /mistral-large/,
    // Tool use, but not while streaming (Converse supported-features table).
    caps: { tools: true, streamingTools: false, toolChoiceAny: true, contextWindow: 128_000 },
  },
  // Large 2 (24.07) and Pixtral take Mistral's chat format, which has no top_k (24.02 and the 7B /
  // Mixtral text-completion models do): sent, Bedrock refuses the key.
  { family: 'mistral', match: /mistral-large-2407/, caps: { topKField: null } },
  { family: 'mistral', match: /mistral-small/, caps: { tools: true } },
  {
    family: 'mistral',
    match: /pixtral/,
    caps: { tools: true, toolChoiceAny: true, images: true, contextWindow: 128_000, topKField: null },
  },
  // 7B / Mixtral: no tools and no system prompts in the Converse table.
  { family: 'mistral', match: /mistral-7b|mixtral/, caps: { tools: false, system: false } },
  { family: 'mistral', match: /magistral/, caps: { reasoning: { kind: 'always' }, contextWindow: 128_000 } }, // unverified
  {
    family: 'mistral',
    match: /mistral-large-3|ministral-3|magistral-small|devstral-2|voxtral/,
    caps: { structuredOutputs: true },
  },

  // ---- Cohere ----
  { family: 'cohere', match: /command-(text|light)/, caps: { tools: false, system: false } },

  // ---- AI21 ----
  { family: 'ai21', match: /jamba-instruct/, caps: { tools: false, documents: false } },

  // ---- Titan ----
  { family: 'titan', match: /titan-text-premier/, caps: { documents: false, maxOutputTokens: 3_072 } },

  // ---- Families the table does not name ----
  {
    family: 'other',
    match: /^google\.gemma-3-(12|27)b|^nvidia\.nemotron/,
    caps: { structuredOutputs: true },
  },

  // ---- Writer ----
  { family: 'writer', match: /palmyra-x5/, caps: { contextWindow: 1_000_000 } },
];

export function familyOf(baseModelId: string): ModelFamily {
  const id = baseModelId.toLowerCase();
  for (const [pattern, family] of FAMILY_PATTERNS) if (pattern.test(id)) return family;
  return 'other';
}

const cache = new Map<string, ModelCapabilities>();

export function capabilitiesFor(baseModelId: string): ModelCapabilities {
  const id = baseModelId.toLowerCase();
  const cached = cache.get(id);
  if (cached) return cached;
  const family = familyOf(id);
  let caps: ModelCapabilities = { ...BASE, ...FAMILY_DEFAULTS[family], family };
  for (const o of MODEL_OVERRIDES) {
    if (o.family === family && o.match.test(id)) caps = { ...caps, ...o.caps };
  }
  const frozen = Object.freeze(caps);
  if (cache.size < 1_000) cache.set(id, frozen);
  return frozen;
}
