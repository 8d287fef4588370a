/**
 * The emulator's own model table (independent of src/models on purpose: it stands for Bedrock).
 * Facts marked `unverified` are conservative guesses; the rest follow the Bedrock user guide
 * (Converse supported features, prompt caching, service tiers, CountTokens) and protocol-notes.md.
 */

export type ReasoningMode =
  /** No reasoning at all; reasoningContent in history is refused. */
  | 'none'
  /** Claude extended thinking via additionalModelRequestFields.thinking (enabled, maybe adaptive). */
  | 'claude'
  /** Reasons on every call (DeepSeek R1, Kimi K2 Thinking, MiniMax M2, gpt-oss). */
  | 'always'
  /** Reasons only when asked through its own request field (Nova 2 reasoningConfig). */
  | 'on-request';

export type ProfileGeo = 'us' | 'eu' | 'apac' | 'global';

export interface EmulatedModel {
  modelId: string;
  modelName: string;
  providerName: string;
  contextWindow: number;
  maxOutputTokens: number;
  /** Claude 4+ and some open models are callable on demand only through an inference profile. */
  profileOnly: boolean;
  profiles: ProfileGeo[];
  images: boolean;
  documents: boolean;
  tools: boolean;
  /** Tool use inside ConverseStream (some models only take tools without streaming). */
  streamingTools: boolean;
  /** toolChoice `any` / `tool` support (auto is always allowed when tools are). */
  toolChoiceForced: boolean;
  system: boolean;
  caching: boolean;
  maxCachePoints: number;
  reasoning: ReasoningMode;
  /** Claude: thinking {type:'adaptive'} + output_config.effort. */
  adaptiveThinking: boolean;
  /** Claude Opus 4.7 on: only adaptive thinking; `enabled` (a budget) and `disabled` are a 400 (Bedrock's
   * adaptive-thinking page). */
  adaptiveOnly: boolean;
  /** Claude Opus 4.7: temperature, top_p and top_k are refused (Anthropic's Opus 4.7 migration notes). */
  noSampling: boolean;
  /** Claude Opus 4.7 on: takes `thinking.display` and omits the thinking text unless it says
   * `summarized` (Anthropic's "What's new in Claude 4.7"); older models refuse the key. */
  thinkingDisplay: boolean;
  /** Converse top-level `outputConfig.effort` (Claude adaptive models and Opus 4.5); refused elsewhere. */
  effort: boolean;
  /** Converse `searchResult` blocks (SearchResultBlock: Claude 3.5 Haiku, 3.7 Sonnet, 4 and later). */
  searchResults: boolean;
  /** Structured outputs: InvokeModel `output_config.format`, Converse `outputConfig.textFormat` and
   * `toolSpec.strict`. Claude 4.5 and later (Bedrock's structured-outputs page lists Sonnet 4.5, Haiku
   * 4.5, Opus 4.5 and Opus 4.6) and the open models its supported-models section names (Qwen3, DeepSeek
   * V3.1, gpt-oss, Kimi K2 Thinking; not MiniMax M2, GLM 4.6, Llama, Mistral Large 24.07, Nova). */
  structuredOutputs: boolean;
  /** cachePoint `ttl: "1h"` (the 1-hour cache): Claude 4.5 and later (prompt-caching page). */
  cacheTtl: boolean;
  additionalFields: string[];
  serviceTiers: string[];
  countTokens: boolean;
  /** Native InvokeModel body understood by the emulator. */
  invoke: 'anthropic' | 'none';
  /** The stop reason of a message that calls tools: gpt-oss on Bedrock says `end_turn`
   * (strands-agents/harness-sdk#644), the others `tool_use`. */
  toolCallStopReason: 'tool_use' | 'end_turn';
}

const OPEN_TIERS = ['default', 'flex', 'priority'];
// Claude: no flex tier on Bedrock (service tiers page; flex rollout excludes Anthropic).
const CLAUDE_TIERS = ['default', 'priority', 'reserved'];

