/**
 * The web tools the server-tools loop is given: the search provider chosen by settings (absent when
 * none is configured) and the page fetcher. Built once at start-up from config.
 *
 * For the loop (websearch): `createWebTools(config)` → `{search?, fetch}`; when `search` is absent,
 * `config.webSearchWithoutProvider` says whether to refuse the request (400 naming
 * ABPROXY_WEB_SEARCH_PROVIDER, see `missingProviderMessage`) or drop the tool with a warning header.
 * Per-search cost and the loop's time budget: `config.webSearchCostUsd`, `config.webToolsTimeBudgetMs`.
 * Per-key permission and daily cap: `webToolQuota` in ./quota.ts.
 */
import type { Settings, WebSearchProviderName } from '../../config/settings.ts';
import { createFetchPage, providerFetchPage } from './fetch-page.ts';
import { BRAVE_URL, createBrave } from './providers/brave.ts';
import { createExa, EXA_URL } from './providers/exa.ts';
import type { ProviderOptions } from './providers/http.ts';
import { createSearxng } from './providers/searxng.ts';
import { createTavily, TAVILY_URL } from './providers/tavily.ts';
import type { SearchProvider, WebTools } from './types.ts';

export { CHARS_PER_TOKEN } from './cut-to-tokens.ts';
export { urlAllowed } from './domains.ts';
export { createFetchPage, MAX_URL_LENGTH } from './fetch-page.ts';
export * from './types.ts';

export type WebToolsConfig = Pick<
  Settings,
  | 'webSearchProvider'
  | 'webSearchApiKey'
  | 'webSearchUrl'
  | 'webSearchTimeoutMs'
  | 'webSearchMaxResults'
  | 'webSearchSiteOperators'
  | 'webFetchTimeoutMs'
  | 'webFetchMaxBytes'
  | 'webFetchAllowLoopbackForTests'
  | 'webFetchVia'
>;

const DEFAULT_URLS: Record<WebSearchProviderName, string | undefined> = {
  brave: BRAVE_URL,
  tavily: TAVILY_URL,
  exa: EXA_URL,
  searxng: undefined,
};

const FACTORIES: Record<WebSearchProviderName, (options: ProviderOptions) => SearchProvider> = {
  brave: createBrave,
  tavily: createTavily,
  exa: createExa,
  searxng: createSearxng,
};

/** The configured search provider, or undefined when none is (or SearXNG has no URL). */
export function createSearchProvider(config: WebToolsConfig): SearchProvider | undefined {
  const name = config.webSearchProvider;
  if (!name) return undefined;
  const baseUrl = (config.webSearchUrl ?? DEFAULT_URLS[name])?.replace(/\/+$/, '');
  if (!baseUrl) return undefined;
  return FACTORIES[name]({
    baseUrl,
    apiKey: config.webSearchApiKey,
    timeoutMs: config.webSearchTimeoutMs,
    maxResults: config.webSearchMaxResults,
    siteOperators: config.webSearchSiteOperators,
  });
}

export function createWebTools(config: WebToolsConfig): WebTools {
  const search = createSearchProvider(config);
  const fetch =
    config.webFetchVia === 'provider' && search?.extract
      ? providerFetchPage(search.extract.bind(search))
      : createFetchPage({
          timeoutMs: config.webFetchTimeoutMs,
          maxBytes: config.webFetchMaxBytes,
          allowLoopbackForTests: config.webFetchAllowLoopbackForTests,
        });
  return search ? { search, fetch } : { fetch };
}

/** The 400 message for a request with web_search while no provider is configured. */
export const missingProviderMessage =
  'web search is not configured on this gateway: set ABPROXY_WEB_SEARCH_PROVIDER (brave, tavily, exa or searxng) and ABPROXY_WEB_SEARCH_API_KEY, or ABPROXY_WEB_SEARCH_WITHOUT_PROVIDER=remove to drop the tool';
