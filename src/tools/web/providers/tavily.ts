/**
 * Tavily: `POST /search` with a JSON body (`query`, `max_results`, `include_domains`, `exclude_domains`,
 * `country`) and the key as `Authorization: Bearer` (older deployments read `api_key` in the body: both
 * are sent). Hits are `results[]` (`title`, `url`, `content`, `published_date`). Tavily's `country`
 * takes an English country name, so `user_location.country` (ISO 3166-1 alpha-2) is spelled out.
 */
import { domainHosts, filterByDomain } from '../domains.ts';
import type { SearchProvider, WebSearchHit } from '../types.ts';
import { callProvider, checkQuery, isRecord, type ProviderOptions, resultsAt, str } from './http.ts';

export const TAVILY_URL = 'https://api.tavily.com';
const MAX_QUERY = 400;
const MAX_COUNT = 20;

/** `US` → `united states`, as Tavily's `country` parameter takes it; undefined when unknown. */
export function countryName(code: string | undefined): string | undefined {
  if (!code || !/^[A-Za-z]{2}$/.test(code)) return undefined;
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' }).of(code.toUpperCase());
    return name?.toLowerCase();
  } catch {
    return undefined;
  }
}

export function parseTavilyResults(body: unknown): WebSearchHit[] {
  const hits: WebSearchHit[] = [];
  for (const item of resultsAt('Tavily', body, ['results'])) {
    if (!isRecord(item)) continue;
    const url = str(item.url);
    if (!url) continue;
    const pageAge = str(item.published_date);
    hits.push({
      url,
      title: str(item.title) ?? url,
      content: str(item.content) ?? '',
      ...(pageAge ? { pageAge } : {}),
    });
  }
  return hits;
}

export function createTavily(options: ProviderOptions): SearchProvider {
  return {
    name: 'tavily',
    async search(q) {
      const query = checkQuery('Tavily', q.query, MAX_QUERY);
      const count = Math.min(q.maxResults ?? options.maxResults, MAX_COUNT);
      const include = domainHosts(q.allowedDomains);
      const exclude = domainHosts(q.blockedDomains);
      const country = countryName(q.userLocation?.country);
      const body = await callProvider('Tavily', {
        method: 'POST',
        url: `${options.baseUrl}/search`,
        headers: { authorization: `Bearer ${options.apiKey ?? ''}` },
        body: {
          api_key: options.apiKey,
          query,
          max_results: count,
          search_depth: 'basic',
          topic: 'general',
          ...(include.length > 0 ? { include_domains: include } : {}),
          ...(exclude.length > 0 ? { exclude_domains: exclude } : {}),
          ...(country ? { country } : {}),
        },
        timeoutMs: options.timeoutMs,
        signal: q.signal,
      });
      return filterByDomain(parseTavilyResults(body), q).slice(0, count);
    },
  };
}
