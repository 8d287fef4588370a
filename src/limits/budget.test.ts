import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetMonth } from './budget.ts';

describe('budgetMonth', () => {
  it('names the UTC month of any instant, whatever was asked before (it remembers the last month)', () => {
    const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2200, 0, 1) });
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (instants) => {
        for (const at of instants) expect(budgetMonth(at)).toBe(new Date(at).toISOString().slice(0, 7));
      }),
    );
  });

  it('turns over at the first millisecond of the next month', () => {
    const start = Date.UTC(2026, 11, 1);
    expect(budgetMonth(start - 1)).toBe('2026-11');
    expect(budgetMonth(start)).toBe('2026-12');
    expect(budgetMonth(start - 1)).toBe('2026-11');
  });
});
