/**
 * The web tools' options come from the request body: `allowed_domains` / `blocked_domains` entries of
 * any length and number. Reading them must stay linear (they are read for every search result and
 * every fetched URL), whatever the entry.
 */
import { describe, expect, it } from 'vitest';
import { filterByDomain, urlAllowed } from '../../src/tools/web/domains.ts';
import { expectLinear } from '../linear-time.ts';

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length));

describe('domain rules from a hostile request', () => {
  it('an entry of slashes that do not end it', { timeout: 120_000 }, () => {
    expectLinear(
      (n) => ({ allowedDomains: [`a.com${fill('/', n)}x`] }),
      (filter) => urlAllowed('https://a.com/x', filter),
    );
    expectLinear(
      (n) => ({ blockedDomains: [`a.com${fill('/', n)}x`] }),
      (filter) => urlAllowed('https://a.com/x', filter),
    );
  });

  it('entries of dots, schemes, wildcards and ports', { timeout: 120_000 }, () => {
    for (const unit of ['.', '*.', 'a:', ':1', 'http://', '/.']) {
      expectLinear(
        (n) => ({ allowedDomains: [`${fill(unit, n)}x`] }),
        (filter) => urlAllowed('https://a.com/x', filter),
      );
    }
  });

  it('entries with trailing slashes still match as before', () => {
    expect(urlAllowed('https://a.com/docs/x', { allowedDomains: ['a.com/docs///'] })).toBe(true);
    expect(urlAllowed('https://a.com/other', { allowedDomains: ['a.com/docs///'] })).toBe(false);
    expect(urlAllowed('https://a.com/', { allowedDomains: ['a.com////'] })).toBe(true);
    expect(urlAllowed('https://b.a.com/', { blockedDomains: ['*.a.com'] })).toBe(false);
  });

  it('a long allow-list is read once for a page of results, not once per result', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `d${i}.example.com/p`);
    const filter = { allowedDomains: [...many, 'x7.com'] };
    const items = Array.from({ length: 20 }, (_, i) => ({ url: `https://x${i}.com/` }));
    expect(filterByDomain(items, filter).map((i) => i.url)).toEqual(['https://x7.com/']);
  });
});
