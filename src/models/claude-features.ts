/**
 * What Bedrock's InvokeModel accepts in the native Anthropic body, per Claude generation: top-level
 * fields, thinking types, effort levels, output formats, cache options and `anthropic_beta` values.
 * The native path (translate/to-invoke.ts) sends only what this table allows, so a field or beta
 * Bedrock would answer with "Extra inputs are not permitted" / "invalid beta flag" is dropped up front.
 *
 * Sources (checked November 2026):
 * - Bedrock "Anthropic Claude Messages API" request page: body fields and the `anthropic_beta` list
 *   (computer-use, token-efficient-tools, interleaved-thinking, output-128k, dev-full-thinking,
 *   context-1m, context-management, effort, tool-search-tool, tool-examples):
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html
 * - Per-model gating of those betas and Bedrock's renaming of `advanced-tool-use-2025-11-20`:
 *   LiteLLM `llms/bedrock/beta_headers_config.py` and `anthropic_beta_headers_config.json` (bedrock).
 * - `context_management` needs the context-management beta in the body, else Bedrock answers
 *   "context_management: Extra inputs are not permitted" (claude-code #49548, braintrust lingua #349).
 * - Structured outputs (`output_config.format`) on InvokeModel: Claude 4.5 and later:
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html
 * - 1-hour cache TTL: Claude 4.5 and later; `cache_control.scope` is not accepted on Bedrock (LiteLLM).
 * - Thinking types, adaptive-only and always-thinking models, context/output limits: Claude Code
 *   2.1.331's model table (/work/shared/protocol-notes.md) and models/capabilities.ts.
 * - Opus 4.7 (and Fable, Mythos) refuse `thinking.type: "disabled"` as well as budgets ("will return a
 *   400 error"): https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html
 * - `thinking.display`: refused by older models ("thinking.enabled.display: Extra inputs are not
 *   permitted"); taken from Opus 4.7 on. unverified for Opus 4.7/4.8.
 * Where a source is silent the table leaves the feature out; `mergeClaudeFeatureOverrides` lets a
 * deployment allow it from config without a release.
 */
import { EFFORTS, type Effort } from '../anthropic/types.ts';

export type ClaudeThinkingType = 'enabled' | 'adaptive' | 'disabled';

export interface ClaudeFeatures {
  /** Generation name, for logs and `abproxy models`. */
  generation: string;
  /** Top-level body fields Bedrock accepts (besides `anthropic_version` and `anthropic_beta`). */
  fields: readonly string[];
  /** Accepted `thinking.type` values; empty when the model cannot think. */
  thinkingTypes: readonly ClaudeThinkingType[];
  /** `disabled` is met by leaving `thinking` out: Bedrock refuses the value itself, and the model does not
   * think unless asked (Opus 4.7/4.8). */
  disabledByOmission: boolean;
  /** `thinking.display` (summarized/omitted) is accepted. */
  thinkingDisplay: boolean;
  /** Accepted `output_config.effort` levels, low → high; empty when effort is not supported. */
  efforts: readonly Effort[];
  /** `output_config.format` (structured outputs) is accepted. */
  outputFormat: boolean;
  /** `cache_control.ttl` is accepted (else removed, which means the default 5 minutes). */
  cacheTtl: boolean;
  /** `role: "system"` entries inside `messages` are accepted (else folded into user turns). */
  systemMessages: boolean;
  /** `anthropic_beta` values Bedrock accepts for this model. */
  betas: readonly string[];
  /** Body parts that only work with a beta; the beta is added when the part is sent. Keys are
   * `context_management` or `output_config.effort`. */
  fieldBetas: Readonly<Record<string, string>>;
  /** A beta that raises the output cap (Claude 3.7 Sonnet's output-128k). */
  outputCapBeta?: { beta: string; maxOutputTokens: number };
}

export interface ClaudeGeneration {
  match: RegExp;
  features: ClaudeFeatures;
}

/** A config override: every listed property replaces, `add*`/`remove*` edit the lists. */
export interface ClaudeFeatureOverride {
  addFields?: string[];
  removeFields?: string[];
  addBetas?: string[];
  removeBetas?: string[];
  thinkingTypes?: ClaudeThinkingType[];
  disabledByOmission?: boolean;
  thinkingDisplay?: boolean;
  efforts?: Effort[];
  outputFormat?: boolean;
  cacheTtl?: boolean;
  systemMessages?: boolean;
}

