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
  let text = entry.trim();
  if (text === '') return undefined;
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^\*\./, '');
  const slash = text.indexOf('/');
  // Read as URLs are: an internationalized name in its punycode form (what URL.hostname gives), the
  // path with its dot segments resolved and escapes made plain, so another spelling of the same name
  // or path neither slips past a block nor misses an allow.
  let parsed: URL | undefined;
  try {
    parsed = new URL(`http://${text}`);
  } catch {
    parsed = undefined;
  }
  const host = (parsed?.hostname ?? (slash === -1 ? text : text.slice(0, slash)).replace(/:\d+$/, ''))
    .toLowerCase()
    .replace(/\.$/, '');
  const rawPath = slash === -1 ? '' : (parsed?.pathname ?? text.slice(slash));
  const path = trimTrailingSlashes(plainPath(rawPath));
  return host === '' ? undefined : { host, path };
}

/** A path compared as a server would read it: unreserved characters unescaped (`%64ocs` is `docs`), lower case. */
function plainPath(path: string): string {
  const plain = path.includes('%')
    ? path.replace(/%([0-9a-f]{2})/gi, (escaped, hex: string) => {
        const char = String.fromCharCode(Number.parseInt(hex, 16));
        return /[a-z0-9._~-]/i.test(char) ? char : escaped.toUpperCase();
      })
    : path;
  return plain.toLowerCase();
}

/** `/docs///` → `/docs`, in linear time (`/\/+$/` retries from every slash of a run that is not the end). */
function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(0, end);
}

/** Rules of each list, parsed once (a list is read for every search result and fetched URL). */
const parsed = new WeakMap<readonly string[], Rule[]>();

function rulesOf(entries: readonly string[] | undefined): Rule[] {
  if (!entries) return [];
  let rules = parsed.get(entries);
  if (!rules) {
    rules = entries.map(parseRule).filter((r): r is Rule => r !== undefined);
    parsed.set(entries, rules);
  }
  return rules;
}

function matches(url: URL, rule: Rule): boolean {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host !== rule.host && !host.endsWith(`.${rule.host}`)) return false;
  if (rule.path === '') return true;
  const path = plainPath(url.pathname);
  return path === rule.path || path.startsWith(`${rule.path}/`);
}

export interface DomainFilter {
  allowedDomains?: readonly string[] | undefined;
  blockedDomains?: readonly string[] | undefined;
}

/**
 * Whether a URL passes the filters: a web URL (http or https: a provider's `javascript:` or `data:`
 * link is never passed on), not blocked, and allowed when an allow-list is given.
 */
export function urlAllowed(url: string | URL, filter: DomainFilter): boolean {
  if (typeof url === 'string') {
    try {
      url = new URL(url);
    } catch {
      return false;
    }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (rulesOf(filter.blockedDomains).some((rule) => matches(url, rule))) return false;
  const allowed = rulesOf(filter.allowedDomains);
  return allowed.length === 0 || allowed.some((rule) => matches(url, rule));
}

/** The hosts of the entries (for providers' own domain parameters, which take hosts). */
export function domainHosts(entries: readonly string[] | undefined): string[] {
  return rulesOf(entries).map((rule) => rule.host);
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
