import { describe, expect, it } from 'vitest';
import { createWebTools, missingProviderMessage } from '../tools/web/index.ts';
import { ConfigError, defaultSettings, resolveConfig } from './config.ts';

const defaults = defaultSettings('/tmp/abproxy-home');
const resolve = (env: Record<string, string>, file: Record<string, unknown> = {}) =>
  resolveConfig({ env, file, defaults });

describe('web tool settings', () => {
  it('default to no provider, refuse, 1 cent a search, loopback refused', () => {
    const c = resolve({});
    expect(c.webSearchProvider).toBeUndefined();
    expect(c.webSearchWithoutProvider).toBe('refuse');
    expect(c.webSearchCostUsd).toBe(0.01);
    expect(c.webToolsTimeBudgetMs).toBe(120_000);
    expect(c.webFetchAllowLoopbackForTests).toBe(false);
    expect(createWebTools(c).search).toBeUndefined();
    expect(missingProviderMessage).toContain('ABPROXY_WEB_SEARCH_PROVIDER');
  });

  it('read from env and from the config file', () => {
    const c = resolve({
      ABPROXY_WEB_SEARCH_PROVIDER: 'Brave',
      ABPROXY_WEB_SEARCH_API_KEY: 'bsk-123',
      ABPROXY_WEB_SEARCH_URL: 'http://127.0.0.1:9/',
      ABPROXY_WEB_SEARCH_COST_USD: '0.005',
      ABPROXY_WEB_SEARCH_WITHOUT_PROVIDER: 'remove',
    });
    expect(c.webSearchProvider).toBe('brave');
    expect(c.webSearchUrl).toBe('http://127.0.0.1:9');
    expect(c.webSearchCostUsd).toBe(0.005);
    expect(c.webSearchWithoutProvider).toBe('remove');
    expect(createWebTools(c).search?.name).toBe('brave');
    const f = resolve({}, { webSearchProvider: 'searxng', webSearchUrl: 'https://searx.example.com' });
    expect(f.sources.webSearchProvider).toBe('file');
    expect(createWebTools(f).search?.name).toBe('searxng');
  });

  it('refuse an unknown provider, a negative cost and a provider without its key or URL', () => {
    expect(() => resolve({ ABPROXY_WEB_SEARCH_PROVIDER: 'google' })).toThrow(/brave, tavily, exa, searxng/);
    expect(() => resolve({ ABPROXY_WEB_SEARCH_COST_USD: '-1' })).toThrow(ConfigError);
    expect(() => resolve({ ABPROXY_WEB_SEARCH_COST_USD: 'cheap' })).toThrow(/number/);
    expect(() => resolve({ ABPROXY_WEB_SEARCH_PROVIDER: 'tavily' })).toThrow(/ABPROXY_WEB_SEARCH_API_KEY/);
    expect(() => resolve({ ABPROXY_WEB_SEARCH_PROVIDER: 'searxng' })).toThrow(/ABPROXY_WEB_SEARCH_URL/);
    expect(() => resolve({ ABPROXY_WEB_SEARCH_WITHOUT_PROVIDER: 'ignore' })).toThrow(/refuse, remove/);
  });

  it('never echo the API key in an error', () => {
    let message = '';
    try {
      resolve({}, { webSearchApiKey: 12345678 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/expected a string/);
    expect(message).not.toContain('12345678');
  });

  it('an empty provider means none', () => {
    expect(resolve({ ABPROXY_WEB_SEARCH_PROVIDER: ' ' }).webSearchProvider).toBeUndefined();
  });
});

describe('ABPROXY_WEB_FETCH_VIA', () => {
  it('is direct by default and provider only with a provider that has an extract API', () => {
    expect(resolve({}).webFetchVia).toBe('direct');
    const ok = resolve({
      ABPROXY_WEB_FETCH_VIA: 'provider',
      ABPROXY_WEB_SEARCH_PROVIDER: 'exa',
      ABPROXY_WEB_SEARCH_API_KEY: 'k',
    });
    expect(ok.webFetchVia).toBe('provider');
    expect(() => resolve({ ABPROXY_WEB_FETCH_VIA: 'provider' })).toThrow(/tavily or exa/);
    expect(() =>
      resolve({
        ABPROXY_WEB_FETCH_VIA: 'provider',
        ABPROXY_WEB_SEARCH_PROVIDER: 'brave',
        ABPROXY_WEB_SEARCH_API_KEY: 'k',
      }),
    ).toThrow(/tavily or exa/);
  });
});
