import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchPage, cutToTokens, htmlToMarkdown } from './fetch-page.ts';
import { WebToolError } from './types.ts';

const ARTICLE = `<!doctype html><html><head><title>Otters | Wildlife Site</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/shop">Shop</a></nav>
<article>
<h1>Sea otters use tools</h1>
<p>Sea otters are among the few mammals that use tools. They float on their backs and crack shellfish
open with stones they keep in a pouch of loose skin under their forearms. Researchers have watched this
behaviour for decades along the coasts of California and Alaska.</p>
<h2>Why it matters</h2>
<p>Tool use shapes where otters can feed, and it may be passed from mothers to pups. See the
<a href="/papers/otters.pdf">full paper</a> for the data.</p>
<ul><li>Stones as anvils</li><li>Stones as hammers</li></ul>
</article>
<script>console.log('tracking')</script>
<footer>© Wildlife Site · Privacy · Cookies</footer>
</body></html>`;

// The smallest PDF a reader takes: header, one empty page, trailer.
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

let server: Server;
let base: string;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const send = (
      status: number,
      type: string,
      body: string | Buffer,
      headers: Record<string, string> = {},
    ) => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    switch (req.url) {
      case '/article.html':
        return send(200, 'text/html; charset=utf-8', ARTICLE);
      case '/notes.txt':
        return send(200, 'text/plain; charset=utf-8', 'line one\nline two — with a dash\n');
      case '/readme.md':
        return send(200, 'text/markdown', '# Title\n\nSome *markdown*.\n');
      case '/paper.pdf':
        return send(200, 'application/pdf', PDF);
      case '/mislabelled.pdf':
        return send(200, 'application/octet-stream', PDF);
      case '/fake.pdf':
        return send(200, 'application/pdf', 'not really a pdf');
      case '/photo.png':
        return send(200, 'image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
      case '/big.txt':
        return send(200, 'text/plain', 'x'.repeat(200_000));
      case '/latin1.html':
        return send(
          200,
          'text/html',
          Buffer.concat([
            Buffer.from('<html><head><meta charset="iso-8859-1"><title>Caf'),
            Buffer.from([0xe9]),
            Buffer.from('</title></head><body><p>Un caf'),
            Buffer.from([0xe9]),
            Buffer.from(' noir.</p></body></html>'),
          ]),
        );
      case '/latin1.txt':
        return send(200, 'text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
      case '/missing':
        return send(404, 'text/html', '<h1>Not found</h1>');
      case '/broken':
        return send(500, 'text/plain', 'boom');
      case '/to-article':
        return send(302, 'text/plain', '', { location: '/article.html' });
      case '/to-private':
        return send(302, 'text/plain', '', { location: 'http://10.1.2.3/secret' });
      case '/to-metadata':
        return send(302, 'text/plain', '', { location: 'http://169.254.169.254/latest/meta-data/' });
      case '/to-blocked':
        return send(302, 'text/plain', '', { location: `http://blocked.test:${port}/article.html` });
      case '/slow':
        setTimeout(() => send(200, 'text/plain', 'late'), 3_000);
        return;
      default:
        return send(404, 'text/plain', 'no');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const fetchPage = createFetchPage({
  timeoutMs: 1_500,
  maxBytes: 100_000,
  allowLoopbackForTests: true,
  // Every name resolves to loopback, as a test DNS would.
  lookup: async () => [{ address: '127.0.0.1', family: 4 }],
});

async function failure(promise: Promise<unknown>): Promise<WebToolError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebToolError);
  return err as WebToolError;
}

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
    expect((await failure(fetchPage({ url: 'not a url' }))).code).toBe('invalid_input');
    expect((await failure(fetchPage({ url: 'file:///etc/passwd' }))).code).toBe('invalid_input');
    expect((await failure(fetchPage({ url: `${base}/${'a'.repeat(300)}` }))).code).toBe('url_too_long');
    expect(hits.length).toBe(before);
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
  it('cutToTokens leaves short text alone', () => {
    expect(cutToTokens('short', 10)).toBe('short');
    expect(cutToTokens('x'.repeat(100), 10)).toMatch(/^x{40}\n\n\[…cut at about 10 tokens/);
  });
});
