/**
 * `allowed_domains` / `blocked_domains` of the web tools, as Anthropic reads them: a bare host
 * (`example.com`, no scheme) covers the host and its subdomains; an entry with a path
 * (`example.com/docs`) covers only URLs under that path. Pure; providers post-filter with it and the
 * fetcher checks the asked URL (and where redirects ended) with it.
 */

interface Rule {
  host: string;
  path: string;
}

function parseRule(entry: string): Rule | undefined {
  let text = entry.trim().toLowerCase();
  if (text === '') return undefined;
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^\*\./, '');
  const slash = text.indexOf('/');
  const host = (slash === -1 ? text : text.slice(0, slash)).replace(/:\d+$/, '').replace(/\.$/, '');
  const path = slash === -1 ? '' : text.slice(slash).replace(/\/+$/, '');
  return host === '' ? undefined : { host, path };
}

function matches(url: URL, rule: Rule): boolean {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host !== rule.host && !host.endsWith(`.${rule.host}`)) return false;
  if (rule.path === '') return true;
  const path = url.pathname.toLowerCase();
  return path === rule.path || path.startsWith(`${rule.path}/`);
}

export interface DomainFilter {
  allowedDomains?: readonly string[] | undefined;
  blockedDomains?: readonly string[] | undefined;
}

/** Whether a URL passes the filters: not blocked, and allowed when an allow-list is given. */
export function urlAllowed(url: string | URL, filter: DomainFilter): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  const blocked = (filter.blockedDomains ?? []).map(parseRule).filter((r): r is Rule => r !== undefined);
  if (blocked.some((rule) => matches(parsed, rule))) return false;
  const allowed = (filter.allowedDomains ?? []).map(parseRule).filter((r): r is Rule => r !== undefined);
  return allowed.length === 0 || allowed.some((rule) => matches(parsed, rule));
}

/** The hosts of the entries (for providers' own domain parameters, which take hosts). */
export function domainHosts(entries: readonly string[] | undefined): string[] {
  return (entries ?? []).map(parseRule).flatMap((rule) => (rule ? [rule.host] : []));
}

/** Keeps the items whose `url` passes the filters. */
export function filterByDomain<T extends { url: string }>(items: readonly T[], filter: DomainFilter): T[] {
  return items.filter((item) => urlAllowed(item.url, filter));
}

/**
 * The query with `site:` operators (`site:a OR site:b`, `-site:c`) for search APIs without a domain
 * parameter (Brave, SearXNG), when they fit `maxChars`; else the bare query (the post-filter still applies).
 */
export function withSiteOperators(query: string, filter: DomainFilter, maxChars: number): string {
  const allowed = domainHosts(filter.allowedDomains);
  const blocked = domainHosts(filter.blockedDomains);
  const parts = [query];
  if (allowed.length > 0) parts.push(allowed.map((d) => `site:${d}`).join(' OR '));
  for (const d of blocked) parts.push(`-site:${d}`);
  const full = parts.join(' ');
  return full.length <= maxChars ? full : query;
}
