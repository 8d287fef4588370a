/**
 * Brave Search API: `GET /res/v1/web/search?q=…&count=…` with the key in `X-Subscription-Token`.
 * Hits are `web.results[]` (`title`, `url`, `description` with <strong> marks, `extra_snippets`,
 * `age`/`page_age`). Brave has no domain parameter: with domain filters it is asked for its most hits
 * (20), which are post-filtered (always); `siteOperators` also puts them into the query as `site:`
 * operators. `user_location` becomes `country` and Brave's `X-Loc-*` headers.
 */
import { withSiteOperators } from '../domains.ts';
import type { SearchProvider, WebSearchHit, WebSearchQuery } from '../types.ts';
import {
  askCount,
  isRecord,
  type ProviderOptions,
  type ProviderRequest,
  plainText,
  resultsAt,
  searchVia,
  str,
} from './http.ts';

export const BRAVE_URL = 'https://api.search.brave.com';
/** Brave's documented limit: 400 characters (and 50 words). */
const MAX_QUERY = 400;
const MAX_COUNT = 20;

export function parseBraveResults(body: unknown): WebSearchHit[] {
  const hits: WebSearchHit[] = [];
  for (const item of resultsAt('Brave', body, ['web', 'results'])) {
    if (!isRecord(item)) continue;
    const url = str(item.url);
    if (!url) continue;
    const snippets = [
      str(item.description),
      ...(Array.isArray(item.extra_snippets) ? item.extra_snippets : []),
    ]
      .filter((s): s is string => typeof s === 'string' && s !== '')
      .map(plainText);
    const pageAge = str(item.age) ?? str(item.page_age);
    hits.push({
      url,
      title: plainText(str(item.title) ?? url),
      content: snippets.join('\n'),
      ...(pageAge ? { pageAge } : {}),
    });
  }
  return hits;
}

export function createBrave(options: ProviderOptions): SearchProvider {
  return {
    name: 'brave',
    search: searchVia(
      {
        name: 'Brave',
        maxQuery: MAX_QUERY,
        maxCount: MAX_COUNT,
        request: (query, count, q) => braveRequest(options, query, count, q),
        parse: parseBraveResults,
      },
      options,
    ),
  };
}

/** The search call: the query (with `site:` operators when asked), the count, the location as Brave takes it. */
function braveRequest(
  options: ProviderOptions,
  query: string,
  count: number,
  q: WebSearchQuery,
): ProviderRequest {
  const sent = options.siteOperators ? withSiteOperators(query, q, MAX_QUERY) : query;
  const ask = askCount(count, MAX_COUNT, q, sent !== query);
  const params = new URLSearchParams({ q: sent, count: String(ask) });
  const headers: Record<string, string> = { 'x-subscription-token': options.apiKey ?? '' };
  const loc = q.userLocation;
  if (loc?.country) {
    params.set('country', loc.country.toUpperCase());
    headers['x-loc-country'] = loc.country.toUpperCase();
  }
  // Header values must be ASCII: a city like "São Paulo" is left out rather than mangled.
  const put = (name: string, value: string | undefined) => {
    if (value && /^[\x20-\x7e]+$/.test(value)) headers[name] = value;
  };
  put('x-loc-city', loc?.city);
  put('x-loc-state-name', loc?.region);
  put('x-loc-timezone', loc?.timezone);
  return { method: 'GET', url: `${options.baseUrl}/res/v1/web/search?${params}`, headers };
}
