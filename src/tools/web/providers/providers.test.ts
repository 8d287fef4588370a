import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSearch, startFakeSearch } from '../../../../test/fakes/search-provider.ts';
import { createSearchProvider, type WebToolsConfig } from '../index.ts';
import type { SearchProvider } from '../types.ts';
import { webToolFailure as failure, fakeSearchConfig } from '../web-tools.fixture.ts';

let fake: FakeSearch;
const PROVIDERS = ['brave', 'tavily', 'exa', 'searxng'] as const;

function provider(name: (typeof PROVIDERS)[number], over: Partial<WebToolsConfig> = {}): SearchProvider {
  const p = createSearchProvider(fakeSearchConfig(fake, { webSearchProvider: name, ...over }));
  if (!p) throw new Error('no provider');
  return p;
}

beforeEach(async () => {
  fake ??= await startFakeSearch();
  fake.reset();
});
afterAll(async () => fake?.close());

describe.each(PROVIDERS)('%s provider against the fake', (name) => {
  it('sends the query with auth and parses the hits', async () => {
    fake.script('capital of france', {
      results: [
        {
          url: 'https://en.wikipedia.org/wiki/Paris',
          title: 'Paris',
          content: 'Paris is the capital of France.',
          pageAge: '3 days ago',
        },
      ],
    });
    const hits = await provider(name).search({ query: 'capital of france' });
    expect(hits).toEqual([
      {
        url: 'https://en.wikipedia.org/wiki/Paris',
        title: 'Paris',
        content: 'Paris is the capital of France.',
        pageAge: '3 days ago',
      },
    ]);
    expect(fake.queries).toHaveLength(1);
    expect(fake.queries[0]).toMatchObject({ provider: name, query: 'capital of france' });
  });

  it('post-filters what comes back by domain (the fake ignores the filters)', async () => {
    const hits = await provider(name).search({
      query: 'rust borrow checker',
      allowedDomains: ['example.com', 'example.org'],
      blockedDomains: ['news.example.org'],
    });
    // The fake returns docs.example.com, news.example.org, blog.example.net whatever it is sent.
    expect(hits.map((h) => new URL(h.url).hostname)).toEqual(['docs.example.com']);
    const sent = fake.queries[0]!;
    // The query reaches the provider as the model wrote it.
    expect(sent.rawQuery).toBe('rust borrow checker');
    if (name === 'tavily' || name === 'exa') {
      expect(sent.allowedDomains).toEqual(['example.com', 'example.org']);
      expect(sent.blockedDomains).toEqual(['news.example.org']);
    }
    // Without a domain parameter, Brave is asked for its most hits so enough survive the filter.
    if (name === 'brave') expect(sent.count).toBe(20);
  });

  it('puts the domains into the query as site: operators when asked to (Brave, SearXNG)', async () => {
    const hits = await provider(name, { webSearchSiteOperators: true }).search({
      query: 'rust borrow checker',
      allowedDomains: ['example.com', 'https://example.org/'],
      blockedDomains: ['news.example.org'],
    });
    expect(hits.map((h) => new URL(h.url).hostname)).toEqual(['docs.example.com']);
    const sent = fake.queries[0]!;
    expect(sent.query).toBe('rust borrow checker');
    expect(sent.allowedDomains).toEqual(['example.com', 'example.org']);
    expect(sent.blockedDomains).toEqual(['news.example.org']);
    if (name === 'brave' || name === 'searxng') {
      expect(sent.rawQuery).toBe(
        'rust borrow checker site:example.com OR site:example.org -site:news.example.org',
      );
    }
  });

  it('asks for at most maxResults hits and returns no more', async () => {
    const hits = await provider(name).search({ query: 'anything', maxResults: 2 });
    expect(hits).toHaveLength(2);
    if (name !== 'searxng') expect(fake.queries[0]!.count).toBe(2);
  });

  it('maps an outage to unavailable', async () => {
    fake.script('outage', { status: 503 });
    expect((await failure(provider(name).search({ query: 'outage now' }))).code).toBe('unavailable');
  });

  it('maps 429 to too_many_requests with the retry-after', async () => {
    fake.script('busy', { status: 429, retryAfter: 7 });
    const err = await failure(provider(name).search({ query: 'busy hour' }));
    expect(err.code).toBe('too_many_requests');
    expect(err.message).toContain('7');
  });

  it('maps a slow provider to unavailable after the timeout', async () => {
    fake.script('slow', { delayMs: 3_000 });
    const err = await failure(provider(name, { webSearchTimeoutMs: 300 }).search({ query: 'slow one' }));
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/within 0.3 s/);
  });

  it('maps a body that is not JSON to unavailable', async () => {
    fake.script('garbage', { rawBody: '<html>oops' });
    expect((await failure(provider(name).search({ query: 'garbage' }))).code).toBe('unavailable');
  });

  it('refuses an empty query and an over-long one before calling', async () => {
    expect((await failure(provider(name).search({ query: '   ' }))).code).toBe('invalid_input');
    expect((await failure(provider(name).search({ query: 'x'.repeat(2001) }))).code).toBe('query_too_long');
    expect(fake.queries).toHaveLength(0);
  });

  it('stops when the caller aborts', async () => {
    fake.script('slow', { delayMs: 3_000 });
    const abort = new AbortController();
    const pending = provider(name).search({ query: 'slow abort', signal: abort.signal });
    setTimeout(() => abort.abort(new Error('client went away')), 100);
    await expect(pending).rejects.toThrow('client went away');
  });
});

