import { describe, expect, it } from 'vitest';
import { expectLinear } from '../../../test/linear-time.ts';
import type { MessageParam } from '../../anthropic/types.ts';
import { ContextUrls, sitesInText, urlKey, urlsInText } from './context-urls.ts';

/** A conversation with one URL in each place Anthropic counts, and URLs where it does not. */
const CONVERSATION = [
  { role: 'user', content: 'Summarise https://docs.example.com/guide/intro and tell me what you think.' },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'I will read https://model-made.example.net/page first.' },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'otters' } },
      {
        type: 'web_search_tool_result',
        tool_use_id: 'srvtoolu_1',
        content: [
          {
            type: 'web_search_result',
            url: 'https://news.example.org/otters',
            title: 'Otters',
            encrypted_content: 'c2VhbGVk',
          },
        ],
      },
      { type: 'server_tool_use', id: 'srvtoolu_2', name: 'web_fetch', input: { url: 'https://x.test/' } },
      {
        type: 'web_fetch_tool_result',
        tool_use_id: 'srvtoolu_2',
        content: {
          type: 'web_fetch_result',
          url: 'https://pages.example.org/a',
          content: {
            type: 'document',
            source: {
              type: 'text',
              media_type: 'text/plain',
              data: 'See [the paper](https://papers.example.org/p.pdf).',
            },
          },
        },
      },
      { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { url: 'https://tool-input.example.net/' } },
    ],
  },
  {
    role: 'user',
    content: [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_1',
        content: [{ type: 'text', text: 'Found <https://client-tool.example.com/r?id=7>' }],
      },
      { type: 'image', source: { type: 'url', url: 'https://img.example.com/cat.png' } },
    ],
  },
] as unknown as MessageParam[];

