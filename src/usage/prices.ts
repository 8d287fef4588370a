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
  /** Prompt-cache writes with the 5-minute lifetime; defaults to the input price. */
  cacheWrite?: number;
  /** Prompt-cache writes with the 1-hour lifetime (Claude: 2× input); defaults to `cacheWrite`. */
  cacheWrite1h?: number;
  /**
   * Every token of a request whose prompt (input, cache reads and writes) is above `tokens` is priced
   * at these rates instead, output included: Haiku 5.5 past 100k, Sonnet 4 and 4.5 past 200k.
   */
  longPrompt?: Omit<Price, 'longPrompt'> & { tokens: number };
}

/** Pattern → price; a pattern is a substring of the model id, `*` the fallback for unknown models. */
export type PriceTable = Record<string, Price>;

/** Anthropic's list prices (Bedrock's on-demand prices for Claude are the same); cache rates per model. */
function claude(input: number, output: number, cacheRead = input / 10): Price {
  return { input, output, cacheRead, cacheWrite: input * 1.25, cacheWrite1h: input * 2 };
}

const FABLE_5_1 = claude(10, 50, 0.25);
const FABLE_5 = claude(10, 50, 1);
const FABLE_5_2 = claude(8, 40, 0.2);
const OPUS_4_5 = claude(5, 25);
const OPUS_4 = claude(15, 75);
const SONNET_5 = claude(2, 10);
/** Past 200k prompt tokens (the 1M-context window) Sonnet 4 and 4.5 cost 2× input and 1.5× output. */
const SONNET_4 = { ...claude(3, 15), longPrompt: { tokens: 200_000, ...claude(6, 22.5) } };

export const DEFAULT_PRICES: PriceTable = {
  'anthropic.claude-fable-5-2': FABLE_5_2,
  'anthropic.claude-mythos-5-2': FABLE_5_2,
  'anthropic.claude-fable-5-1': FABLE_5_1,
  'anthropic.claude-mythos-5-1': FABLE_5_1,
  'anthropic.claude-fable-5': FABLE_5,
  'anthropic.claude-mythos-5': FABLE_5,
  // Opus 5.5 and Sonnet 5.5 read the cache at 5% of input, not 10%.
  'anthropic.claude-opus-5-5': claude(4, 20, 0.2),
  'anthropic.claude-opus-5': OPUS_4_5,
  'anthropic.claude-opus-4-8': OPUS_4_5,
  'anthropic.claude-opus-4-7': OPUS_4_5,
  'anthropic.claude-opus-4-6': OPUS_4_5,
  'anthropic.claude-opus-4-5': OPUS_4_5,
  'anthropic.claude-opus-4': OPUS_4,
  'anthropic.claude-sonnet-5-5': claude(2, 10, 0.1),
  'anthropic.claude-sonnet-5': SONNET_5,
  // Sonnet 4.6 has its 1M window at the standard rates.
  'anthropic.claude-sonnet-4-6': claude(3, 15),
  'anthropic.claude-sonnet-4': SONNET_4,
  'anthropic.claude-3-7-sonnet': claude(3, 15),
  'anthropic.claude-3-5-sonnet': claude(3, 15),
  'anthropic.claude-haiku-5-5': { ...claude(0.1, 0.5), longPrompt: { tokens: 100_000, ...claude(0.5, 2.5) } },
  'anthropic.claude-haiku-4-5': claude(1, 5),
  'anthropic.claude-3-5-haiku': claude(0.8, 4),
  'anthropic.claude-3-haiku': {
    input: 0.25,
    output: 1.25,
    cacheRead: 0.03,
    cacheWrite: 0.3,
    cacheWrite1h: 0.5,
  },
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
  /** The part of cacheCreationTokens written with the 1-hour lifetime (priced at `cacheWrite1h`). */
  cacheCreation1hTokens?: number;
}

/**
 * Answers of priceFor per table and model id: every request asks twice (its open and done records) for
 * one of a handful of ids, and the answer is a scan of the whole table (tables are not changed once
 * mergePrices built them). Bounded: a door caller may name many ids.
 */
const remembered = new WeakMap<PriceTable, Map<string, Price | undefined>>();

/** The most specific pattern contained in the model id wins (scanPrices); `*` when none does. */
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

