import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy } from '../../../test/fakes/connect-proxy.ts';
import { PDF, startWebPages, type WebPages } from '../../../test/fakes/web-pages.ts';
import { cutHit, cutToTokens, DEFAULT_FETCH_TOKENS, MAX_HIT_CHARS } from './cut-to-tokens.ts';
import { createFetchPage } from './fetch-page.ts';
import { htmlToMarkdown, MAX_HTML_CHARS, slimHtml } from './html-to-markdown.ts';
import { webToolFailure as failure } from './web-tools.fixture.ts';

let pages: WebPages;
let base: string;
let port: number;
let hits: string[];

beforeAll(async () => {
  pages = await startWebPages();
  ({ url: base, port, hits } = pages);
});
afterAll(async () => pages?.close());

const fetchPage = createFetchPage({
  timeoutMs: 1_500,
  maxBytes: 100_000,
  allowLoopbackForTests: true,
  // Every name resolves to loopback, as a test DNS would.
  lookup: async () => [{ address: '127.0.0.1', family: 4 }],
});

describe('web fetch over the SSRF guard', () => {
  it('turns an HTML article into clean Markdown with its title', async () => {
    const doc = await fetchPage({ url: `${base}/article.html` });
    expect(doc.url).toBe(`${base}/article.html`);
    expect(doc.title).toMatch(/Sea otters use tools|Otters/);
    expect(doc.source.type).toBe('text');
    const text = doc.source.data;
    expect(text).toContain('Sea otters are among the few mammals that use tools');
    expect(text).toMatch(/## Why it matters/);
    expect(text).toMatch(/- Stones as anvils/);
    expect(text).toContain(`[full paper](${base}/papers/otters.pdf)`);
    expect(text).not.toContain('tracking');
    expect(text).not.toContain('<p>');
    expect(Number.isNaN(Date.parse(doc.retrievedAt))).toBe(false);
  });

  it('passes text and Markdown as they are, in their charset', async () => {
    expect((await fetchPage({ url: `${base}/notes.txt` })).source).toEqual({
      type: 'text',
      media_type: 'text/plain',
      data: 'line one\nline two — with a dash\n',
    });
    expect((await fetchPage({ url: `${base}/readme.md` })).source.data).toBe('# Title\n\nSome *markdown*.\n');
    expect((await fetchPage({ url: `${base}/latin1.txt` })).source.data).toBe('café');
    const html = await fetchPage({ url: `${base}/latin1.html` });
    expect(html.title).toBe('Café');
    expect(html.source.data).toContain('Un café noir.');
  });

  it('passes a PDF as a base64 document, also when mislabelled', async () => {
    for (const path of ['/paper.pdf', '/mislabelled.pdf']) {
      const doc = await fetchPage({ url: `${base}${path}` });
      expect(doc.source).toEqual({
        type: 'base64',
        media_type: 'application/pdf',
        data: PDF.toString('base64'),
      });
    }
  });

  it('refuses other content types', async () => {
    expect((await failure(fetchPage({ url: `${base}/photo.png` }))).code).toBe('unsupported_content_type');
    expect((await failure(fetchPage({ url: `${base}/fake.pdf` }))).code).toBe('unsupported_content_type');
    expect((await failure(fetchPage({ url: `${base}/untyped.bin` }))).code).toBe('unsupported_content_type');
    expect((await fetchPage({ url: `${base}/untyped.txt` })).source.data).toBe('just words');
  });

  it('follows a redirect on a public (here: allowed loopback) address', async () => {
    const doc = await fetchPage({ url: `${base}/to-article` });
    expect(doc.url).toBe(`${base}/to-article`);
    expect(doc.source.data).toContain('Sea otters');
  });

  it('refuses a redirect to a private address or cloud metadata, even with loopback allowed', async () => {
    for (const path of ['/to-private', '/to-metadata']) {
      const err = await failure(fetchPage({ url: `${base}${path}` }));
      expect(err.code).toBe('url_not_allowed');
      expect(err.message).toMatch(/not a public address/);
    }
  });

  it('gives up after 5 redirects', async () => {
    const before = hits.length;
    const err = await failure(fetchPage({ url: `${base}/loop` }));
    expect(err.code).toBe('url_not_accessible');
    expect(err.message).toMatch(/more than 5 redirects/);
    expect(hits.length - before).toBe(6);
  });

  it('caps the size', async () => {
    const err = await failure(fetchPage({ url: `${base}/big.txt` }));
    expect(err.code).toBe('url_not_accessible');
    expect(err.message).toMatch(/limit/);
  });

  it('maps 4xx, 5xx and timeouts to url_not_accessible', async () => {
    expect((await failure(fetchPage({ url: `${base}/missing` }))).message).toMatch(/HTTP 404/);
    expect((await failure(fetchPage({ url: `${base}/broken` }))).code).toBe('url_not_accessible');
    const slow = await failure(fetchPage({ url: `${base}/slow` }));
    expect(slow.code).toBe('url_not_accessible');
    expect(slow.message).toMatch(/timed out/);
  });

  it('honours allowed and blocked domains, also where a redirect ends', async () => {
    const allowedOnly = { allowedDomains: ['example.com'] };
    expect((await failure(fetchPage({ url: `${base}/article.html`, ...allowedOnly }))).code).toBe(
      'url_not_allowed',
    );
    const blocked = { blockedDomains: ['blocked.test'] };
    expect(
      (await failure(fetchPage({ url: `http://blocked.test:${port}/article.html`, ...blocked }))).code,
    ).toBe('url_not_allowed');
    expect((await failure(fetchPage({ url: `${base}/to-blocked`, ...blocked }))).code).toBe(
      'url_not_allowed',
    );
    // A blocked host in the middle of a redirect chain is not requested at all.
    const via = await failure(fetchPage({ url: `${base}/via-blocked`, ...blocked }));
    expect(via.code).toBe('url_not_allowed');
    expect(via.message).toMatch(/redirected to blocked\.test/);
    expect(hits.filter((h) => h.startsWith('blocked.test/to-article'))).toEqual([]);
    const sub = await fetchPage({
      url: `http://docs.allowed.test:${port}/notes.txt`,
      allowedDomains: ['allowed.test'],
    });
    expect(sub.source.data).toContain('line one');
  });

  it('cuts to max_content_tokens at about 4 characters a token', async () => {
    const doc = await fetchPage({ url: `${base}/article.html`, maxContentTokens: 20 });
    expect(doc.source.data.length).toBeLessThan(20 * 4 + 80);
    expect(doc.source.data).toMatch(/cut at about 20 tokens/);
  });

  it('refuses bad URLs before any request', async () => {
    const before = hits.length;
    expect((await failure(fetchPage({ url: 'not a url' }))).code).toBe('invalid_tool_input');
    expect((await failure(fetchPage({ url: 'file:///etc/passwd' }))).code).toBe('invalid_tool_input');
    expect((await failure(fetchPage({ url: `${base}/${'a'.repeat(300)}` }))).code).toBe('url_too_long');
    expect(hits.length).toBe(before);
  });
});

describe('behind an outbound proxy', () => {
  it('tunnels to the checked address, never the name, and the redirect hop is checked again', async () => {
    const proxy = await startConnectProxy();
    process.env.HTTP_PROXY = proxy.url;
    try {
      const named = `http://pages.example:${port}`;
      const doc = await fetchPage({ url: `${named}/to-article` });
      expect(doc.source.data).toContain('Sea otters');
      // Both hops through the proxy, each to the address the guard checked (the name would let the proxy
      // resolve it again: a rebinding DNS could then send it anywhere).
      expect(proxy.tunnels.get(`127.0.0.1:${port}`)).toBe(2);
      expect(proxy.tunnels.get(`pages.example:${port}`)).toBeUndefined();
      expect(proxy.forwarded.size).toBe(0);
      const err = await failure(fetchPage({ url: `${named}/to-metadata` }));
      expect(err.code).toBe('url_not_allowed');
    } finally {
      delete process.env.HTTP_PROXY;
      await proxy.close();
    }
  });

  it("fails with the proxy's refusal, without its password", async () => {
    const proxy = await startConnectProxy({ user: 'gw', password: 'right-pass' });
    process.env.HTTP_PROXY = proxy.urlWith('gw', 'wrong-pass');
    try {
      const err = await failure(fetchPage({ url: `http://pages.example:${port}/article.html` }));
      expect(err.code).toBe('url_not_accessible');
      expect(err.message).toMatch(/outbound proxy .*407/);
      expect(err.message).not.toContain('wrong-pass');
    } finally {
      delete process.env.HTTP_PROXY;
      await proxy.close();
    }
  });
});

describe('without the test-only setting', () => {
  const guarded = createFetchPage({ timeoutMs: 1_500, maxBytes: 100_000 });
  it('refuses loopback', async () => {
    const before = hits.length;
    const err = await failure(guarded({ url: `${base}/article.html` }));
    expect(err.code).toBe('url_not_allowed');
    expect(hits.length).toBe(before);
  });
  it('refuses a name that resolves to loopback', async () => {
    const err = await failure(guarded({ url: `http://localhost:${port}/article.html` }));
    expect(err.code).toBe('url_not_allowed');
  });
});

describe('pure helpers', () => {
  it('htmlToMarkdown falls back to the body when there is no article', () => {
    const { title, markdown } = htmlToMarkdown(
      '<html><head><title>T</title></head><body><p>Hi <b>there</b></p></body></html>',
    );
    expect(title).toBe('T');
    expect(markdown).toContain('Hi **there**');
  });
  it('without max_content_tokens, a page is cut at the default and says why', () => {
    const huge = 'y'.repeat(DEFAULT_FETCH_TOKENS * 4 + 10);
    const cut = cutToTokens(huge, undefined);
    expect(cut.startsWith('y'.repeat(DEFAULT_FETCH_TOKENS * 4))).toBe(true);
    expect(cut).toMatch(/cut at about 64000 tokens \(the default when max_content_tokens is not set\)\]$/);
    expect(cutHit('z'.repeat(MAX_HIT_CHARS + 5))).toBe(`${'z'.repeat(MAX_HIT_CHARS)}…`);
    expect(cutHit('short hit')).toBe('short hit');
  });

  it('cutToTokens leaves short text alone', () => {
    expect(cutToTokens('short', 10)).toBe('short');
    expect(cutToTokens('x'.repeat(100), 10)).toMatch(/^x{40}\n\n\[…cut at about 10 tokens/);
  });
});

describe('large pages', () => {
  it('drop scripts and styles, read at most MAX_HTML_CHARS of markup and say the rest was not read', () => {
    const para = `<p>${'word '.repeat(60)}</p>\n`;
    const big = `<html><head><title>Big</title><style>${'x{}'.repeat(100_000)}</style></head><body><article>${para.repeat(3000)}<p>THE END</p></article><script>${'var a;'.repeat(100_000)}</script></body></html>`;
    expect(slimHtml(big).length).toBe(MAX_HTML_CHARS);
    expect(slimHtml(big)).not.toContain('x{}');
    const { markdown } = htmlToMarkdown(big);
    expect(markdown).toMatch(/^word word/);
    expect(markdown).not.toContain('THE END');
    expect(markdown).toMatch(/the rest of the page was not read\]$/);
    const small = htmlToMarkdown(
      `<html><body><script>var s;</script><p>${'word '.repeat(60)} THE END</p></body></html>`,
    );
    expect(small.markdown).toContain('THE END');
    expect(small.markdown).not.toMatch(/not read/);
  });
});
