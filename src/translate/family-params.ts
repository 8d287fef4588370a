/**
 * Anthropic generation settings (thinking, effort, max_tokens, temperature/top_p/top_k) → what the
 * resolved model's family accepts on Converse. Pure; every lossy step is reported in `warnings`.
 * Budget/effort conversions live in models/reasoning-levels.ts.
 */
import type { Effort, ThinkingConfig } from '../anthropic/types.ts';
import {
  budgetFromEffort,
  DEFAULT_EFFORT,
  effortFromBudget,
  effortToLevel,
  fitThinkingBudget,
} from '../models/reasoning-levels.ts';
import type { ModelCapabilities, ReasoningControl } from '../models/types.ts';

export interface FamilyParamsInput {
  thinking?: ThinkingConfig;
  effort?: Effort | null;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
}

export interface FamilyParams {
  /** Goes to Converse `additionalModelRequestFields` (omitted when empty). */
  additionalModelRequestFields: Record<string, unknown>;
  /** Converse inferenceConfig values after family rules (clamped maxTokens; temperature/topP dropped
   * where the family forbids them with reasoning on). */
  maxTokens: number;
  temperature?: number;
  topP?: number;
  /** True when the request asks the model to reason (affects history handling). */
  reasoning: boolean;
  warnings: string[];
  /** Converse top-level `outputConfig.effort` (Claude models that take effort). */
  effort?: string;
  /** Leave inferenceConfig.maxTokens unset: Nova 2 refuses it with maxReasoningEffort `high`. */
  omitMaxTokens?: boolean;
}

const NOVA_LEVELS = ['low', 'medium', 'high'] as const;

interface Draft {
  fields: Record<string, unknown>;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  reasoning: boolean;
  effort?: string;
  omitMaxTokens?: boolean;
  warnings: string[];
}

export function familyParams(caps: ModelCapabilities, input: FamilyParamsInput): FamilyParams {
  const d: Draft = {
    fields: {},
    maxTokens: input.maxTokens,
    temperature: input.temperature,
    topP: input.topP,
    topK: input.topK,
    reasoning: false,
    warnings: [],
  };
  if (d.maxTokens > caps.maxOutputTokens) {
    d.warnings.push(
      `max_tokens ${d.maxTokens} exceeds this model's output limit; clamped to ${caps.maxOutputTokens}`,
    );
    d.maxTokens = caps.maxOutputTokens;
  }

  applyReasoning(caps.reasoning, input, d);

  if (caps.exclusiveSampling && d.temperature !== undefined && d.topP !== undefined) {
    d.warnings.push('temperature and top_p cannot both be set for this model; top_p dropped');
    d.topP = undefined;
  }
  if (d.topK !== undefined) {
    if (caps.topKField) setPath(d.fields, caps.topKField, d.topK);
    else d.warnings.push('top_k is not supported by this model; dropped');
  }

  const out: FamilyParams = {
    additionalModelRequestFields: d.fields,
    maxTokens: d.maxTokens,
    reasoning: d.reasoning,
    warnings: d.warnings,
  };
  if (d.temperature !== undefined) out.temperature = d.temperature;
  if (d.topP !== undefined) out.topP = d.topP;
  if (d.effort !== undefined) out.effort = d.effort;
  if (d.omitMaxTokens) out.omitMaxTokens = true;
  return out;
}