/**
 * The entry for a model id, among the patterns it contains: an operator's (ABPROXY_PRICES) before any
 * built-in, however long (`claude-sonnet-4-5` lost to the built-in `anthropic.claude-sonnet-4`); then one
 * that ends at a separator before one that stops inside a word or number (Fable 5's dated id
 * `anthropic.claude-fable-5-20260115` contains Fable 5.2's `anthropic.claude-fable-5-2`); then the one
 * reaching furthest into the id (the most specific), then the longer.
 */
function scanPrices(modelId: string, table: PriceTable): Price | undefined {
  const id = modelId.toLowerCase();
  const own = operatorPatterns.get(table);
  let best: { pattern: string; whole: boolean; end: number; own: boolean } | undefined;
  for (const pattern of Object.keys(table)) {
    const wanted = pattern.toLowerCase();
    const at = id.indexOf(wanted);
    if (pattern === '*' || at < 0) continue;
    const match = {
      pattern,
      whole: endsWhole(id, wanted, at),
      end: at + wanted.length,
      own: own?.has(pattern) === true,
    };
    if (best === undefined || better(match, best)) best = match;
  }
  return table[best?.pattern ?? '*'];
}

function better(
  a: { pattern: string; whole: boolean; end: number; own: boolean },
  b: { pattern: string; whole: boolean; end: number; own: boolean },
): boolean {
  if (a.own !== b.own) return a.own;
  if (a.whole !== b.whole) return a.whole;
  if (a.end !== b.end) return a.end > b.end;
  return a.pattern.length > b.pattern.length;
}

/** Whether some occurrence of `pattern` in `id` (the first at `from`) ends at the end or a separator. */
function endsWhole(id: string, pattern: string, from: number): boolean {
  if (!/[a-z0-9]$/.test(pattern)) return true;
  for (let at = from; at >= 0; at = id.indexOf(pattern, at + 1)) {
    if (!/[a-z0-9]/.test(id.charAt(at + pattern.length))) return true;
  }
  return false;
}

/** USD for the tokens of one request, rounded to a millionth of a cent. */
export function costUsd(modelId: string, tokens: TokenCounts, table: PriceTable): number {
  const base = priceFor(modelId, table);
  if (!base) return 0;
  const prompt = tokens.inputTokens + tokens.cacheReadTokens + tokens.cacheCreationTokens;
  const price = base.longPrompt && prompt > base.longPrompt.tokens ? base.longPrompt : base;
  const hourWrites = Math.min(tokens.cacheCreation1hTokens ?? 0, tokens.cacheCreationTokens);
  const write = price.cacheWrite ?? price.input;
  const micro =
    tokens.inputTokens * price.input +
    tokens.outputTokens * price.output +
    tokens.cacheReadTokens * (price.cacheRead ?? price.input * 0.1) +
    (tokens.cacheCreationTokens - hourWrites) * write +
    hourWrites * (price.cacheWrite1h ?? write);
  return Math.round(micro * 100) / 1e8;
}

function isPrice(value: unknown, nested = false): value is Price {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const ok = (n: unknown, optional: boolean) =>
    (optional && n === undefined) || (typeof n === 'number' && Number.isFinite(n) && n >= 0);
  const long = v.longPrompt as Record<string, unknown> | undefined;
  return (
    ok(v.input, false) &&
    ok(v.output, false) &&
    ok(v.cacheRead, true) &&
    ok(v.cacheWrite, true) &&
    ok(v.cacheWrite1h, true) &&
    (long === undefined ||
      (!nested && isPrice(long, true) && Number.isSafeInteger(long.tokens) && (long.tokens as number) > 0))
  );
}

/** The patterns of a merged table that the operator gave (they win over the built-in ones). */
const operatorPatterns = new WeakMap<PriceTable, Set<string>>();

/** Defaults plus config overrides; throws with the offending entry named. */
export function mergePrices(overrides: Record<string, unknown> | undefined): PriceTable {
  const table: PriceTable = { ...DEFAULT_PRICES };
  const own = new Set<string>();
  for (const [pattern, price] of Object.entries(overrides ?? {})) {
    if (!isPrice(price)) {
      throw new Error(
        `price for ${JSON.stringify(pattern)} must be {input, output[, cacheRead, cacheWrite, cacheWrite1h, longPrompt]} in USD per million tokens`,
      );
    }
    table[pattern] = price;
    own.add(pattern);
  }
  // The operator's entries win wherever they match (scanPrices): built-ins need not be deleted.
  if (own.size > 0) operatorPatterns.set(table, own);
  return table;
}