interface ClaudeSpec {
  id: string;
  name: string;
  maxOutput: number;
  context?: number;
  profileOnly?: boolean;
  profiles?: ProfileGeo[];
  thinking?: boolean;
  adaptive?: boolean;
  images?: boolean;
  /** Takes effort without adaptive thinking (Opus 4.5). */
  effort?: boolean;
  /** Takes output_config.format without adaptive thinking (the 4.5 models). */
  structuredOutputs?: boolean;
  /** Adaptive only, with `thinking.display` and thinking omitted by default (Opus 4.7 on). */
  adaptiveOnly?: boolean;
  /** No temperature / top_p / top_k (Opus 4.7). */
  noSampling?: boolean;
}

function claude(spec: ClaudeSpec): EmulatedModel {
  const thinking = spec.thinking ?? true;
  const adaptive = spec.adaptive ?? false;
  return {
    modelId: spec.id,
    modelName: spec.name,
    providerName: 'Anthropic',
    contextWindow: spec.context ?? 200_000,
    maxOutputTokens: spec.maxOutput,
    profileOnly: spec.profileOnly ?? true,
    profiles: spec.profiles ?? ['us', 'eu', 'apac', 'global'],
    images: spec.images ?? true,
    documents: true,
    tools: true,
    streamingTools: true,
    toolChoiceForced: true,
    system: true,
    caching: true,
    maxCachePoints: 4,
    reasoning: thinking ? 'claude' : 'none',
    adaptiveThinking: adaptive,
    adaptiveOnly: spec.adaptiveOnly ?? false,
    thinkingDisplay: spec.adaptiveOnly ?? false,
    noSampling: spec.noSampling ?? false,
    searchResults: !spec.id.includes('claude-3-5-sonnet'),
    effort: adaptive || (spec.effort ?? false),
    structuredOutputs: adaptive || (spec.structuredOutputs ?? false),
    // The 4.5 models and every adaptive one, exactly the structured-outputs set.
    cacheTtl: adaptive || (spec.structuredOutputs ?? false),
    additionalFields: [
      'anthropic_beta',
      'top_k',
      ...(thinking ? ['thinking'] : []),
      ...(adaptive ? ['output_config'] : []),
      ...(thinking ? ['context_management'] : []),
    ],
    serviceTiers: CLAUDE_TIERS,
    countTokens: true,
    invoke: 'anthropic',
    toolCallStopReason: 'tool_use',
  };
}

interface OpenSpec {
  id: string;
  name: string;
  provider: string;
  maxOutput: number;
  context: number;
  images?: boolean;
  documents?: boolean;
  tools?: boolean;
  streamingTools?: boolean;
  toolChoiceForced?: boolean;
  caching?: boolean;
  reasoning?: ReasoningMode;
  additionalFields?: string[];
  profileOnly?: boolean;
  profiles?: ProfileGeo[];
  tiers?: string[];
  toolCallStopReason?: 'tool_use' | 'end_turn';
  structuredOutputs?: boolean;
}

function open(spec: OpenSpec): EmulatedModel {
  return {
    modelId: spec.id,
    modelName: spec.name,
    providerName: spec.provider,
    contextWindow: spec.context,
    maxOutputTokens: spec.maxOutput,
    profileOnly: spec.profileOnly ?? false,
    profiles: spec.profiles ?? [],
    images: spec.images ?? false,
    documents: spec.documents ?? true,
    tools: spec.tools ?? true,
    streamingTools: spec.streamingTools ?? true,
    toolChoiceForced: spec.toolChoiceForced ?? false,
    system: true,
    caching: spec.caching ?? false,
    maxCachePoints: spec.caching ? 4 : 0,
    reasoning: spec.reasoning ?? 'none',
    adaptiveThinking: false,
    adaptiveOnly: false,
    thinkingDisplay: false,
    noSampling: false,
    searchResults: false,
    effort: false,
    structuredOutputs: spec.structuredOutputs ?? false,
    cacheTtl: false,
    additionalFields: spec.additionalFields ?? [],
    serviceTiers: spec.tiers ?? OPEN_TIERS,
    countTokens: false,
    invoke: 'none',
    toolCallStopReason: spec.toolCallStopReason ?? 'tool_use',
  };
}

const NOVA_FIELDS = ['inferenceConfig'];

