import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSearch, startFakeSearch } from '../../../../test/fakes/search-provider.ts';
import { createWebTools } from '../index.ts';
import { webToolFailure as failure, fakeSearchConfig } from '../web-tools.fixture.ts';

let fake: FakeSearch;
beforeEach(async () => {
  fake ??= await startFakeSearch();
  fake.reset();
});
afterAll(async () => fake?.close());

function tools(provider: 'tavily' | 'exa' | 'brave', via: 'direct' | 'provider', key = fake.apiKey) {
  return createWebTools(
    fakeSearchConfig(fake, {
      webSearchProvider: provider,
      webSearchApiKey: key,
      webFetchMaxBytes: 100_000,
      webFetchVia: via,
    }),
  );
}

describe.each(['tavily', 'exa'] as const)('web fetch through %s', (provider) => {
  it('reads the page with the extract API, as text, cut to max_content_tokens', async () => {
    fake.scriptPage('https://docs.example.com/guide', { text: 'Guide text. '.repeat(50), title: 'Guide' });
    const doc = await tools(provider, 'provider').fetch({
      url: 'https://docs.example.com/guide',
      maxContentTokens: 10,
    });
    expect(doc.url).toBe('https://docs.example.com/guide');
    expect(doc.source.type).toBe('text');
    expect(doc.source.data).toMatch(/^Guide text\. Guide text\. Guide text\. Gu/);
    expect(doc.source.data).toMatch(/cut at about 10 tokens/);
    expect(fake.extracts).toEqual([
      expect.objectContaining({ provider, urls: ['https://docs.example.com/guide'] }),
    ]);
  });

  it('checks the domain rules and URL before calling the provider', async () => {
    const t = tools(provider, 'provider');
    const blocked = await failure(
      t.fetch({ url: 'https://evil.example.net/x', blockedDomains: ['example.net'] }),
    );
    expect(blocked.code).toBe('url_not_allowed');
    expect((await failure(t.fetch({ url: 'ftp://example.com/x' }))).code).toBe('invalid_tool_input');
    expect(fake.extracts).toHaveLength(0);
  });

  it('maps a page the provider could not read to url_not_accessible, and outages to unavailable', async () => {
    fake.scriptPage('https://gone.example.com/', { fail: 'NOT_FOUND' });
    const t = tools(provider, 'provider');
    const gone = await failure(t.fetch({ url: 'https://gone.example.com/' }));
    expect(gone.code).toBe('url_not_accessible');
    expect(gone.message).toContain('NOT_FOUND'); // the provider's reason is passed on
    fake.scriptPage('https://down.example.com/', { status: 503 });
    expect((await failure(t.fetch({ url: 'https://down.example.com/' }))).code).toBe('unavailable');
    fake.scriptPage('https://busy.example.com/', { status: 429 });
    expect((await failure(t.fetch({ url: 'https://busy.example.com/' }))).code).toBe('too_many_requests');
  });

  it('direct (the default) never calls the extract API', async () => {
    const err = await failure(tools(provider, 'direct').fetch({ url: 'http://127.0.0.1:9/' }));
    expect(err.code).toBe('url_not_allowed');
    expect(fake.extracts).toHaveLength(0);
  });
});
