/**
 * Anthropic Messages request → the body of Bedrock InvokeModel[WithResponseStream] for a Claude model.
 *
 * Bedrock takes Anthropic's own body with `anthropic_version: "bedrock-2023-05-31"` and the betas as
 * `anthropic_beta: [...]`, without `model` and `stream`. Everything the model's row of
 * models/claude-features.ts allows passes through untouched (cache_control, citations, signatures,
 * redacted thinking, server tool types, unknown block fields); what Bedrock would refuse is dropped or
 * adapted here, each step reported in `warnings`, so no call is wasted on a 400:
 * - top-level fields and betas outside the allow-list are dropped (`advanced-tool-use` is renamed);
 * - `thinking` is reshaped to a type the model takes (adaptive ↔ budget, `disabled` omitted where the
 *   model always thinks), `display` removed where refused, the budget kept below max_tokens;
 * - `output_config.effort` is lowered to a level the model offers; max_tokens is clamped to its cap;
 * - a body part that needs a beta (context_management) brings its beta along;
 * - cache_control marks beyond the 4 taken are removed, the earliest first; metadata keeps user_id only.
 * The top level is a shallow copy; the body is serialized once.
 */
import type {
  Effort,
  MessageParam,
  MessagesRequest,
  OutputConfig,
  TextBlockParam,
  ThinkingConfig,
  Tool,
  ToolChoice,
} from '../anthropic/types.ts';
import {
  BEDROCK_BETA_ALIASES,
  type ClaudeFeatures,
  type ClaudeFeatureTable,
  type ClaudeThinkingType,
  COMPACT_BETA,
  claudeFeaturesFor,
  TOOL_SEARCH_BETAS,
} from '../models/claude-features.ts';
import {
  budgetFromEffort,
  effortFromBudget,
  effortToLevel,
  fitThinkingBudget,
} from '../models/reasoning-levels.ts';
import { MAX_CACHE_POINTS } from './cache-points.ts';
import { compactedWarning, fromLastCompaction } from './compaction.ts';
import { type ContentRules, fixMessages, fixSystem, fixTools, limitCacheMarks } from './invoke-content.ts';
import { dropForeignThinking, toolLoopLacksThinking } from './invoke-thinking-history.ts';
import { modelLacksFormat, refuseUnenforcedFormat } from './output-format.ts';

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export interface InvokeContext {
  /** Foundation model id (no geo prefix), e.g. `anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  baseModelId: string;
  /** The client's `anthropic-beta` values (header split on commas; may be empty). */
  betas: readonly string[];
  features: ClaudeFeatures;
  /** The model's output cap (ModelCapabilities.maxOutputTokens). */
  maxOutputTokens: number;
}

/** The context of a resolved Claude model: its features (from `table`) and output cap, the client's betas. */
export function invokeContextFor(
  model: { baseModelId: string; caps: { maxOutputTokens: number } },
  betas: readonly string[],
  table?: ClaudeFeatureTable,
): InvokeContext {
  return {
    baseModelId: model.baseModelId,
    betas,
    features: claudeFeaturesFor(model.baseModelId, table),
    maxOutputTokens: model.caps.maxOutputTokens,
  };
}

export interface InvokeBody {
  /** JSON text for InvokeModel's `body`. */
  body: string;
  warnings: string[];
  /** Client betas not sent to Bedrock. */
  droppedBetas: string[];
}

/** Effort assumed when adaptive thinking must become a budget and the client named none. */
const EFFORT_FOR_BUDGET: Effort = 'high';
/**
 * Never sent from the client body: the gateway sets these. `service_tier` is the gateway's too: it picks
 * the Bedrock tier of the call (server/messages/service-tier.ts), so it is used, not dropped.
 */
const GATEWAY_FIELDS = new Set(['model', 'stream', 'anthropic_version', 'anthropic_beta', 'service_tier']);

interface Draft {
  out: Record<string, unknown>;
  features: ClaudeFeatures;
  betas: string[];
  warnings: string[];
}

export function toInvokeBody(req: MessagesRequest, ctx: InvokeContext): InvokeBody {
  const shaped = shapeClaudeBody(req, ctx);
  const { out } = shaped;
  if (shaped.betas.length > 0) out.anthropic_beta = shaped.betas;
  return { body: JSON.stringify(out), warnings: shaped.warnings, droppedBetas: shaped.droppedBetas };
}