export const MODELS: EmulatedModel[] = [
  claude({
    id: 'anthropic.claude-3-5-haiku-20241022-v1:0',
    name: 'Claude 3.5 Haiku',
    maxOutput: 8192,
    profileOnly: false,
    profiles: ['us'],
    thinking: false,
    images: false,
  }),
  claude({
    id: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
    name: 'Claude 3.5 Sonnet v2',
    maxOutput: 8192,
    profileOnly: false,
    profiles: ['us', 'apac'],
    thinking: false,
  }),
  claude({
    id: 'anthropic.claude-3-7-sonnet-20250219-v1:0',
    name: 'Claude 3.7 Sonnet',
    maxOutput: 64_000,
    profiles: ['us', 'eu', 'apac'],
  }),
  claude({ id: 'anthropic.claude-sonnet-4-20250514-v1:0', name: 'Claude Sonnet 4', maxOutput: 64_000 }),
  claude({
    id: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
    name: 'Claude Sonnet 4.5',
    maxOutput: 64_000,
    structuredOutputs: true,
  }),
  claude({
    id: 'anthropic.claude-haiku-4-5-20251001-v1:0',
    name: 'Claude Haiku 4.5',
    maxOutput: 64_000,
    structuredOutputs: true,
  }),
  claude({
    id: 'anthropic.claude-opus-4-1-20250805-v1:0',
    name: 'Claude Opus 4.1',
    maxOutput: 32_000,
    profiles: ['us'],
  }),
  claude({
    id: 'anthropic.claude-opus-4-5-20251101-v1:0',
    name: 'Claude Opus 4.5',
    maxOutput: 64_000,
    effort: true,
    structuredOutputs: true,
  }),
  // 1M context at the standard rates (Anthropic's model pages).
  claude({
    id: 'anthropic.claude-sonnet-4-6',
    name: 'Claude Sonnet 4.6',
    maxOutput: 128_000,
    context: 1_000_000,
    adaptive: true,
  }),
  claude({
    id: 'anthropic.claude-opus-4-6-v1',
    name: 'Claude Opus 4.6',
    maxOutput: 128_000,
    context: 1_000_000,
    adaptive: true,
  }),
  // Bedrock's id has no date or version suffix (adaptive-thinking page, model card); 1M context built in.
  claude({
    id: 'anthropic.claude-opus-4-7',
    name: 'Claude Opus 4.7',
    maxOutput: 128_000,
    context: 1_000_000,
    adaptive: true,
    adaptiveOnly: true,
    noSampling: true,
    profiles: ['us', 'eu', 'global'],
  }),

  // Amazon Nova: caching yes; Nova 2 Lite reasons when reasoningConfig asks for it.
  open({
    id: 'amazon.nova-micro-v1:0',
    name: 'Nova Micro',
    provider: 'Amazon',
    maxOutput: 10_000,
    context: 128_000,
    documents: false,
    caching: true,
    profiles: ['us', 'eu', 'apac'],
    additionalFields: NOVA_FIELDS,
  }),
  ...(['lite', 'pro'] as const).map((size) =>
    open({
      id: `amazon.nova-${size}-v1:0`,
      name: `Nova ${size === 'lite' ? 'Lite' : 'Pro'}`,
      provider: 'Amazon',
      maxOutput: 10_000,
      context: 300_000,
      images: true,
      caching: true,
      toolChoiceForced: true, // unverified: Nova takes `tool`, the `any` case is checked separately
      profiles: ['us', 'eu', 'apac'],
      additionalFields: NOVA_FIELDS,
    }),
  ),
  open({
    id: 'amazon.nova-premier-v1:0',
    name: 'Nova Premier',
    provider: 'Amazon',
    maxOutput: 32_000,
    context: 1_000_000,
    images: true,
    caching: true,
    toolChoiceForced: true,
    profileOnly: true,
    profiles: ['us'],
    additionalFields: NOVA_FIELDS,
  }),
  open({
    id: 'amazon.nova-2-lite-v1:0',
    name: 'Nova 2 Lite',
    provider: 'Amazon',
    maxOutput: 65_535, // unverified
    context: 1_000_000,
    images: true,
    caching: true,
    toolChoiceForced: true,
    reasoning: 'on-request',
    profileOnly: true,
    profiles: ['us', 'eu', 'global'],
    additionalFields: [...NOVA_FIELDS, 'reasoningConfig'],
  }),

  // Qwen3 (unverified output caps).
  open({
    id: 'qwen.qwen3-coder-480b-a35b-v1:0',
    name: 'Qwen3 Coder 480B A35B',
    provider: 'Qwen',
    maxOutput: 65_536,
    context: 262_144,
    structuredOutputs: true,
  }),
  open({
    id: 'qwen.qwen3-coder-30b-a3b-v1:0',
    name: 'Qwen3 Coder 30B A3B',
    provider: 'Qwen',
    maxOutput: 65_536,
    context: 262_144,
    structuredOutputs: true,
  }),
  open({
    id: 'qwen.qwen3-235b-a22b-2507-v1:0',
    name: 'Qwen3 235B A22B 2507',
    provider: 'Qwen',
    maxOutput: 32_768,
    context: 262_144,
    structuredOutputs: true,
  }),
  open({
    id: 'qwen.qwen3-32b-v1:0',
    name: 'Qwen3 32B',
    provider: 'Qwen',
    maxOutput: 16_384,
    context: 131_072,
    structuredOutputs: true,
  }),

  // DeepSeek: R1 always reasons, takes no tools and no extra request fields.
  open({
    id: 'deepseek.r1-v1:0',
    name: 'DeepSeek-R1',
    provider: 'DeepSeek',
    maxOutput: 32_768,
    context: 128_000,
    tools: false,
    reasoning: 'always',
    profileOnly: true,
    profiles: ['us'],
  }),
  open({
    id: 'deepseek.v3-v1:0',
    name: 'DeepSeek-V3.1',
    provider: 'DeepSeek',
    maxOutput: 32_768,
    context: 128_000,
    structuredOutputs: true,
  }),

  // gpt-oss: reasoning always on, effort via reasoning_effort.
  ...(['120b', '20b'] as const).map((size) =>
    open({
      id: `openai.gpt-oss-${size}-1:0`,
      name: `gpt-oss-${size}`,
      provider: 'OpenAI',
      maxOutput: 32_768, // unverified
      context: 128_000,
      reasoning: 'always',
      additionalFields: ['reasoning_effort'],
      toolCallStopReason: 'end_turn',
      structuredOutputs: true,
    }),
  ),
  open({
    id: 'moonshot.kimi-k2-thinking',
    name: 'Kimi K2 Thinking',
    provider: 'Moonshot AI',
    maxOutput: 32_768, // unverified
    context: 256_000,
    reasoning: 'always',
    structuredOutputs: true,
  }),
  open({
    id: 'minimax.minimax-m2',
    name: 'MiniMax M2',
    provider: 'MiniMax',
    maxOutput: 65_536, // unverified
    context: 204_800,
    reasoning: 'always',
  }),
  open({ id: 'zai.glm-4.6', name: 'GLM 4.6', provider: 'Z.AI', maxOutput: 65_536, context: 200_000 }), // unverified id/caps

  // Meta Llama: profile-only on demand; tool use not available while streaming (unverified).
  open({
    id: 'meta.llama3-3-70b-instruct-v1:0',
    name: 'Llama 3.3 70B Instruct',
    provider: 'Meta',
    maxOutput: 8192,
    context: 128_000,
    documents: true,
    streamingTools: false,
    profileOnly: true,
    profiles: ['us'],
    tiers: ['default'],
  }),
  open({
    id: 'meta.llama4-maverick-17b-instruct-v1:0',
    name: 'Llama 4 Maverick 17B Instruct',
    provider: 'Meta',
    maxOutput: 8192,
    context: 1_000_000,
    images: true,
    streamingTools: false,
    profileOnly: true,
    profiles: ['us'],
    tiers: ['default'],
  }),
  open({
    id: 'mistral.mistral-large-2407-v1:0',
    name: 'Mistral Large (24.07)',
    provider: 'Mistral AI',
    maxOutput: 8192,
    context: 128_000,
    toolChoiceForced: true, // ToolChoice doc: Claude and Mistral Large
    tiers: ['default'],
  }),
  open({
    id: 'mistral.pixtral-large-2502-v1:0',
    name: 'Pixtral Large (25.02)',
    provider: 'Mistral AI',
    maxOutput: 8192,
    context: 128_000,
    images: true,
    profileOnly: true,
    profiles: ['us', 'eu'],
    tiers: ['default'],
  }),
];

