/**
 * What a model can do, per family. The request translators ask this table instead of testing model
 * names; the family of the *resolved* Bedrock id decides the shape of the request.
 */

export type ServiceTier = 'default' | 'flex' | 'priority' | 'reserved';

export type ModelFamily =
  | 'claude'
  | 'nova'
  | 'qwen'
  | 'deepseek'
  | 'kimi'
  | 'minimax'
  | 'glm'
  | 'gpt-oss'
  | 'llama'
  | 'mistral'
  | 'cohere'
  | 'ai21'
  | 'titan'
  | 'writer'
  | 'other';

/** How a family is asked to reason (the request side of thinking/effort). */
export type ReasoningControl =
  /** Never reasons: `thinking` is dropped with a warning. */
  | { kind: 'none' }
  /** Always reasons and has no request knob (e.g. DeepSeek R1): nothing is sent. */
  | { kind: 'always' }
  /** Claude: `thinking` {enabled, budget_tokens} or, where `adaptive`, {adaptive} + output_config.effort. */
  | { kind: 'anthropic'; adaptive: boolean }
  /** A single effort field in additionalModelRequestFields, e.g. gpt-oss `reasoning_effort`. */
  | { kind: 'effort-field'; field: string; levels: readonly string[] }
  /** Amazon Nova 2: `reasoningConfig: {type: 'enabled', maxReasoningEffort}`. */
  | { kind: 'nova' }
  /** A boolean switch in additionalModelRequestFields (hybrid models), e.g. `{thinking: {type: 'enabled'}}`. */
  | { kind: 'toggle'; on: Record<string, unknown>; off?: Record<string, unknown> };

export interface ModelCapabilities {
  family: ModelFamily;
  /** Tool definitions and tool_use/tool_result blocks. */
  tools: boolean;
  /** Converse toolChoice `any` / `tool` (auto is always allowed where tools are). */
  toolChoiceAny: boolean;
  toolChoiceTool: boolean;
  images: boolean;
  /** Converse `document` blocks (PDF, txt, …). */
  documents: boolean;
  reasoning: ReasoningControl;
  /** Whether reasoningContent may be sent back in assistant history (else it is dropped). */
  reasoningHistory: boolean;
  /** Converse cachePoint blocks (prompt caching). */
  caching: boolean;
  /** System prompts; where false the system text is folded into the first user turn. */
  system: boolean;
  /** Service tiers Bedrock accepts for this model; `default` is always first. */
  tiers: readonly ServiceTier[];
  contextWindow: number;
  maxOutputTokens: number;
  /** Bedrock CountTokens is available. */
  countTokens: boolean;
  /** Name of the top_k field in additionalModelRequestFields, or null when the model has none. */
  topKField: string | null;
}

export interface ResolvedModel {
  /** What the client asked for; echoed back in responses. */
  requested: string;
  /** The Bedrock model id, inference profile id or ARN placed in the request URL. */
  modelId: string;
  /** The foundation model id behind modelId (prefix such as `us.` removed; ARN resolved where known). */
  baseModelId: string;
  caps: ModelCapabilities;
}