/** The Claude body the allow-list admits, before the wire details of a path (version, betas, model). */
export interface ShapedClaudeBody {
  /** Top-level fields (a shallow copy); `anthropic_version` is set, `anthropic_beta` is not. */
  out: Record<string, unknown>;
  /** Betas Bedrock takes for this model, renamed where Bedrock differs. */
  betas: string[];
  warnings: string[];
  droppedBetas: string[];
}

/** Every step above except serialization; shared with Bedrock's Messages API (to-messages.ts). */
export function shapeClaudeBody(req: MessagesRequest, ctx: InvokeContext): ShapedClaudeBody {
  const { features } = ctx;
  refuseUnenforcedFormat(req, features.outputFormat ? null : modelLacksFormat(ctx.baseModelId));
  const warnings: string[] = [];
  const { allowed, dropped } = selectBetas(ctx.betas, features);
  const out: Record<string, unknown> = { anthropic_version: BEDROCK_ANTHROPIC_VERSION };
  const d: Draft = { out, features, betas: allowed, warnings };

  for (const [key, value] of Object.entries(req)) {
    if (value === undefined || GATEWAY_FIELDS.has(key)) continue;
    if (features.fields.includes(key)) out[key] = value;
    else warnings.push(`${key} is not accepted by Bedrock for ${features.generation}; dropped`);
  }

  keepKnownMetadata(d);
  dropServerTools(d);
  dropUnenforcedStrict(d);
  clampMaxTokens(d, ctx.maxOutputTokens);
  keepClaudeThinkingOnly(d);
  const effort = req.output_config?.effort ?? undefined;
  const effortUsed = shapeThinking(d, req.thinking, effort);
  keepToolLoopValid(d);
  shapeOutputConfig(d, req.output_config, effortUsed);
  shapeContextManagement(d);
  addFieldBetas(d);
  shapeConversation(d);

  return { out, betas: d.betas, warnings, droppedBetas: dropped };
}

/** Splits the client's betas into what Bedrock takes for this model (renamed where Bedrock differs) and the rest. */
function selectBetas(
  requested: readonly string[],
  features: ClaudeFeatures,
): { allowed: string[]; dropped: string[] } {
  // Sets (in insertion order): the list is the client's, and a Bedrock-format body may hold a million
  // distinct names; `includes` per name made this quadratic (30,000 names held the event loop 0.7 s).
  const allowed = new Set<string>();
  const dropped = new Set<string>();
  for (const raw of requested) {
    const beta = raw.trim();
    if (beta === '') continue;
    // Own entries only: a client's `constructor` or `__proto__` must not read Object.prototype.
    const names = Object.hasOwn(BEDROCK_BETA_ALIASES, beta) ? BEDROCK_BETA_ALIASES[beta]! : [beta];
    const usable = names.filter((name) => features.betas.includes(name));
    if (usable.length === 0) dropped.add(beta);
    for (const name of usable) allowed.add(name);
  }
  return { allowed: [...allowed], dropped: [...dropped] };
}

/**
 * Tools Anthropic runs on its side, which Bedrock refuses for Claude (protocol-notes.md: web search and
 * fetch, code execution; the gateway runs the web tools itself before this point), and MCP toolsets,
 * whose servers (`mcp_servers`) Bedrock has no field for either.
 */
const SERVER_TOOL = /^((web_search|web_fetch|code_execution)_|mcp_toolset$)/;

/** Server tools out, with a warning, and a tool_choice naming one of them with them. */
function dropServerTools(d: Draft): void {
  const tools = d.out.tools;
  if (!Array.isArray(tools)) return;
  const isServer = (tool: Tool) => typeof tool.type === 'string' && SERVER_TOOL.test(tool.type);
  const dropped = (tools as Tool[]).filter(isServer);
  if (dropped.length === 0) return;
  const kept = (tools as Tool[]).filter((tool) => !isServer(tool));
  d.warnings.push(
    `server tools are not run by Bedrock for Claude; dropped: ${dropped.map((t) => t.name ?? t.type).join(', ')}`,
  );
  const choice = d.out.tool_choice as ToolChoice | undefined;
  if (kept.length === 0) {
    delete d.out.tools;
    delete d.out.tool_choice;
    return;
  }
  d.out.tools = kept;
  if (choice?.type === 'tool' && !kept.some((tool) => tool.name === choice.name)) delete d.out.tool_choice;
}

