import { describe, expect, it } from 'vitest';
import { InFlightLimits } from './concurrency.ts';
import { RateLimitError } from './rate-limits.ts';

describe('InFlightLimits', () => {
  it('admits up to the cap per key, refuses the next with a 429 and retry-after, and counts each release once', () => {
    const limits = new InFlightLimits();
    const first = limits.enter('key_a', 2);
    const second = limits.enter('key_a', 2);
    const refused = (() => {
      try {
        limits.enter('key_a', 2);
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(RateLimitError);
    expect((refused as RateLimitError).status).toBe(429);
    expect((refused as RateLimitError).headers).toMatchObject({ 'retry-after': '1' });
    // Another key has its own count.
    expect(() => limits.enter('key_b', 1)).not.toThrow();
    first();
    first(); // a second release of the same slot gives nothing back
    expect(limits.inFlight('key_a')).toBe(1);
    const third = limits.enter('key_a', 2);
    expect(() => limits.enter('key_a', 2)).toThrow(RateLimitError);
    second();
    third();
    expect(limits.inFlight('key_a')).toBe(0);
  });
});
