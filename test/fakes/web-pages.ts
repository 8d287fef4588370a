/**
 * Pages for web fetch tests, served on a loopback port: an HTML article, text, Markdown, PDFs (true and
 * mislabelled), an image, a page over 100 kB, 404/500, a slow page, and redirects (to the article, to a
 * private address, to cloud metadata, to another host name). The gateway reaches them only with
 * ABPROXY_WEB_FETCH_ALLOW_LOOPBACK_FOR_TESTS=true.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ARTICLE = `<!doctype html><html><head><title>Otters | Wildlife Site</title></head><body>
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
export const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

export interface WebPages {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Paths asked for, in order. */
  hits: string[];
  close(): Promise<void>;
}

export async function startWebPages(): Promise<WebPages> {
  const hits: string[] = [];
  let bound = 0;
  const port = () => bound;
  const server = createServer((req, res) => {
    hits.push(req.headers.host?.startsWith('blocked.test') ? `blocked.test${req.url}` : (req.url ?? ''));
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
      case '/untyped.bin': {
        res.writeHead(200);
        return res.end(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff]));
      }
      case '/untyped.txt': {
        res.writeHead(200);
        return res.end('just words');
      }
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
        return send(302, 'text/plain', '', { location: `http://blocked.test:${port()}/article.html` });
      case '/via-blocked':
        // Through a blocked host, back to an allowed page: only the middle hop is blocked.
        return send(302, 'text/plain', '', { location: `http://blocked.test:${port()}/to-article?hop` });
      case '/loop':
        // Redirects to itself for ever.
        return send(302, 'text/plain', '', { location: '/loop' });
      case '/slow':
        setTimeout(() => send(200, 'text/plain', 'late'), 3_000);
        return;
      default:
        return send(404, 'text/plain', 'no');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