/**
 * Tool `strict` is structured outputs' other half: where the model has none (before Claude 4.5) Bedrock
 * refuses the key, so it goes, as output_config.format does; the tool keeps its schema.
 */
function dropUnenforcedStrict(d: Draft): void {
  const tools = d.out.tools;
  if (d.features.outputFormat || !Array.isArray(tools)) return;
  let dropped = 0;
  const kept = (tools as Tool[]).map((tool) => {
    if (tool.strict === undefined) return tool;
    dropped++;
    const { strict: _strict, ...rest } = tool;
    return rest;
  });
  if (dropped === 0) return;
  d.out.tools = kept;
  d.warnings.push(`tool strict is not accepted by this model; removed from ${dropped} tool(s)`);
}

/** Claude's metadata takes `user_id` only; other keys (some clients add their own) would fail the call. */
function keepKnownMetadata(d: Draft): void {
  const metadata = d.out.metadata as Record<string, unknown> | undefined;
  if (metadata === undefined) return;
  const extra = Object.keys(metadata).filter((key) => key !== 'user_id');
  if (extra.length === 0) return;
  d.out.metadata = metadata.user_id === undefined ? {} : { user_id: metadata.user_id };
  d.warnings.push(
    `metadata ${extra
      .slice(0, 5)
      .map((key) => key.slice(0, 40))
      .join(', ')} dropped: Bedrock takes metadata.user_id only`,
  );
}

function clampMaxTokens(d: Draft, modelCap: number): void {
  const capBeta = d.features.outputCapBeta;
  const cap = capBeta && d.betas.includes(capBeta.beta) ? capBeta.maxOutputTokens : modelCap;
  const maxTokens = d.out.max_tokens;
  if (typeof maxTokens === 'number' && maxTokens > cap) {
    d.warnings.push(`max_tokens ${maxTokens} exceeds this model's output limit; clamped to ${cap}`);
    d.out.max_tokens = cap;
  }
}

/**
 * Puts a thinking config the model accepts into the body (or none). Returns true when the requested
 * effort was spent on the thinking budget and must not also go out as output_config.effort.
 */
function shapeThinking(d: Draft, thinking: ThinkingConfig | undefined, effort: Effort | undefined): boolean {
  delete d.out.thinking;
  if (!thinking) return false;
  const types = d.features.thinkingTypes;
  if (types.length === 0 || !d.features.fields.includes('thinking')) {
    if (thinking.type !== 'disabled') d.warnings.push('thinking is not supported by this model; dropped');
    return false;
  }
  switch (thinking.type) {
    case 'disabled':
      if (!types.includes('disabled'))
        d.warnings.push('this model always thinks; thinking: disabled omitted');
      // Opus 4.7/4.8: off is the default and the value a 400, so off means no thinking field.
      else if (!d.features.disabledByOmission) d.out.thinking = thinking;
      return false;
    case 'enabled':
      if (types.includes('enabled')) {
        setBudget(d, thinking.budget_tokens, display(thinking, d), true);
        return false;
      }
      if (types.includes('adaptive')) {
        d.out.thinking = { type: 'adaptive', ...display(thinking, d) };
        const derived = effort ?? effortFromBudget(thinking.budget_tokens);
        d.warnings.push(
          `this model takes adaptive thinking only; budget_tokens replaced by effort ${derived}`,
        );
        if (!effort && d.features.efforts.length > 0) setEffort(d, derived);
        return false;
      }
      d.warnings.push('thinking with a budget is not supported by this model; dropped');
      return false;
    case 'adaptive':
    case 'between_tools':
      if (types.includes(thinking.type as ClaudeThinkingType)) {
        const { display: _display, ...rest } = thinking as ThinkingConfig & { display?: unknown };
        d.out.thinking = { ...rest, ...display(thinking, d) };
        return false;
      }
      if (types.includes('adaptive')) {
        d.out.thinking = { type: 'adaptive', ...display(thinking, d) };
        return false;
      }
      if (types.includes('enabled')) {
        const from = effort ?? EFFORT_FOR_BUDGET;
        setBudget(d, budgetFromEffort(from), display(thinking, d), false);
        if (d.out.thinking) {
          const budget = (d.out.thinking as { budget_tokens: number }).budget_tokens;
          d.warnings.push(
            `adaptive thinking is not supported by this model; sent as a budget of ${budget} tokens`,
          );
        }
        return d.features.efforts.length === 0;
      }
      d.warnings.push('adaptive thinking is not supported by this model; dropped');
      return false;
    default: {
      const unreachable: never = thinking;
      throw new Error(`unknown thinking type ${JSON.stringify(unreachable)}`);
    }
  }
}

