/**
 * SearXNG (self-hosted metasearch): `GET /search?q=…&format=json` (the instance must have `json` among
 * its `search.formats`). Hits are `results[]` (`url`, `title`, `content`, `publishedDate`). Domain filters
 * are applied to the hits (always) and, with `siteOperators`, put into the query as `site:` operators,
 * which most engines honour. SearXNG has no count parameter (a page holds what its engines gave). An API
 * key, when set, is sent as a bearer token (for instances behind an authenticating proxy).
 */
import { withSiteOperators } from '../domains.ts';
import type { SearchProvider, WebSearchHit } from '../types.ts';
import { type ProviderOptions, plainResults, searchVia } from './http.ts';

const MAX_QUERY = 400;
const MAX_COUNT = 20;

export function parseSearxngResults(body: unknown): WebSearchHit[] {
  return plainResults('SearXNG', body, 'publishedDate');
}

export function createSearxng(options: ProviderOptions): SearchProvider {
  return {
    name: 'searxng',
    search: searchVia(
      {
        name: 'SearXNG',
        maxQuery: MAX_QUERY,
        maxCount: MAX_COUNT,
        request: (query, _count, q) => {
          const params = new URLSearchParams({
            q: options.siteOperators ? withSiteOperators(query, q, MAX_QUERY) : query,
            format: 'json',
            safesearch: '1',
          });
          const headers: Record<string, string> = {};
          if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
          return { method: 'GET', url: `${options.baseUrl}/search?${params}`, headers };
        },
        parse: (body) => {
          // Several engines may return the same page: keep its first (best ranked) hit.
          const seen = new Set<string>();
          return parseSearxngResults(body).filter((h) => !seen.has(h.url) && seen.add(h.url));
        },
      },
      options,
    ),
  };
}
