/**
 * What a model can do, per family. The request translators ask this table instead of testing model
 * names; the family of the *resolved* Bedrock id decides the shape of the request.
 */

/** Bedrock's service tiers, in the order the CLI and docs list them. */
export const SERVICE_TIERS = ['default', 'flex', 'priority', 'reserved'] as const;
export type ServiceTier = (typeof SERVICE_TIERS)[number];

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
  | {
      kind: 'anthropic';
      adaptive: boolean;
      /** Accepts output_config.effort (Opus 4.5 and the adaptive models). Default false. */
      effort?: boolean;
      /** Accepts manual `thinking: {type: 'enabled', budget_tokens}`. Default true; false on adaptive-only models. */
      budget?: boolean;
      /** Thinking can be switched off. Default true; false on models that always think (Claude *-5-5, Fable). */
      canDisable?: boolean;
      /** Accepts `thinking.display` (summarized/omitted): Opus 4.7 and later, which omit thinking text by
       * default. Default false: older models refuse the key. */
      display?: boolean;
    }
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
  /** Tool use inside ConverseStream. Default true; false where Bedrock takes tools only without streaming
   * (Converse supported-features table: Llama 3.1+, Mistral Large), so a stream is served from Converse. */
  streamingTools?: boolean;
  /** Converse toolChoice `any` / `tool` (auto is always allowed where tools are). */
  toolChoiceAny: boolean;
  toolChoiceTool: boolean;
  images: boolean;
  /** Converse `document` blocks (PDF, txt, …). */
  documents: boolean;
  /** Converse `searchResult` blocks (Anthropic's search_result, citable). Default false: the result goes as
   * text. */
  searchResults?: boolean;
  reasoning: ReasoningControl;
  /** Whether reasoningContent may be sent back in assistant history (else it is dropped). */
  reasoningHistory: boolean;
  /** Converse cachePoint blocks (prompt caching). */
  caching: boolean;
  /** cachePoint `ttl: "1h"` (the 1-hour cache: Claude 4.5 and later); elsewhere a mark caches 5 minutes. */
  cacheTtl?: boolean;
  /**
   * Bedrock structured outputs on Converse: `outputConfig.textFormat` (a JSON schema for the answer) and
   * `strict` on tool specs. Default false: Bedrock refuses both where the model lacks them.
   */
  structuredOutputs?: boolean;
  /** System prompts; where false the system text is folded into the first user turn. */
  system: boolean;
  /** Service tiers Bedrock accepts for this model; `default` is always first. */
  tiers: readonly ServiceTier[];
  contextWindow: number;
  maxOutputTokens: number;
  /** Bedrock CountTokens is available. */
  countTokens: boolean;
  /** Name of the top_k field in additionalModelRequestFields, or null when the model has none.
   * A dotted name nests (Nova: `inferenceConfig.topK` → {inferenceConfig: {topK}}). */
  topKField: string | null;
  /** temperature and top_p may not both be set (Claude Opus 4.1, *-4-5 and newer); top_p is dropped. */
  exclusiveSampling?: boolean;
  /**
   * Converse `inferenceConfig.stopSequences`. Default true; false where Bedrock refuses the field, even
   * empty ("This model doesn't support the stopSequences field": gpt-oss 20b/120b, Qwen3 235B).
   */
  stopSequences?: boolean;
}

export interface ResolvedModel {
  /** What the client asked for; echoed back in responses. */
  requested: string;
  /** The Bedrock model id, inference profile id or ARN placed in the request URL. */
  modelId: string;
  /** The foundation model id behind modelId (prefix such as `us.` removed; ARN resolved where known). */
  baseModelId: string;
  /**
   * The name metrics use: Anthropic's id of the Claude model served (`claude-sonnet-4-5-20250929`), the
   * foundation id of a model the catalogue knows, else `unknown`; never the client's own spelling (case
   * variants, `[…]` suffixes, made-up ids), so the label set stays as small as the catalogue.
   */
  metricsLabel: string;
  caps: ModelCapabilities;
  /**
   * The one Bedrock host that serves the model, when the catalogues say only one does: `mantle` for a
   * model only the bedrock-mantle host lists, `runtime` for one the mantle host's list (read) lacks.
   * Absent when both serve it or it is not known. The Claude path chooser follows it.
   */
  servedBy?: 'runtime' | 'mantle';
  /**
   * The id the bedrock-mantle host lists for this model, when its list was read and has it: what the
   * `mantle` path sends (mantle spells ids without date or revision, e.g. `anthropic.claude-haiku-4-5`).
   */
  mantleId?: string;
  /**
   * The operator's target when the client's name reached the model through a prefix pattern of the
   * model map (`claude-x*`): the client made that name up, so it does not count as the model's name.
   */
  viaPattern?: string;
}

// ---- the Bedrock catalogue (ListFoundationModels + ListInferenceProfiles), as the resolver needs it ----

export interface CatalogueModel {
  /** Foundation model id, e.g. `anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  modelId: string;
  modelArn?: string;
  name?: string;
  provider?: string;
  inputModalities: readonly string[];
  outputModalities: readonly string[];
  /** Callable by its bare id (inferenceTypesSupported has ON_DEMAND). */
  onDemand: boolean;
  /** Lifecycle ACTIVE (LEGACY models still work but are not offered first). */
  active: boolean;
  /**
   * Listed only by the bedrock-mantle host (its `/v1/models`), not by bedrock-runtime's catalogue: a
   * Claude model only Bedrock's Messages API on mantle serves, called there by its bare id.
   */
  mantleOnly?: true;
}

export interface CatalogueProfile {
  /** Inference profile id, e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`, or an application profile id. */
  id: string;
  arn: string;
  type: 'SYSTEM_DEFINED' | 'APPLICATION';
  active: boolean;
  /** Foundation model ids behind the profile (from its model ARNs). */
  modelIds: readonly string[];
}

export interface CatalogueSnapshot {
  region: string;
  /** `live` from Bedrock, `builtin` from the table shipped with the gateway (Bedrock unreachable). */
  source: 'live' | 'builtin';
  fetchedAt: number;
  models: readonly CatalogueModel[];
  profiles: readonly CatalogueProfile[];
  /** The ids the bedrock-mantle host lists (absent: not read, e.g. unreachable or not allowed). */
  mantle?: readonly string[];
}