/** `{display}` when the client set one and the model takes it; a warning when it is removed. */
function display(thinking: ThinkingConfig, d: Draft): { display?: 'summarized' | 'omitted' } {
  const value = 'display' in thinking ? thinking.display : undefined;
  if (value === undefined) return {};
  // No Bedrock source lists `updates` (nor its beta): the model's default display is the safe choice.
  if (value === 'updates') {
    d.warnings.push('thinking.display "updates" is not accepted on Bedrock; removed');
    return {};
  }
  if (d.features.thinkingDisplay) return { display: value };
  d.warnings.push('thinking.display is not accepted by this model; removed');
  return {};
}

function setBudget(d: Draft, requested: number, extra: object, explicit: boolean): void {
  const maxTokens = typeof d.out.max_tokens === 'number' ? d.out.max_tokens : Number.POSITIVE_INFINITY;
  // Interleaved thinking lets the budget exceed max_tokens (it spans the whole turn).
  const interleaved = d.betas.some((b) => b.startsWith('interleaved-thinking-'));
  const budget = fitThinkingBudget(requested, maxTokens, { explicit, interleaved }, (m) =>
    d.warnings.push(m),
  );
  if (budget !== null) d.out.thinking = { type: 'enabled', budget_tokens: budget, ...extra };
}

function setEffort(d: Draft, effort: Effort): void {
  const current = (d.out.output_config as OutputConfig | undefined) ?? {};
  d.out.output_config = { ...current, effort };
}

function shapeOutputConfig(d: Draft, requested: OutputConfig | undefined, effortUsed: boolean): void {
  // shapeThinking may have set an effort of its own; the client's config comes on top of it.
  const derived = (d.out.output_config as OutputConfig | undefined)?.effort;
  delete d.out.output_config;
  if (!d.features.fields.includes('output_config')) {
    if (requested?.effort && !effortUsed)
      d.warnings.push('output_config.effort is not supported by this model; dropped');
    return;
  }
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(requested ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === 'effort') continue;
    if (key === 'format' && d.features.outputFormat) config.format = value;
    else d.warnings.push(`output_config.${key} is not supported by this model; dropped`);
  }
  const effort = requested?.effort ?? derived;
  if (effort && !effortUsed) {
    const levels = d.features.efforts;
    if (levels.length === 0) {
      d.warnings.push('output_config.effort is not supported by this model; dropped');
    } else {
      const level = effortToLevel(effort, levels);
      if (level !== effort)
        d.warnings.push(`effort ${effort} is not offered by this model; sent as ${level}`);
      config.effort = level;
    }
  }
  if (Object.keys(config).length > 0) d.out.output_config = config;
}

/** History thinking from another model (after a model switch) would fail Bedrock's signature check. */
function keepClaudeThinkingOnly(d: Draft): void {
  if (!Array.isArray(d.out.messages)) return;
  const { messages, dropped } = dropForeignThinking(d.out.messages as MessageParam[]);
  if (dropped === 0) return;
  d.out.messages = messages;
  d.warnings.push(`${dropped} thinking block(s) not signed by Claude dropped from history`);
}

/** Thinking off for this call when the open tool loop began on a turn without Claude's thinking. */
function keepToolLoopValid(d: Draft): void {
  const type = (d.out.thinking as { type?: string } | undefined)?.type;
  if (type === undefined || type === 'disabled') return;
  if (!Array.isArray(d.out.messages) || !toolLoopLacksThinking(d.out.messages as MessageParam[])) return;
  // A model that always thinks cannot be asked not to; Bedrock's own error is then the honest answer.
  if (!d.features.thinkingTypes.includes('disabled')) return;
  delete d.out.thinking;
  d.warnings.push('thinking off for this turn: the tool loop started on a turn without Claude thinking');
}

