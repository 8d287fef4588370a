/**
 * Tavily: `POST /search` with a JSON body (`query`, `max_results`, `include_domains`, `exclude_domains`,
 * `country`) and the key as `Authorization: Bearer` (older deployments read `api_key` in the body: both
 * are sent). Hits are `results[]` (`title`, `url`, `content`, `published_date`). Tavily's `country`
 * takes an English country name, so `user_location.country` (ISO 3166-1 alpha-2) is spelled out.
 */
import type { SearchProvider, WebSearchHit } from '../types.ts';
import {
  domainFields,
  extractVia,
  firstRecordAt,
  isRecord,
  type ProviderOptions,
  plainResults,
  resultsAt,
  searchVia,
  str,
} from './http.ts';

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
  return plainResults('Tavily', body, 'published_date');
}

export function createTavily(options: ProviderOptions): SearchProvider {
  return {
    name: 'tavily',
    search: searchVia(
      {
        name: 'Tavily',
        maxQuery: MAX_QUERY,
        maxCount: MAX_COUNT,
        request: (query, count, q) => {
          const country = countryName(q.userLocation?.country);
          return {
            method: 'POST',
            url: `${options.baseUrl}/search`,
            headers: { authorization: `Bearer ${options.apiKey ?? ''}` },
            body: {
              api_key: options.apiKey,
              query,
              max_results: count,
              search_depth: 'basic',
              topic: 'general',
              ...domainFields(q, 'include_domains', 'exclude_domains'),
              ...(country ? { country } : {}),
            },
          };
        },
        parse: parseTavilyResults,
      },
      options,
    ),
    // Tavily extract: `POST /extract` with `urls`, answered with `results[].raw_content` and
    // `failed_results[]` for pages it could not read.
    extract: (request) =>
      extractVia(
        'Tavily',
        request,
        options.timeoutMs,
        {
          method: 'POST',
          url: `${options.baseUrl}/extract`,
          headers: { authorization: `Bearer ${options.apiKey ?? ''}` },
          body: { api_key: options.apiKey, urls: [request.url], extract_depth: 'basic', format: 'markdown' },
        },
        (body) => {
          const page = resultsAt('Tavily', body, ['results']).find(isRecord);
          const failed = firstRecordAt(body, 'failed_results');
          return {
            text: page && str(page.raw_content),
            title: page && str(page.title),
            why: failed && str(failed.error),
          };
        },
      ),
  };
}
