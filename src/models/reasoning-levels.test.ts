import { describe, expect, it } from 'vitest';
import { fitThinkingBudget, MIN_THINKING_BUDGET } from './reasoning-levels.ts';

describe('fitThinkingBudget', () => {
  const shape = (requested: number, maxTokens: number, options = { explicit: true, interleaved: false }) => {
    const warnings: string[] = [];
    return { budget: fitThinkingBudget(requested, maxTokens, options, (m) => warnings.push(m)), warnings };
  };

  it('keeps a budget below max_tokens', () => {
    expect(shape(2_000, 4_000)).toEqual({ budget: 2_000, warnings: [] });
  });

  it('raises a budget under the minimum, and says so', () => {
    const { budget, warnings } = shape(100, 4_000);
    expect(budget).toBe(MIN_THINKING_BUDGET);
    expect(warnings).toHaveLength(1);
  });

  it('lowers a budget to max_tokens - 1, warning only for a budget the client named', () => {
    expect(shape(8_000, 4_000).budget).toBe(3_999);
    expect(shape(8_000, 4_000).warnings).toHaveLength(1);
    expect(shape(8_000, 4_000, { explicit: false, interleaved: false }).warnings).toEqual([]);
  });

  it('lets interleaved thinking exceed max_tokens', () => {
    expect(shape(8_000, 4_000, { explicit: true, interleaved: true })).toEqual({
      budget: 8_000,
      warnings: [],
    });
  });

  it('gives up when max_tokens leaves no room for the minimum', () => {
    const { budget, warnings } = shape(2_000, 1_000);
    expect(budget).toBeNull();
    expect(warnings[0]).toMatch(/leaves no room/);
  });
});