const BY_ID = new Map(MODELS.map((m) => [m.modelId, m]));

/**
 * Models served only by bedrock-mantle (some are invitation-only): absent from the runtime's catalogue
 * and refused by every runtime route; the mantle host takes them by their bare id.
 */
export const MANTLE_ONLY_MODELS: EmulatedModel[] = [
  claude({
    id: 'anthropic.claude-opus-5-5',
    name: 'Claude Opus 5.5',
    maxOutput: 128_000,
    adaptive: true,
    adaptiveOnly: true,
    profiles: [],
  }),
];
const MANTLE_ONLY = new Map(MANTLE_ONLY_MODELS.map((m) => [m.modelId, m]));

/** What the mantle host serves: every foundation model by its bare id, plus the mantle-only ones. */
export function findMantleModel(modelId: string): EmulatedModel | undefined {
  return BY_ID.get(modelId) ?? MANTLE_ONLY.get(modelId);
}

export function findModel(modelId: string): EmulatedModel | undefined {
  return BY_ID.get(modelId);
}

/** Which inference-profile geography a region may call (global works everywhere). */
export function geoOfRegion(region: string): ProfileGeo {
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return 'us';
}

export function profileId(geo: ProfileGeo, model: EmulatedModel): string {
  return `${geo}.${model.modelId}`;
}