function applyReasoning(control: ReasoningControl, input: FamilyParamsInput, d: Draft): void {
  const thinking = input.thinking;
  const effort = input.effort ?? undefined;
  switch (control.kind) {
    case 'anthropic':
      applyAnthropic(control, thinking, effort, d);
      return;
    case 'effort-field': {
      const level = requestedEffort(thinking, effort);
      if (thinking?.type === 'disabled') {
        d.warnings.push(
          `this model cannot switch reasoning off; ${control.field} set to ${control.levels[0]}`,
        );
        d.fields[control.field] = control.levels[0];
      } else if (level) {
        d.fields[control.field] = effortToLevel(level, control.levels);
      }
      d.reasoning = true; // gpt-oss reasons on every turn; the field only sets how much
      return;
    }
    case 'nova': {
      if (!thinking || thinking.type === 'disabled') return;
      const level = effortToLevel(requestedEffort(thinking, effort) ?? DEFAULT_EFFORT, NOVA_LEVELS);
      d.fields.reasoningConfig = { type: 'enabled', maxReasoningEffort: level };
      d.reasoning = true;
      // Nova 2 with reasoning on refuses temperature/topP, and with `high` also maxTokens.
      dropSampling(d, 'with Nova reasoning on', { temperature: true, topP: true });
      if (level === 'high') d.omitMaxTokens = true;
      return;
    }
    case 'toggle':
      if (thinking && thinking.type !== 'disabled') {
        Object.assign(d.fields, control.on);
        d.reasoning = true;
      } else if (thinking?.type === 'disabled' && control.off) {
        Object.assign(d.fields, control.off);
      }
      return;
    case 'always':
      d.reasoning = true;
      if (thinking?.type === 'disabled')
        d.warnings.push('this model always reasons; thinking: disabled ignored');
      return;
    case 'none':
      // Claude Code sends adaptive thinking to every model: only an explicit budget is worth a warning.
      if (thinking?.type === 'enabled') d.warnings.push('thinking is not supported by this model; dropped');
      return;
    default: {
      const unreachable: never = control;
      throw new Error(`unknown reasoning control ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The effort a request implies: named effort first, else one derived from a budget. */
function requestedEffort(
  thinking: ThinkingConfig | undefined,
  effort: Effort | undefined,
): Effort | undefined {
  if (effort) return effort;
  if (thinking?.type === 'enabled') return effortFromBudget(thinking.budget_tokens);
  if (thinking?.type === 'adaptive' || thinking?.type === 'between_tools') return DEFAULT_EFFORT;
  return undefined;
}

function applyAnthropic(
  control: Extract<ReasoningControl, { kind: 'anthropic' }>,
  thinking: ThinkingConfig | undefined,
  effort: Effort | undefined,
  d: Draft,
): void {
  const acceptsBudget = control.budget ?? true;
  const canDisable = control.canDisable ?? true;
  let on = false;

  switch (thinking?.type) {
    case undefined:
      break;
    case 'disabled':
      // Omitting thinking is "off" where off exists; where it does not, the model keeps its default.
      if (!canDisable) d.warnings.push('this model always thinks; thinking: disabled ignored');
      break;
    case 'enabled':
      if (acceptsBudget) {
        on = sendBudget(thinking.budget_tokens, d);
      } else {
        effort ??= effortFromBudget(thinking.budget_tokens);
        d.warnings.push(
          `this model takes adaptive thinking only; budget_tokens replaced by effort ${effort}`,
        );
        d.fields.thinking = { type: 'adaptive' };
        on = true;
      }
      break;
    case 'adaptive':
    case 'between_tools':
      if (control.adaptive) {
        d.fields.thinking = { type: 'adaptive' };
        on = true;
      } else {
        on = sendBudget(budgetFromEffort(effort ?? 'high'), d, false);
      }
      break;
    default: {
      const unreachable: never = thinking;
      throw new Error(`unknown thinking type ${JSON.stringify(unreachable)}`);
    }
  }

  if (effort) {
    if (!control.effort) {
      // Claude Code pairs effort with adaptive thinking; translating that pair is not a loss worth noting.
      if (thinking?.type !== 'adaptive')
        d.warnings.push('output_config.effort is not supported by this model; dropped');
    } else if (!on && (effort === 'xhigh' || effort === 'max') && canDisable) {
      d.warnings.push(`effort ${effort} needs thinking; capped at high`);
      d.effort = 'high';
    } else {
      d.effort = effort;
    }
  }

  if (on) {
    d.reasoning = true;
    addDisplay(control, thinking, d);
    dropSampling(d, 'with thinking on', { temperatureNot1: true, topPBelow: 0.95, topK: true });
  }
}

/**
 * `thinking.display` rides in the thinking object, where the model takes it (Opus 4.7 on, whose default
 * is `omitted`: without it a client asking for summaries gets empty thinking). Older models refuse the key
 * and show summaries anyway, so there it goes quietly (Claude Code sends it to every model).
 */
function addDisplay(
  control: Extract<ReasoningControl, { kind: 'anthropic' }>,
  thinking: ThinkingConfig | undefined,
  d: Draft,
): void {
  const display = thinking && 'display' in thinking ? thinking.display : undefined;
  if (display === undefined || display === null || !control.display) return;
  // No Bedrock source lists `updates` (nor its beta): the model's default display is the safe choice.
  if (display === 'updates') {
    d.warnings.push('thinking.display "updates" is not accepted on Bedrock; removed');
    return;
  }
  d.fields.thinking = { ...(d.fields.thinking as Record<string, unknown>), display };
}

/** Sets {thinking: enabled, budget_tokens} within Anthropic's rules; false when no budget fits. */
function sendBudget(requested: number, d: Draft, explicit = true): boolean {
  const budget = fitThinkingBudget(requested, d.maxTokens, { explicit }, (m) => d.warnings.push(m));
  if (budget === null) return false;
  d.fields.thinking = { type: 'enabled', budget_tokens: budget };
  return true;
}

function dropSampling(
  d: Draft,
  why: string,
  rules: {
    temperature?: boolean;
    temperatureNot1?: boolean;
    topP?: boolean;
    topPBelow?: number;
    topK?: boolean;
  },
): void {
  if (d.temperature !== undefined && (rules.temperature || (rules.temperatureNot1 && d.temperature !== 1))) {
    d.warnings.push(`temperature is not allowed ${why}; dropped`);
    d.temperature = undefined;
  }
  if (d.topP !== undefined && (rules.topP || (rules.topPBelow !== undefined && d.topP < rules.topPBelow))) {
    d.warnings.push(`top_p is not allowed ${why}; dropped`);
    d.topP = undefined;
  }
  if (d.topK !== undefined && rules.topK) {
    d.warnings.push(`top_k is not allowed ${why}; dropped`);
    d.topK = undefined;
  }
}

/** `a.b` → {a: {b: value}}, merging with what is there. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) {
      node = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys[keys.length - 1]!] = value;
}
