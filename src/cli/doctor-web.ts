/**
 * `abproxy doctor`'s web search check: when a provider is configured, one real query through the same
 * adapter the gateway uses, reported ok (with the hit count and time) or fail (with the provider's
 * reason, e.g. a refused key or an outage). The API key never appears in the report.
 */
import type { Config } from '../config/config.ts';
import { createSearchProvider } from '../tools/web/index.ts';
import { WebToolError } from '../tools/web/types.ts';
import type { Check } from './doctor-check.ts';

export const DOCTOR_QUERY = 'abproxy doctor connectivity check';

/** The web tool checks: the test-only loopback switch (a warning), the provider (one query). */
export async function checkWebTools(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  if (config.webFetchAllowLoopbackForTests) {
    checks.push({
      name: 'web fetch',
      status: 'warn',
      detail: 'ABPROXY_WEB_FETCH_ALLOW_LOOPBACK_FOR_TESTS is on: web fetch can reach this machine',
      hint: 'unset it outside test suites',
    });
  }
  const search = await checkWebSearch(config);
  if (search) checks.push(search);
  return checks;
}

export async function checkWebSearch(config: Config): Promise<Check | undefined> {
  if (!config.webSearchProvider) return undefined;
  const name = config.webSearchProvider;
  const provider = createSearchProvider(config);
  const where = config.webSearchUrl ? ` at ${config.webSearchUrl}` : '';
  if (!provider) {
    return {
      name: 'web search',
      status: 'fail',
      detail: `${name} has no URL`,
      hint: 'set ABPROXY_WEB_SEARCH_URL to the base URL of your instance',
    };
  }
  const started = Date.now();
  try {
    const hits = await provider.search({ query: DOCTOR_QUERY, maxResults: 1 });
    return {
      name: 'web search',
      status: 'ok',
      detail: `${name}${where} answered (${hits.length} result${hits.length === 1 ? '' : 's'}, ${Date.now() - started} ms)`,
    };
  } catch (err) {
    const message = err instanceof WebToolError ? err.message : (err as Error).message;
    const secret = config.webSearchApiKey;
    const detail = `${name}${where}: ${secret ? message.split(secret).join('***') : message}`;
    const code = err instanceof WebToolError ? err.code : undefined;
    return {
      name: 'web search',
      status: 'fail',
      detail,
      hint:
        code === 'unavailable' && /API key/.test(message)
          ? 'check ABPROXY_WEB_SEARCH_API_KEY'
          : code === 'too_many_requests'
            ? "the provider is rate limiting this key; check its plan's quota"
            : 'check ABPROXY_WEB_SEARCH_URL and that the provider is reachable from here',
    };
  }
}