export interface ClaudeFeatureTable {
  /** Checked in order; the first match wins. Unknown ids get the first entry (the newest generation). */
  generations: readonly ClaudeGeneration[];
  /** Applied after the generation, in order, to every id their pattern matches. */
  overrides: ReadonlyArray<{ match: RegExp; override: ClaudeFeatureOverride }>;
}

// ---- betas, grouped by the generations that take them ----
const COMPUTER_USE_2024 = 'computer-use-2024-10-22';
const COMPUTER_USE_2025 = 'computer-use-2025-01-24';
const COMPUTER_USE_LATEST = 'computer-use-2025-11-24';
const TOKEN_EFFICIENT_TOOLS = 'token-efficient-tools-2025-02-19';
const OUTPUT_128K = 'output-128k-2025-02-19';
const INTERLEAVED_THINKING = 'interleaved-thinking-2025-05-14';
const DEV_FULL_THINKING = 'dev-full-thinking-2025-05-14';
const CONTEXT_1M = 'context-1m-2025-08-07';
const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';
const EFFORT = 'effort-2025-11-24';
const TOOL_SEARCH = 'tool-search-tool-2025-10-19';
const TOOL_EXAMPLES = 'tool-examples-2025-10-29';
const COMPACT = 'compact-2026-01-12';
/** The beta under which Bedrock takes `compaction` blocks (and compaction edits). */
export const COMPACT_BETA = COMPACT;

/** Anthropic names Bedrock spells differently (LiteLLM's bedrock mapping). */
export const BEDROCK_BETA_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'advanced-tool-use-2025-11-20': [TOOL_SEARCH, TOOL_EXAMPLES],
};

/** Betas that make Bedrock accept tools with `defer_loading` and `tool_reference` blocks. */
export const TOOL_SEARCH_BETAS: readonly string[] = [TOOL_SEARCH];

const BASE_FIELDS = [
  'messages',
  'system',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  // Accepted by Bedrock's Claude body (LiteLLM's Bedrock allow-list keeps it; the Bedrock SDK sends it).
  'metadata',
] as const;
const THINKING_FIELDS = [...BASE_FIELDS, 'thinking'] as const;
const CLAUDE_4_FIELDS = [...THINKING_FIELDS, 'context_management'] as const;
const CLAUDE_4_5_FIELDS = [...CLAUDE_4_FIELDS, 'output_config'] as const;

const CLAUDE_4_BETAS = [
  COMPUTER_USE_2025,
  TOKEN_EFFICIENT_TOOLS,
  INTERLEAVED_THINKING,
  DEV_FULL_THINKING,
  CONTEXT_MANAGEMENT_BETA,
] as const;
const ADAPTIVE_BETAS = [
  COMPUTER_USE_LATEST,
  INTERLEAVED_THINKING,
  DEV_FULL_THINKING,
  CONTEXT_MANAGEMENT_BETA,
  EFFORT,
  COMPACT,
] as const;

const NEEDS_CONTEXT_BETA = { context_management: CONTEXT_MANAGEMENT_BETA } as const;
const ALL_EFFORTS: readonly Effort[] = EFFORTS;

const NO_EXTRAS = {
  disabledByOmission: false,
  thinkingDisplay: false,
  efforts: [],
  outputFormat: false,
  cacheTtl: false,
  systemMessages: false,
  fieldBetas: {},
} as const;