/** True when the body asks the model to think (or the model always does). */
function thinkingOn(d: Draft): boolean {
  const type = (d.out.thinking as { type?: string } | undefined)?.type;
  if (type !== undefined) return type !== 'disabled';
  const types = d.features.thinkingTypes;
  return types.length > 0 && !types.includes('disabled');
}

/** clear_thinking edits need thinking on; without any edit left the field goes. */
function shapeContextManagement(d: Draft): void {
  const cm = d.out.context_management as { edits?: unknown } | undefined;
  if (!cm || typeof cm !== 'object' || !Array.isArray(cm.edits) || thinkingOn(d)) return;
  const edits = cm.edits.filter(
    (e) => !String((e as { type?: unknown })?.type ?? '').startsWith('clear_thinking'),
  );
  if (edits.length === cm.edits.length) return;
  d.warnings.push('context_management clear_thinking edits removed: thinking is off');
  if (edits.length === 0) delete d.out.context_management;
  else d.out.context_management = { ...cm, edits };
}

function addFieldBetas(d: Draft): void {
  for (const [path, beta] of Object.entries(d.features.fieldBetas)) {
    if (!hasPath(d.out, path) || d.betas.includes(beta)) continue;
    if (d.features.betas.includes(beta)) {
      d.betas.push(beta);
    } else {
      d.warnings.push(`${path} needs the ${beta} beta, which this model lacks on Bedrock; dropped`);
      deletePath(d.out, path);
    }
  }
}

function shapeConversation(d: Draft): void {
  const rules: ContentRules = {
    cacheTtl: d.features.cacheTtl,
    toolSearch: d.betas.some((b) => TOOL_SEARCH_BETAS.includes(b)),
    systemMessages: d.features.systemMessages,
    compaction: d.betas.includes(COMPACT_BETA),
    onDrop: (type) => dropped.add(type),
  };
  const dropped = new Set<string>();
  let history = d.out.messages as MessageParam[];
  if (!rules.compaction) {
    const compacted = fromLastCompaction(history);
    history = compacted.messages;
    if (compacted.dropped > 0) d.warnings.push(compactedWarning(compacted.dropped));
  }
  const { messages, systemExtra } = fixMessages(history, rules);
  d.out.messages = messages;
  if (dropped.size > 0)
    d.warnings.push(
      `content blocks of server tools Bedrock does not run dropped: ${[...dropped].join(', ')}`,
    );
  let system = d.out.system as MessagesRequest['system'];
  if (system !== undefined) system = fixSystem(system, rules);
  if (systemExtra.length > 0) system = joinSystem(system, systemExtra);
  if (system !== undefined) d.out.system = system;
  if (Array.isArray(d.out.tools)) {
    d.out.tools = fixTools(d.out.tools as Tool[], rules, (m) => d.warnings.push(m));
  }
  const unmarked = limitCacheMarks(d.out, MAX_CACHE_POINTS);
  if (unmarked > 0)
    d.warnings.push(
      `${unmarked} earliest cache_control mark(s) removed: at most ${MAX_CACHE_POINTS} are taken`,
    );
}

function joinSystem(system: MessagesRequest['system'], extra: TextBlockParam[]): TextBlockParam[] {
  if (system === undefined || system === '') return extra;
  const head: TextBlockParam[] = typeof system === 'string' ? [{ type: 'text', text: system }] : system;
  return [...head, ...extra];
}

function hasPath(target: Record<string, unknown>, path: string): boolean {
  let node: unknown = target;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== undefined && node !== null;
}

function deletePath(target: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  if (keys.length === 1) {
    delete target[path];
    return;
  }
  // Nested parts are rebuilt, never mutated: they may be the client's objects.
  const [head, ...rest] = keys as [string, ...string[]];
  const child = target[head];
  if (typeof child !== 'object' || child === null) return;
  const copy = { ...(child as Record<string, unknown>) };
  deletePath(copy, rest.join('.'));
  if (Object.keys(copy).length === 0) delete target[head];
  else target[head] = copy;
}
