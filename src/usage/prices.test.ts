import { describe, expect, it } from 'vitest';
import { costUsd, DEFAULT_PRICES, mergePrices, priceFor } from './prices.ts';

const tokens = (input: number, output: number, cacheRead = 0, cacheCreation = 0) => ({
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: cacheRead,
  cacheCreationTokens: cacheCreation,
});

describe('prices', () => {
  it('prices a Claude inference profile by its model, cache reads and writes at their own rates', () => {
    const id = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    // 50k input at $3 a million, 1M output at $15, 50k cache read at $0.30, 50k cache write at $3.75
    expect(costUsd(id, tokens(5e4, 1e6, 5e4, 5e4), DEFAULT_PRICES)).toBeCloseTo(
      0.15 + 15 + 0.015 + 0.1875,
      6,
    );
  });

  it('takes the most specific pattern (Opus 4.5 is not priced as Opus 4)', () => {
    expect(priceFor('global.anthropic.claude-opus-4-5-20251101-v1:0', DEFAULT_PRICES)?.input).toBe(5);
    expect(priceFor('us.anthropic.claude-opus-4-1-20250805-v1:0', DEFAULT_PRICES)?.input).toBe(15);
  });

  it("prices Opus 4.6 and Opus 5.5 at their own list prices, not Opus 4's or the fallback's", () => {
    // Opus 4.6: $5/$25, cache read $0.50, write $6.25; Opus 5.5: $4/$20, $0.20, $5 (per million tokens).
    expect(costUsd('global.anthropic.claude-opus-4-6-v1', tokens(1e6, 1e6, 1e6, 1e6), DEFAULT_PRICES)).toBe(
      36.75,
    );
    expect(costUsd('anthropic.claude-opus-5-5', tokens(1e6, 1e6, 1e6, 1e6), DEFAULT_PRICES)).toBe(29.2);
  });

  it('prices every Claude generation at its own list price (none fell to an older entry or the fallback)', () => {
    // input, output, cache read, 5-minute write, 1-hour write, USD per million tokens (Anthropic's pricing page).
    const table: [string, number[]][] = [
      ['anthropic.claude-fable-5-2', [8, 40, 0.2, 10, 16]],
      ['anthropic.claude-fable-5-1', [10, 50, 0.25, 12.5, 20]],
      ['anthropic.claude-fable-5', [10, 50, 1, 12.5, 20]],
      ['anthropic.claude-opus-5', [5, 25, 0.5, 6.25, 10]],
      ['anthropic.claude-opus-4-8', [5, 25, 0.5, 6.25, 10]],
      ['anthropic.claude-opus-4-7', [5, 25, 0.5, 6.25, 10]],
      ['us.anthropic.claude-opus-4-1-20250805-v1:0', [15, 75, 1.5, 18.75, 30]],
      ['anthropic.claude-sonnet-5-5', [2, 10, 0.1, 2.5, 4]],
      ['global.anthropic.claude-sonnet-5', [2, 10, 0.2, 2.5, 4]],
      ['anthropic.claude-sonnet-4-6', [3, 15, 0.3, 3.75, 6]],
      ['anthropic.claude-haiku-5-5', [0.1, 0.5, 0.01, 0.125, 0.2]],
      ['us.anthropic.claude-haiku-4-5-20251001-v1:0', [1, 5, 0.1, 1.25, 2]],
    ];
    for (const [id, [input, output, read, write, hour]] of table) {
      // 100k tokens of each kind (no prompt past a long-prompt threshold): a tenth of the rate.
      const cost = (counts: Partial<Parameters<typeof costUsd>[1]>) =>
        costUsd(id, { ...tokens(0, 0), ...counts }, DEFAULT_PRICES) * 10;
      expect([
        cost({ inputTokens: 1e5 }),
        cost({ outputTokens: 1e5 }),
        cost({ cacheReadTokens: 1e5 }),
        cost({ cacheCreationTokens: 1e5 }),
        cost({ cacheCreationTokens: 1e5, cacheCreation1hTokens: 1e5 }),
      ]).toEqual([input, output, read, write, hour].map((n) => expect.closeTo(n!, 6)));
    }
  });

  it("matches a model's own entry before a longer one that only a date makes it contain", () => {
    // Fable 5's dated id contains `anthropic.claude-fable-5-2` (Fable 5.2, $8) followed by more digits.
    expect(priceFor('us.anthropic.claude-fable-5-20260115-v1:0', DEFAULT_PRICES)?.input).toBe(10);
    expect(priceFor('us.anthropic.claude-fable-5-2-20261101-v1:0', DEFAULT_PRICES)?.input).toBe(8);
    // Patterns ending in a separator, and operators' short ones, still match as before.
    expect(priceFor('mistral.ministral-3-8b', DEFAULT_PRICES)?.input).toBe(0.5);
    expect(
      priceFor('meta.llama3-3-70b-instruct-v1:0', mergePrices({ llama: { input: 7, output: 7 } }))?.input,
    ).toBe(7);
  });

  it('splits cache writes by lifetime: 1-hour writes at 2x input, the rest at 1.25x', () => {
    const id = 'global.anthropic.claude-opus-4-5-20251101-v1:0';
    // 2M written, 1M of them for an hour: $6.25 + $10.
    const split = { ...tokens(0, 0, 0, 2e6), cacheCreation1hTokens: 1e6 };
    expect(costUsd(id, split, DEFAULT_PRICES)).toBeCloseTo(16.25, 6);
    // A 1-hour count above the whole is bounded by it.
    expect(costUsd(id, { ...tokens(0, 0, 0, 1e6), cacheCreation1hTokens: 5e6 }, DEFAULT_PRICES)).toBeCloseTo(
      10,
      6,
    );
    // A model priced without a 1-hour rate (an operator's entry) prices them as other writes.
    const own = mergePrices({ 'acme.': { input: 1, output: 1, cacheWrite: 2 } });
    expect(costUsd('acme.m', split, own)).toBe(4);
  });

  it('prices a long prompt at the long-prompt rates, output included (Haiku 5.5 past 100k, Sonnet 4.5 past 200k)', () => {
    const haiku = 'anthropic.claude-haiku-5-5';
    expect(costUsd(haiku, tokens(100_000, 1e6), DEFAULT_PRICES)).toBeCloseTo(0.01 + 0.5, 6);
    // 60k input + 50k cache read = 110k prompt: $0.50 and $0.05 a million, output $2.50.
    expect(costUsd(haiku, tokens(60_000, 1e6, 50_000), DEFAULT_PRICES)).toBeCloseTo(0.03 + 2.5 + 0.0025, 6);
    const sonnet = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    expect(costUsd(sonnet, tokens(300_000, 1e6), DEFAULT_PRICES)).toBeCloseTo(1.8 + 22.5, 6);
    // Sonnet 4.6 keeps its standard rates over the 1M window.
    expect(costUsd('anthropic.claude-sonnet-4-6', tokens(300_000, 1e6), DEFAULT_PRICES)).toBeCloseTo(
      0.9 + 15,
      6,
    );
    expect(() => mergePrices({ x: { input: 1, output: 1, longPrompt: { input: 2, output: 2 } } })).toThrow(
      /longPrompt/,
    );
  });

  it('falls back to the * entry for unknown models so budgets still run out', () => {
    expect(costUsd('acme.unknown-model-v1', tokens(1e6, 0), DEFAULT_PRICES)).toBe(3);
  });

  it('lets config override and add prices, and refuses malformed ones', () => {
    const table = mergePrices({
      'qwen.qwen3-32b': { input: 1, output: 2 },
      'acme.': { input: 9, output: 9 },
    });
    expect(costUsd('qwen.qwen3-32b-v1:0', tokens(1e6, 1e6), table)).toBe(3);
    expect(costUsd('acme.model', tokens(1e6, 0), table)).toBe(9);
    expect(() => mergePrices({ x: { input: -1, output: 1 } })).toThrow(/USD per million/);
    expect(() => mergePrices({ x: { output: 1 } })).toThrow();
  });

  it('an override wins over the built-in entries it names, however it is spelled (shorter included)', () => {
    const table = mergePrices({ 'claude-haiku-4-5': { input: 100, output: 0 } });
    expect(costUsd('us.anthropic.claude-haiku-4-5-20251001-v1:0', tokens(1e6, 0), table)).toBe(100);
    // Without it, the built-in price.
    expect(costUsd('us.anthropic.claude-haiku-4-5-20251001-v1:0', tokens(1e6, 0), mergePrices({}))).toBe(1);
  });

  it("an operator's entry wins wherever it matches, even over a longer built-in one", () => {
    const table = mergePrices({
      'claude-sonnet-4-5': { input: 1, output: 1 },
      'claude-opus-4-1': { input: 2, output: 2 },
    });
    // Before: the built-ins `anthropic.claude-sonnet-4` and `anthropic.claude-opus-4` are longer and won.
    expect(priceFor('us.anthropic.claude-sonnet-4-5-20250929-v1:0', table)?.input).toBe(1);
    expect(priceFor('us.anthropic.claude-opus-4-1-20250805-v1:0', table)?.input).toBe(2);
    // Models the operator did not name keep their built-in prices.
    expect(priceFor('us.anthropic.claude-sonnet-4-20250514-v1:0', table)?.input).toBe(3);
    expect(priceFor('anthropic.claude-opus-4-7', table)?.input).toBe(5);
  });

  it('is exact for small requests (no float dust in reports)', () => {
    expect(costUsd('qwen.qwen3-32b-v1:0', tokens(123, 45), DEFAULT_PRICES)).toBe(0.00004545);
  });
});