/** Newest first: the first entry is also what unknown (future) Claude ids get. */
const CLAUDE_GENERATIONS: readonly ClaudeGeneration[] = [
  {
    // Always think: refuse thinking: disabled (Claude Code's table; AWS for Mythos).
    match: /claude-((sonnet|opus|haiku)-5-5|fable|mythos)/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-5.5',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['adaptive'],
      thinkingDisplay: true,
      efforts: ALL_EFFORTS,
      outputFormat: true,
      cacheTtl: true,
      betas: ADAPTIVE_BETAS,
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    match: /claude-(sonnet|opus|haiku)-5(?![-.]?\d(?!\d{7}))/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-5',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['adaptive', 'disabled'],
      thinkingDisplay: true,
      efforts: ALL_EFFORTS,
      outputFormat: true,
      cacheTtl: true,
      betas: ADAPTIVE_BETAS,
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    // Opus 4.7/4.8: adaptive only (manual budgets and `disabled` refused), 1M context built in.
    match: /claude-opus-4-[78]/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-opus-4.7',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['adaptive', 'disabled'],
      disabledByOmission: true,
      thinkingDisplay: true,
      efforts: ALL_EFFORTS,
      outputFormat: true,
      cacheTtl: true,
      betas: ADAPTIVE_BETAS,
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    // Sonnet/Opus 4.6: adaptive and manual budgets; no xhigh (it came with Opus 4.7).
    match: /claude-(sonnet|opus)-4-6/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-4.6',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['enabled', 'adaptive', 'disabled'],
      efforts: ['low', 'medium', 'high', 'max'],
      outputFormat: true,
      cacheTtl: true,
      betas: [...ADAPTIVE_BETAS, CONTEXT_1M, TOOL_SEARCH, TOOL_EXAMPLES],
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    // Opus 4.5: effort behind its beta; tool search.
    match: /claude-opus-4-5/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-opus-4.5',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['enabled', 'disabled'],
      efforts: ['low', 'medium', 'high'],
      outputFormat: true,
      cacheTtl: true,
      betas: [...CLAUDE_4_BETAS, COMPUTER_USE_LATEST, EFFORT, TOOL_SEARCH, TOOL_EXAMPLES],
      fieldBetas: { ...NEEDS_CONTEXT_BETA, 'output_config.effort': EFFORT },
    },
  },
  {
    match: /claude-sonnet-4-5/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-sonnet-4.5',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['enabled', 'disabled'],
      outputFormat: true,
      cacheTtl: true,
      betas: [...CLAUDE_4_BETAS, CONTEXT_1M, TOOL_SEARCH, TOOL_EXAMPLES],
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    match: /claude-haiku-4-5/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-haiku-4.5',
      fields: CLAUDE_4_5_FIELDS,
      thinkingTypes: ['enabled', 'disabled'],
      outputFormat: true,
      cacheTtl: true,
      betas: CLAUDE_4_BETAS,
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    // Sonnet 4, Opus 4, Opus 4.1 (ids carry a date: claude-sonnet-4-20250514, claude-opus-4-1-20250805).
    match: /claude-(sonnet|opus)-4(-[01])?(-\d{8}|-v\d|$)/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-4',
      fields: CLAUDE_4_FIELDS,
      thinkingTypes: ['enabled', 'disabled'],
      betas: [...CLAUDE_4_BETAS, CONTEXT_1M],
      fieldBetas: NEEDS_CONTEXT_BETA,
    },
  },
  {
    match: /claude-3-7-sonnet/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-3.7-sonnet',
      fields: THINKING_FIELDS,
      thinkingTypes: ['enabled', 'disabled'],
      betas: [COMPUTER_USE_2025, TOKEN_EFFICIENT_TOOLS, OUTPUT_128K],
      outputCapBeta: { beta: OUTPUT_128K, maxOutputTokens: 128_000 },
    },
  },
  {
    match: /claude-3-5-sonnet/,
    features: {
      ...NO_EXTRAS,
      generation: 'claude-3.5-sonnet',
      fields: BASE_FIELDS,
      thinkingTypes: [],
      betas: [COMPUTER_USE_2024],
    },
  },
  {
    match: /claude-3/,
    features: { ...NO_EXTRAS, generation: 'claude-3', fields: BASE_FIELDS, thinkingTypes: [], betas: [] },
  },
];

export const CLAUDE_FEATURE_TABLE: ClaudeFeatureTable = { generations: CLAUDE_GENERATIONS, overrides: [] };

/** Resolved features per table and id: tables are immutable, and this runs on every Claude request. */
const resolved = new WeakMap<ClaudeFeatureTable, Map<string, ClaudeFeatures>>();

export function claudeFeaturesFor(
  baseModelId: string,
  table: ClaudeFeatureTable = CLAUDE_FEATURE_TABLE,
): ClaudeFeatures {
  const id = baseModelId.toLowerCase();
  let cache = resolved.get(table);
  if (!cache) {
    cache = new Map();
    resolved.set(table, cache);
  }
  const cached = cache.get(id);
  if (cached) return cached;
  const features = resolveFeatures(id, table);
  // Bounded: the id can come from a client's pass-through model name.
  if (cache.size < 1_000) cache.set(id, features);
  return features;
}

function resolveFeatures(id: string, table: ClaudeFeatureTable): ClaudeFeatures {
  const generation = table.generations.find((g) => g.match.test(id)) ?? table.generations[0];
  if (!generation) throw new Error('the Claude feature table is empty');
  let features = generation.features;
  for (const { match, override } of table.overrides) {
    if (match.test(id)) features = applyOverride(features, override);
  }
  return features;
}

