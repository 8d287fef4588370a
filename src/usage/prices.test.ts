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
    // 1M input at $3, 1M output at $15, 1M cache read at $0.30, 1M cache write at $3.75
    expect(costUsd(id, tokens(1e6, 1e6, 1e6, 1e6), DEFAULT_PRICES)).toBeCloseTo(22.05, 6);
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

  it('is exact for small requests (no float dust in reports)', () => {
    expect(costUsd('qwen.qwen3-32b-v1:0', tokens(123, 45), DEFAULT_PRICES)).toBe(0.00004545);
  });
});
