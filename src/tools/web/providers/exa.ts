/**
 * Exa: `POST /search` with `x-api-key`, a JSON body (`query`, `numResults`, `includeDomains`,
 * `excludeDomains`, `userLocation` as a two-letter country code) and `contents.text` so each hit carries
 * page text. Hits are `results[]` (`title`, `url`, `publishedDate`, `text`, `highlights`).
 */
import type { SearchProvider, WebSearchHit } from '../types.ts';
import {
  domainFields,
  extractVia,
  firstRecordAt,
  isRecord,
  type ProviderOptions,
  resultsAt,
  searchVia,
  str,
} from './http.ts';

export const EXA_URL = 'https://api.exa.ai';
const MAX_QUERY = 2000;
const MAX_COUNT = 20;
/** Text per hit asked of Exa: enough to answer from, small enough for several hits in a prompt. */
const TEXT_CHARS = 2000;

export function parseExaResults(body: unknown): WebSearchHit[] {
  const hits: WebSearchHit[] = [];
  for (const item of resultsAt('Exa', body, ['results'])) {
    if (!isRecord(item)) continue;
    const url = str(item.url);
    if (!url) continue;
    const highlights = Array.isArray(item.highlights)
      ? item.highlights.filter((h): h is string => typeof h === 'string')
      : [];
    const content = str(item.text) ?? str(item.summary) ?? highlights.join('\n');
    const pageAge = str(item.publishedDate);
    hits.push({ url, title: str(item.title) ?? url, content, ...(pageAge ? { pageAge } : {}) });
  }
  return hits;
}

export function createExa(options: ProviderOptions): SearchProvider {
  return {
    name: 'exa',
    search: searchVia(
      {
        name: 'Exa',
        maxQuery: MAX_QUERY,
        maxCount: MAX_COUNT,
        request: (query, count, q) => {
          const country = q.userLocation?.country;
          return {
            method: 'POST',
            url: `${options.baseUrl}/search`,
            headers: { 'x-api-key': options.apiKey ?? '' },
            body: {
              query,
              numResults: count,
              ...domainFields(q, 'includeDomains', 'excludeDomains'),
              ...(country && /^[A-Za-z]{2}$/.test(country) ? { userLocation: country.toUpperCase() } : {}),
              contents: { text: { maxCharacters: TEXT_CHARS } },
            },
          };
        },
        parse: parseExaResults,
      },
      options,
    ),
    // Exa contents: `POST /contents` with `urls` and `text`, answered with `results[].text` and
    // `statuses[]` naming pages it could not read.
    extract: (request) =>
      extractVia(
        'Exa',
        request,
        options.timeoutMs,
        {
          method: 'POST',
          url: `${options.baseUrl}/contents`,
          headers: { 'x-api-key': options.apiKey ?? '' },
          body: { urls: [request.url], text: true },
        },
        (body) => {
          const page = resultsAt('Exa', body, ['results']).find(isRecord);
          const status = firstRecordAt(body, 'statuses');
          return {
            text: page && str(page.text),
            title: page && str(page.title),
            why: status && isRecord(status.error) ? str(status.error.tag) : undefined,
          };
        },
      ),
  };
}