const THINKING_TYPES: readonly ClaudeThinkingType[] = ['enabled', 'adaptive', 'disabled'];
const LIST_KEYS = ['addFields', 'removeFields', 'addBetas', 'removeBetas'] as const;
const BOOLEAN_KEYS = [
  'disabledByOmission',
  'thinkingDisplay',
  'outputFormat',
  'cacheTtl',
  'systemMessages',
] as const;

/**
 * Adds config overrides (parsed JSON) to a table: `{"<regex over the base model id>" | "*": {addBetas,
 * removeBetas, addFields, removeFields, thinkingTypes, disabledByOmission, thinkingDisplay, efforts,
 * outputFormat, cacheTtl, systemMessages}}`. Throws an Error naming the bad key, so a typo fails at start-up, not per request.
 */
export function mergeClaudeFeatureOverrides(
  table: ClaudeFeatureTable,
  overrides: unknown,
): ClaudeFeatureTable {
  if (overrides === undefined || overrides === null) return table;
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new Error('claude feature overrides must be an object keyed by model id pattern');
  }
  const parsed = Object.entries(overrides as Record<string, unknown>).map(([pattern, value]) => ({
    match: parsePattern(pattern),
    override: parseOverride(pattern, value),
  }));
  return { generations: table.generations, overrides: [...table.overrides, ...parsed] };
}

function parsePattern(pattern: string): RegExp {
  if (pattern === '*') return /./;
  try {
    return new RegExp(pattern, 'i');
  } catch (err) {
    throw new Error(`claude feature override '${pattern}': not a valid regular expression`, { cause: err });
  }
}

function parseOverride(pattern: string, value: unknown): ClaudeFeatureOverride {
  const where = `claude feature override '${pattern}'`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where} must be an object`);
  const input = value as Record<string, unknown>;
  const out: ClaudeFeatureOverride = {};
  for (const [key, v] of Object.entries(input)) {
    if ((LIST_KEYS as readonly string[]).includes(key)) {
      out[key as (typeof LIST_KEYS)[number]] = stringList(v, `${where}: ${key}`);
    } else if ((BOOLEAN_KEYS as readonly string[]).includes(key)) {
      if (typeof v !== 'boolean') throw new Error(`${where}: ${key} must be true or false`);
      out[key as (typeof BOOLEAN_KEYS)[number]] = v;
    } else if (key === 'thinkingTypes') {
      out.thinkingTypes = oneOf(stringList(v, `${where}: ${key}`), THINKING_TYPES, `${where}: ${key}`);
    } else if (key === 'efforts') {
      out.efforts = oneOf(stringList(v, `${where}: ${key}`), ALL_EFFORTS, `${where}: ${key}`);
    } else {
      throw new Error(`${where}: unknown setting '${key}'`);
    }
  }
  return out;
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${where} must be a list of strings`);
  }
  return value;
}

function oneOf<T extends string>(values: string[], allowed: readonly T[], where: string): T[] {
  const bad = values.find((v) => !(allowed as readonly string[]).includes(v));
  if (bad !== undefined) throw new Error(`${where}: '${bad}' is not one of ${allowed.join(', ')}`);
  return values as T[];
}

function applyOverride(base: ClaudeFeatures, o: ClaudeFeatureOverride): ClaudeFeatures {
  const features: ClaudeFeatures = {
    ...base,
    fields: edit(base.fields, o.addFields, o.removeFields),
    betas: edit(base.betas, o.addBetas, o.removeBetas),
  };
  if (o.thinkingTypes) features.thinkingTypes = o.thinkingTypes;
  if (o.efforts) features.efforts = ALL_EFFORTS.filter((e) => o.efforts?.includes(e));
  if (o.disabledByOmission !== undefined) features.disabledByOmission = o.disabledByOmission;
  if (o.thinkingDisplay !== undefined) features.thinkingDisplay = o.thinkingDisplay;
  if (o.outputFormat !== undefined) features.outputFormat = o.outputFormat;
  if (o.cacheTtl !== undefined) features.cacheTtl = o.cacheTtl;
  if (o.systemMessages !== undefined) features.systemMessages = o.systemMessages;
  return features;
}

function edit(
  list: readonly string[],
  add: string[] | undefined,
  remove: string[] | undefined,
): readonly string[] {
  if (!add && !remove) return list;
  const out = list.filter((item) => !remove?.includes(item));
  for (const item of add ?? []) if (!out.includes(item)) out.push(item);
  return out;
}