describe.each(['brave', 'tavily', 'exa'] as const)('%s with a wrong key', (name) => {
  it('is unavailable and the message does not hold the key', async () => {
    const err = await failure(provider(name, { webSearchApiKey: 'wrong-secret-key' }).search({ query: 'q' }));
    expect(err.code).toBe('unavailable');
    expect(err.message).not.toContain('wrong-secret-key');
  });
});

describe('user_location', () => {
  const loc = { city: 'San Francisco', region: 'California', country: 'US', timezone: 'America/Los_Angeles' };
  it('brave sends country and the X-Loc headers', async () => {
    await provider('brave').search({ query: 'weather', userLocation: loc });
    expect(fake.queries[0]!.location).toEqual(loc);
    expect(fake.queries[0]!.params?.country).toBe('US');
  });
  it('brave leaves out a header value that is not ASCII', async () => {
    await provider('brave').search({ query: 'weather', userLocation: { city: 'São Paulo', country: 'br' } });
    expect(fake.queries[0]!.location).toEqual({ country: 'BR' });
  });
  it('tavily spells the country out', async () => {
    await provider('tavily').search({ query: 'weather', userLocation: loc });
    expect(fake.queries[0]!.location).toEqual({ country: 'united states' });
  });
  it('exa sends the two-letter code', async () => {
    await provider('exa').search({ query: 'weather', userLocation: loc });
    expect(fake.queries[0]!.location).toEqual({ country: 'US' });
  });
});

describe('shapes', () => {
  it('brave: strips <strong> marks and keeps page age', async () => {
    fake.script('paris', {
      results: [{ url: 'https://a.example/x', title: 'T', content: 'about paris & more' }],
    });
    const [hit] = await provider('brave').search({ query: 'paris' });
    expect(hit!.content).toBe('about paris & more');
  });
  it('brave: no web section means no hits', async () => {
    fake.script('nothing', { rawBody: JSON.stringify({ type: 'search', query: { original: 'nothing' } }) });
    expect(await provider('brave').search({ query: 'nothing' })).toEqual([]);
  });
  it('tavily: a JSON answer without results is unavailable', async () => {
    fake.script('odd', { rawBody: JSON.stringify({ hello: 'world' }) });
    expect((await failure(provider('tavily').search({ query: 'odd' }))).code).toBe('unavailable');
  });
  it('tavily: sends the key as a bearer token', async () => {
    await provider('tavily').search({ query: 'q' });
    expect(fake.queries[0]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
  });
  it('exa: asks for page text', async () => {
    await provider('exa').search({ query: 'q' });
    expect(fake.queries[0]!.body).toMatchObject({ contents: { text: { maxCharacters: 2000 } } });
  });
  it('brave: a query over 400 characters is too long', async () => {
    expect((await failure(provider('brave').search({ query: 'x'.repeat(401) }))).code).toBe('query_too_long');
  });
  it('no provider, or searxng without a URL, is no search', () => {
    const base = {
      webSearchApiKey: undefined,
      webSearchUrl: undefined,
      webSearchTimeoutMs: 1000,
      webSearchMaxResults: 5,
      webSearchSiteOperators: false,
      webFetchTimeoutMs: 1000,
      webFetchMaxBytes: 1000,
      webFetchAllowLoopbackForTests: false,
      webFetchVia: 'direct' as const,
    };
    expect(createSearchProvider({ ...base, webSearchProvider: undefined })).toBeUndefined();
    expect(createSearchProvider({ ...base, webSearchProvider: 'searxng' })).toBeUndefined();
  });
});