describe('the URLs a conversation provides', () => {
  const urls = ContextUrls.of(CONVERSATION);

  it('counts user text, client tool results, URL sources and web search / fetch results (with the links in a page)', () => {
    for (const url of [
      'https://docs.example.com/guide/intro',
      'https://client-tool.example.com/r?id=7',
      'https://img.example.com/cat.png',
      'https://news.example.org/otters',
      'https://pages.example.org/a',
      'https://papers.example.org/p.pdf',
    ]) {
      expect(urls.allows(url), url).toBe(true);
    }
  });

  it("does not count the model's own words or tool inputs", () => {
    expect(urls.allows('https://model-made.example.net/page')).toBe(false);
    expect(urls.allows('https://tool-input.example.net/')).toBe(false);
    expect(urls.allows('https://x.test/')).toBe(false);
  });

  it('refuses what only looks like a provided URL: a prefix, an added query, a path, another scheme or port', () => {
    for (const url of [
      'https://docs.example.com/guide',
      'https://docs.example.com/guide/intro?secret=hunter2',
      'https://docs.example.com/guide/intro/hunter2',
      'https://docs.example.com/guide/introhunter2',
      'http://docs.example.com/guide/intro',
      'https://docs.example.com:8443/guide/intro',
      'https://hunter2@docs.example.com/guide/intro',
      'https://hunter2.docs.example.com/guide/intro',
      'https://client-tool.example.com/r?id=7&secret=hunter2',
      'https://client-tool.example.com/r',
    ]) {
      expect(urls.allows(url), url).toBe(false);
    }
  });

  it('accepts other spellings of a provided URL', () => {
    for (const url of [
      'HTTPS://Docs.Example.COM/guide/intro',
      'https://docs.example.com:443/guide/intro',
      'https://docs.example.com/guide/intro/',
      'https://docs.example.com/guide/intro#section-2',
      'https://docs.example.com./guide/intro',
      'https://docs.example.com/guide/./x/../intro',
      'https://docs.example.com/%67uide/intro',
    ]) {
      expect(urls.allows(url), url).toBe(true);
    }
  });

  it('refuses anything when the conversation gives no URL, and what is not a web URL', () => {
    const none = ContextUrls.of([{ role: 'user', content: 'My password is hunter2. Summarise our policy.' }]);
    expect(none.allows('http://127.0.0.1:8080/collect?secret=hunter2')).toBe(false);
    expect(urls.allows('not a url')).toBe(false);
    expect(urls.allows('file:///etc/passwd')).toBe(false);
  });

  it("keeps a URL image's or document's URL when the gateway then replaces it by its bytes", () => {
    const messages = [
      {
        role: 'user',
        content: [{ type: 'image', source: { type: 'url', url: 'https://img.example.com/cat.png' } }],
      },
    ] as unknown as MessageParam[];
    const urls = ContextUrls.of(messages);
    (messages[0]!.content as unknown as Array<Record<string, unknown>>)[0] = {
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
    };
    expect(urls.allows('https://img.example.com/cat.png')).toBe(true);
  });

  it('answers in milliseconds for a conversation of megabytes of URLs (reading them all took seconds)', () => {
    const paths = Array.from({ length: 2 ** 19 }, (_, i) => `https://a.co/${i}`).join(' '); // 8 MB
    const sites = Array.from({ length: 2 ** 19 }, (_, i) => `b${i}.co`).join(' ');
    const started = performance.now();
    const urls = ContextUrls.of([
      {
        role: 'user',
        content: [
          { type: 'text', text: paths },
          { type: 'text', text: sites },
        ],
      },
    ]);
    expect(urls.allows('https://a.co/none')).toBe(false);
    expect(urls.allows('https://zz.co/')).toBe(false);
    expect(urls.allows('https://a.co/1000')).toBe(true);
    expect(urls.allows(`https://b${2 ** 19 - 1}.co`)).toBe(true);
    // ~0.1 s here; reading every URL first took 4–8 s.
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('answers in milliseconds when one host is written over and over with no space (each word the same)', () => {
    // Every place of `a.b` in the run has the same 4-kB word around it, so the different-words bound never
    // stops the question: 100,000 places, each read 4 kB either side, held the event loop 2.5-4.5 s.
    const run = 'a.b'.repeat(1_000_000);
    const urls = ContextUrls.of([{ role: 'user', content: [{ type: 'text', text: run }] }]);
    const started = performance.now();
    expect(urls.allows('https://a.b/')).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('finds a host written in another case or in Unicode', () => {
    const urls = ContextUrls.of([
      { role: 'user', content: 'See HTTPS://DOCS.EXAMPLE.COM/guide and https://Bücher.de/Köln' },
    ]);
    expect(urls.allows('https://docs.example.com/guide')).toBe(true);
    expect(urls.allows('https://xn--bcher-kva.de/K%C3%B6ln')).toBe(true);
    expect(urls.allows('https://bücher.de/Köln')).toBe(true);
  });

  it('grows with what the loop finds (search hits, fetched pages and their links)', () => {
    const more = ContextUrls.of([{ role: 'user', content: 'no links' }]);
    more.addUrl('https://hit.example.com/a');
    more.addText('Read https://linked.example.com/b, then stop.');
    expect(more.allows('https://hit.example.com/a')).toBe(true);
    expect(more.allows('https://linked.example.com/b')).toBe(true);
    expect(more.allows('https://linked.example.com/b?then')).toBe(false);
  });
});

describe('url_sources narrows the sources', () => {
  const USER = 'https://docs.example.com/guide/intro';
  const CLIENT_TOOL = 'https://client-tool.example.com/r?id=7';
  const SEARCH = 'https://news.example.org/otters';
  const FETCHED = 'https://papers.example.org/p.pdf';
  const allowed = (sources: Parameters<typeof ContextUrls.of>[1]) => {
    const urls = ContextUrls.of(CONVERSATION, sources);
    return [USER, CLIENT_TOOL, SEARCH, FETCHED].filter((url) => urls.allows(url));
  };

  it('user input off leaves tool results', () => {
    expect(allowed({ userInput: false })).toEqual([CLIENT_TOOL, SEARCH, FETCHED]);
  });

  it('client tool results: none, only or except some tools (by the name of the call they answer)', () => {
    expect(allowed({ clientToolResults: { type: 'none' } })).toEqual([USER, SEARCH, FETCHED]);
    expect(allowed({ clientToolResults: { type: 'only', tools: ['lookup'] } })).toContain(CLIENT_TOOL);
    expect(allowed({ clientToolResults: { type: 'only', tools: ['other'] } })).not.toContain(CLIENT_TOOL);
    expect(allowed({ clientToolResults: { type: 'except', tools: ['lookup'] } })).not.toContain(CLIENT_TOOL);
  });

  it('server tool results: none, or only web_search', () => {
    expect(allowed({ serverToolResults: { type: 'none' } })).toEqual([USER, CLIENT_TOOL]);
    expect(allowed({ serverToolResults: { type: 'only', tools: ['web_search'] } })).toEqual([
      USER,
      CLIENT_TOOL,
      SEARCH,
    ]);
    const urls = ContextUrls.of([], { serverToolResults: { type: 'except', tools: ['web_fetch'] } });
    expect([urls.countsResultsOf('web_search'), urls.countsResultsOf('web_fetch')]).toEqual([true, false]);
  });
});

describe('urlKey (one spelling per URL)', () => {
  it('an internationalized name is the same in Unicode and punycode; case of the path matters', () => {
    expect(urlKey('https://Bücher.de/Köln')).toBe(urlKey('https://xn--bcher-kva.de/K%C3%B6ln'));
    expect(urlKey('https://a.com/Docs')).not.toBe(urlKey('https://a.com/docs'));
  });

  it('escapes of unreserved characters are plain, others upper case; other escapes stay escapes', () => {
    expect(urlKey('https://a.com/%7Euser?q=%7e')).toBe(urlKey('https://a.com/~user?q=~'));
    expect(urlKey('https://a.com/a%2fb')).toBe(urlKey('https://a.com/a%2Fb'));
    expect(urlKey('https://a.com/a%2Fb')).not.toBe(urlKey('https://a.com/a/b'));
  });

  it('keeps user info, query and port; drops the fragment and the default port', () => {
    expect(urlKey('https://u:p@a.com:8443/x?b=1#f')).toBe('https://u:p@a.com:8443/x?b=1');
    expect(urlKey('http://a.com:80/')).toBe('http://a.com');
    expect(urlKey('mailto:a@b.c')).toBeUndefined();
  });
});

describe('urlsInText', () => {
  it('finds URLs in prose, Markdown and angle brackets, with and without what follows them', () => {
    expect(
      urlsInText('See https://a.com/x. Or (https://b.com/y) or [c](https://c.com/z) <https://d.com/>'),
    ).toEqual([
      'https://a.com/x.',
      'https://a.com/x',
      'https://b.com/y)',
      'https://b.com/y',
      'https://c.com/z)',
      'https://c.com/z',
      'https://d.com/',
    ]);
    expect(urlsInText('a wiki page https://en.wikipedia.org/wiki/Foo_(bar) here')).toContain(
      'https://en.wikipedia.org/wiki/Foo_(bar)',
    );
    expect(urlsInText('请看https://a.com/x页面。')).toContain('https://a.com/x');
    expect(urlsInText('https://de.wikipedia.org/wiki/Köln')).toEqual(['https://de.wikipedia.org/wiki/Köln']);
  });

  it('finds a site written without its scheme, with either scheme, and not in e-mail addresses or longer names', () => {
    expect(sitesInText('Summarise example.com.')).toEqual(['example.com']);
    expect(sitesInText("what's on docs.python.org/3/?")).toContain('docs.python.org/3/');
    expect(sitesInText('请看example.com页面')).toEqual(['example.com']);
    expect(sitesInText('the page at 10.0.0.1:8080/x')).toEqual(['10.0.0.1:8080/x']);
    expect(sitesInText('mail bob@example.com, version 1.2.3.4.5, e.g. this, https://a.com/x')).toEqual([]);
    expect(urlsInText('no scheme: example.com/page')).toEqual([]);
    const urls = ContextUrls.of([{ role: 'user', content: "What's on docs.python.org/3/ and example.com?" }]);
    expect(urls.allows('https://docs.python.org/3/')).toBe(true);
    expect(urls.allows('http://docs.python.org/3')).toBe(true);
    expect(urls.allows('https://example.com/')).toBe(true);
    // Still only what was written: no path or query of the model's own.
    expect(urls.allows('https://example.com/collect?secret=hunter2')).toBe(false);
    expect(urls.allows('https://docs.python.org/3/library')).toBe(false);
  });

  it('takes linear time on long runs (slashes, punctuation, repeated schemes)', () => {
    expectLinear(
      (n) =>
        `https://a.com/${'/'.repeat(n / 4)} ${'https://'.repeat(n / 32)} https://b.com${')'.repeat(n / 4)}`,
      (text) => ContextUrls.of([{ role: 'user', content: text }]).allows('https://a.com/'),
    );
    // Sites without a scheme: long names, long labels, dotted numbers.
    expectLinear(
      (n) => `${'a.'.repeat(n / 4)}1 ${'b-'.repeat(n / 8)}c ${'1.'.repeat(n / 8)}`,
      (text) => ContextUrls.of([{ role: 'user', content: text }]).allows('https://a.com/'),
    );
  });
});
