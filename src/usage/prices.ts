/**
 * Model prices in USD per million tokens, matched against the resolved Bedrock id. The defaults are
 * Bedrock on-demand list prices for us-east-1 as published when written; they are estimates for
 * budgets and reports, not an invoice. ABPROXY_PRICES (JSON, same shape) overrides or adds entries.
 */

export interface Price {
  input: number;
  output: number;
  /** Prompt-cache reads; defaults to 10% of input where the model has no cache price. */
  cacheRead?: number;
  /** Prompt-cache writes; defaults to the input price. */
  cacheWrite?: number;
}

/** Pattern → price; a pattern is a substring of the model id, `*` the fallback for unknown models. */
export type PriceTable = Record<string, Price>;

export const DEFAULT_PRICES: PriceTable = {
  // Newer models each need their own entry: by substring, Opus 4.6 would be Opus 4's $15/$75 and Opus
  // 5.5 (Claude Code's default) the `*` fallback's $3/$15.
  'anthropic.claude-opus-5-5': { input: 4, output: 20, cacheRead: 0.2, cacheWrite: 5 },
  'anthropic.claude-opus-4-6': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'anthropic.claude-opus-4-5': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'anthropic.claude-opus-4': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'anthropic.claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic.claude-3-7-sonnet': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic.claude-3-5-sonnet': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic.claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'anthropic.claude-3-5-haiku': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
  'anthropic.claude-3-haiku': { input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.3 },
  'amazon.nova-premier': { input: 2.5, output: 12.5, cacheRead: 0.625 },
  'amazon.nova-pro': { input: 0.8, output: 3.2, cacheRead: 0.2 },
  'amazon.nova-lite': { input: 0.06, output: 0.24, cacheRead: 0.015 },
  'amazon.nova-micro': { input: 0.035, output: 0.14, cacheRead: 0.00875 },
  'amazon.nova-2-lite': { input: 0.3, output: 2.5, cacheRead: 0.075 },
  'deepseek.r1': { input: 1.35, output: 5.4 },
  'deepseek.v3': { input: 0.58, output: 1.68 },
  'openai.gpt-oss-120b': { input: 0.15, output: 0.6 },
  'openai.gpt-oss-20b': { input: 0.07, output: 0.3 },
  'qwen.qwen3-coder-480b': { input: 0.45, output: 1.8 },
  'qwen.qwen3-coder-30b': { input: 0.15, output: 0.6 },
  'qwen.qwen3-235b': { input: 0.22, output: 0.88 },
  'qwen.qwen3-32b': { input: 0.15, output: 0.6 },
  'moonshot.kimi-k2': { input: 0.6, output: 2.5 },
  'minimax.minimax-m2': { input: 0.3, output: 1.2 },
  'zai.glm-4': { input: 0.6, output: 2.2 },
  'meta.llama4-maverick': { input: 0.24, output: 0.97 },
  'meta.llama4-scout': { input: 0.17, output: 0.66 },
  'meta.llama3-3-70b': { input: 0.72, output: 0.72 },
  'meta.llama3': { input: 0.72, output: 0.72 },
  'mistral.mistral-large': { input: 2, output: 6 },
  'mistral.pixtral-large': { input: 2, output: 6 },
  'mistral.': { input: 0.5, output: 1.5 },
  // Unknown models are priced like a mid-size Claude so a budget still runs out rather than never.
  '*': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
};

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/**
 * Answers of priceFor per table and model id: every request asks twice (its open and done records) for
 * one of a handful of ids, and the answer is a scan of the whole table (tables are not changed once
 * mergePrices built them). Bounded: a door caller may name many ids.
 */
const remembered = new WeakMap<PriceTable, Map<string, Price | undefined>>();

/** The longest pattern contained in the model id wins; `*` when none does. */
export function priceFor(modelId: string, table: PriceTable): Price | undefined {
  let answers = remembered.get(table);
  if (!answers) {
    answers = new Map();
    remembered.set(table, answers);
  }
  if (answers.has(modelId)) return answers.get(modelId);
  if (answers.size >= 1024) answers.clear();
  const price = scanPrices(modelId, table);
  answers.set(modelId, price);
  return price;
}

function scanPrices(modelId: string, table: PriceTable): Price | undefined {
  const id = modelId.toLowerCase();
  let best: string | undefined;
  for (const pattern of Object.keys(table)) {
    if (pattern === '*' || !id.includes(pattern.toLowerCase())) continue;
    if (best === undefined || pattern.length > best.length) best = pattern;
  }
  return table[best ?? '*'];
}

/** USD for the tokens of one request, rounded to a millionth of a cent. */
export function costUsd(modelId: string, tokens: TokenCounts, table: PriceTable): number {
  const price = priceFor(modelId, table);
  if (!price) return 0;
  const micro =
    tokens.inputTokens * price.input +
    tokens.outputTokens * price.output +
    tokens.cacheReadTokens * (price.cacheRead ?? price.input * 0.1) +
    tokens.cacheCreationTokens * (price.cacheWrite ?? price.input);
  return Math.round(micro * 100) / 1e8;
}

function isPrice(value: unknown): value is Price {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const ok = (n: unknown, optional: boolean) =>
    (optional && n === undefined) || (typeof n === 'number' && Number.isFinite(n) && n >= 0);
  return ok(v.input, false) && ok(v.output, false) && ok(v.cacheRead, true) && ok(v.cacheWrite, true);
}

/** Defaults plus config overrides; throws with the offending entry named. */
export function mergePrices(overrides: Record<string, unknown> | undefined): PriceTable {
  const table: PriceTable = { ...DEFAULT_PRICES };
  for (const [pattern, price] of Object.entries(overrides ?? {})) {
    if (!isPrice(price)) {
      throw new Error(
        `price for ${JSON.stringify(pattern)} must be {input, output[, cacheRead, cacheWrite]} in USD per million tokens`,
      );
    }
    // A built-in pattern that contains the operator's (`anthropic.claude-haiku-4-5` for
    // `claude-haiku-4-5`) would win as the longer match and hide the override: it goes.
    const wanted = pattern.toLowerCase();
    for (const builtin of Object.keys(DEFAULT_PRICES)) {
      if (builtin !== pattern && builtin.toLowerCase().includes(wanted)) delete table[builtin];
    }
    table[pattern] = price;
  }
  return table;
}
