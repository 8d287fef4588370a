import { describe, expect, it } from 'vitest';
import { domainHosts, filterByDomain, urlAllowed, withSiteOperators } from './domains.ts';

/** The one set of domain rules both web tools use (search post-filters hits, fetch checks URLs). */
describe('allowed_domains / blocked_domains', () => {
  it('a bare host covers the host and its subdomains, not look-alikes', () => {
    const filter = { allowedDomains: ['example.com'] };
    expect(urlAllowed('https://example.com/a', filter)).toBe(true);
    expect(urlAllowed('https://docs.example.com/a', filter)).toBe(true);
    expect(urlAllowed('https://EXAMPLE.com./a', filter)).toBe(true);
    expect(urlAllowed('https://notexample.com/a', filter)).toBe(false);
    expect(urlAllowed('https://example.com.evil.net/a', filter)).toBe(false);
  });

  it('an entry with a path covers only URLs under that path', () => {
    const filter = { allowedDomains: ['example.com/docs'] };
    expect(urlAllowed('https://example.com/docs', filter)).toBe(true);
    expect(urlAllowed('https://example.com/docs/intro', filter)).toBe(true);
    expect(urlAllowed('https://example.com/docsearch', filter)).toBe(false);
    expect(urlAllowed('https://example.com/blog', filter)).toBe(false);
  });

  it('an internationalized name matches in either spelling (URLs carry its punycode form)', () => {
    for (const entry of ['bücher.de', 'BÜCHER.de', 'xn--bcher-kva.de']) {
      expect(urlAllowed('https://bücher.de/x', { blockedDomains: [entry] })).toBe(false);
      expect(urlAllowed('https://shop.xn--bcher-kva.de/x', { blockedDomains: [entry] })).toBe(false);
      expect(urlAllowed('https://buecher.de/x', { blockedDomains: [entry] })).toBe(true);
    }
    expect(domainHosts(['bücher.de'])).toEqual(['xn--bcher-kva.de']);
  });

  it('a path rule holds against other spellings of the same path', () => {
    const blocked = { blockedDomains: ['example.com/admin'] };
    for (const path of ['/admin', '/%61dmin', '/ADMIN/x', '/docs/../admin', '/./admin/']) {
      expect(urlAllowed(`https://example.com${path}`, blocked), path).toBe(false);
    }
    expect(urlAllowed('https://example.com/administrator', blocked)).toBe(true);
    expect(urlAllowed('https://example.com/%2Fadmin', blocked)).toBe(true);
    const allowed = { allowedDomains: ['example.com/d%6Fcs'] };
    expect(urlAllowed('https://example.com/docs/a', allowed)).toBe(true);
  });

  it('blocked entries win, and a scheme, *. or port in an entry is read as the host', () => {
    expect(urlAllowed('https://news.example.org/x', { blockedDomains: ['https://example.org/'] })).toBe(
      false,
    );
    expect(urlAllowed('https://a.example.org/x', { blockedDomains: ['*.example.org'] })).toBe(false);
    expect(urlAllowed('https://example.net/x', { blockedDomains: ['example.org:443'] })).toBe(true);
    expect(urlAllowed('not a url', {})).toBe(false);
    for (const link of ['javascript:alert(1)', 'data:text/html,<script>x</script>', 'file:///etc/passwd']) {
      expect(urlAllowed(link, {}), link).toBe(false);
    }
    expect(domainHosts(['https://Example.org/docs/', '*.b.com', ' '])).toEqual(['example.org', 'b.com']);
  });

  it('filters search hits and writes site: operators within the query limit', () => {
    const hits = [
      { url: 'https://example.com/1' },
      { url: 'https://other.com/2' },
      { url: 'https://x.example.com/3' },
    ];
    expect(filterByDomain(hits, { allowedDomains: ['example.com'] }).map((h) => h.url)).toEqual([
      'https://example.com/1',
      'https://x.example.com/3',
    ]);
    const filter = { allowedDomains: ['a.com', 'b.com'], blockedDomains: ['c.com'] };
    expect(withSiteOperators('q', filter, 400)).toBe('q site:a.com OR site:b.com -site:c.com');
    expect(withSiteOperators('q', filter, 5)).toBe('q');
  });
});