/** Profiles this region can see: its own geography plus global. */
export function profilesInRegion(region: string): { id: string; geo: ProfileGeo; model: EmulatedModel }[] {
  const geo = geoOfRegion(region);
  const out: { id: string; geo: ProfileGeo; model: EmulatedModel }[] = [];
  for (const model of MODELS) {
    for (const g of model.profiles) {
      if (g === geo || g === 'global') out.push({ id: profileId(g, model), geo: g, model });
    }
  }
  return out;
}

export interface ModelTarget {
  model: EmulatedModel;
  /** The id as the caller named it (profile id, foundation id or the id inside an ARN). */
  requestedId: string;
  viaProfile: boolean;
}

export type ResolveResult =
  | { ok: true; target: ModelTarget }
  | { ok: false; reason: 'invalid' | 'on-demand' | 'other-account' };

/**
 * Resolves what a runtime path names: a foundation model id, a profile id, or either as an ARN. An ARN
 * must name the region of the endpoint it is sent to; a foundation model's has no account
 * (`arn:aws:bedrock:us-east-1::foundation-model/…`), an inference profile's the caller's own `account`
 * (a profile ARN of another account is that account's resource, not the caller's).
 */
export function resolveModelIdentifier(identifier: string, region: string, account: string): ResolveResult {
  let id = identifier;
  const arn = /^arn:aws:bedrock:([^:]*):([^:]*):(foundation-model|inference-profile)\/(.+)$/.exec(identifier);
  if (arn) {
    const [, arnRegion, arnAccount, type] = arn;
    if (arnRegion !== region) return { ok: false, reason: 'invalid' };
    if (type === 'foundation-model' && arnAccount !== '') return { ok: false, reason: 'invalid' };
    if (type === 'inference-profile' && !/^\d{12}$/.test(arnAccount!))
      return { ok: false, reason: 'invalid' };
    if (type === 'inference-profile' && arnAccount !== account) return { ok: false, reason: 'other-account' };
    id = arn[4]!;
  }
  const geoMatch = /^(us|eu|apac|global)\.(.+)$/.exec(id);
  if (geoMatch) {
    const geo = geoMatch[1] as ProfileGeo;
    const model = findModel(geoMatch[2]!);
    if (!model?.profiles.includes(geo)) return { ok: false, reason: 'invalid' };
    if (geo !== 'global' && geo !== geoOfRegion(region)) return { ok: false, reason: 'invalid' };
    return { ok: true, target: { model, requestedId: id, viaProfile: true } };
  }
  const model = findModel(id);
  if (!model) return { ok: false, reason: 'invalid' };
  if (model.profileOnly) return { ok: false, reason: 'on-demand' };
  return { ok: true, target: { model, requestedId: id, viaProfile: false } };
}
