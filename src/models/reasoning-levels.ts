/**
 * The one place where Anthropic's two ways of asking for reasoning — a token budget
 * (`thinking.budget_tokens`) and an effort level (`output_config.effort`) — are converted into each other
 * and into the coarser levels other families take.
 *
 * Budget → effort: < 4,096 → low; < 16,384 → medium; < 32,768 → high; < 65,536 → xhigh; else max.
 *   (Claude Code's default 31,999 lands on high.)
 * Effort → budget: low 4,096; medium 16,384; high 31,999; xhigh 63,999; max 127,999 — always capped
 *   below max_tokens by the caller.
 * Effort → a family's levels: the same level when offered, else the highest offered level not above it
 *   (xhigh/max → high on a low/medium/high model), else the lowest.
 */
import { EFFORTS, type Effort } from '../anthropic/types.ts';

const BUDGET_CEILINGS: ReadonlyArray<readonly [number, Effort]> = [
  [4_096, 'low'],
  [16_384, 'medium'],
  [32_768, 'high'],
  [65_536, 'xhigh'],
];

const BUDGET_BY_EFFORT: Record<Effort, number> = {
  low: 4_096,
  medium: 16_384,
  high: 31_999,
  xhigh: 63_999,
  max: 127_999,
};

/** Effort used when the client asks for adaptive thinking without naming one. */
export const DEFAULT_EFFORT: Effort = 'medium';

export function effortFromBudget(budgetTokens: number): Effort {
  for (const [ceiling, effort] of BUDGET_CEILINGS) if (budgetTokens < ceiling) return effort;
  return 'max';
}

export function budgetFromEffort(effort: Effort): number {
  return BUDGET_BY_EFFORT[effort];
}

/** Maps an effort onto the levels a model offers (ordered low → high, a subset of EFFORTS). */
export function effortToLevel(effort: Effort, levels: readonly string[]): string {
  const rank = EFFORTS.indexOf(effort);
  let best: string | undefined;
  for (const level of levels) {
    const r = EFFORTS.indexOf(level as Effort);
    if (r !== -1 && r <= rank && (best === undefined || r > EFFORTS.indexOf(best as Effort))) best = level;
  }
  return best ?? levels[0] ?? effort;
}

/** Anthropic's floor for thinking.budget_tokens. */
export const MIN_THINKING_BUDGET = 1_024;

/**
 * A thinking budget Anthropic's rules accept: at least MIN_THINKING_BUDGET and, unless interleaved
 * thinking spans the whole turn, below max_tokens. Null when no budget fits; each change is told to `warn`
 * (a lowered budget only when the client named it: a derived one is ours to choose).
 */
export function fitThinkingBudget(
  requested: number,
  maxTokens: number,
  options: { explicit: boolean; interleaved?: boolean },
  warn: (message: string) => void,
): number | null {
  let budget = requested;
  if (budget < MIN_THINKING_BUDGET) {
    warn(`thinking.budget_tokens raised to the minimum ${MIN_THINKING_BUDGET}`);
    budget = MIN_THINKING_BUDGET;
  }
  if (budget < maxTokens || options.interleaved) return budget;
  if (maxTokens - 1 < MIN_THINKING_BUDGET) {
    warn(
      `max_tokens ${maxTokens} leaves no room for thinking (minimum ${MIN_THINKING_BUDGET}); thinking dropped`,
    );
    return null;
  }
  if (options.explicit) warn(`thinking.budget_tokens lowered to ${maxTokens - 1} to stay below max_tokens`);
  return maxTokens - 1;
}
