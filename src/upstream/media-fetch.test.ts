import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import type { MessagesRequest } from '../anthropic/types.ts';
import { inlineRemoteMedia, sniffMediaType } from './media-fetch.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(64, 7),
]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n');

let server: Server;
let base: string;
let port: number;
let connections = 0;
const hits = new Map<string, number>();
const hosts: string[] = [];

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]!;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  hosts.push(req.headers.host ?? '');
  const send = (type: string, body: Buffer | string) => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };
  const redirect = /^\/r\/(\d+)$/.exec(path);
  if (redirect) {
    const n = Number(redirect[1]);
    res.writeHead(302, { location: n === 0 ? '/img.png' : `/r/${n - 1}` });
    res.end();
    return;
  }
  switch (path) {
    case '/img.png':
      send('image/png', PNG);
      return;
    case '/mislabelled':
      send('image/jpeg', PNG);
      return;
    case '/octet':
      send('application/octet-stream', JPEG);
      return;
    case '/doc.pdf':
      send('application/pdf', PDF);
      return;
    case '/notes.txt':
      send('text/plain; charset=utf-8', 'héllo notes');
      return;
    case '/page.html':
      send('text/html', '<html></html>');
      return;
    case '/delayed.png':
      setTimeout(() => send('image/png', PNG), 150);
      return;
    case '/chunked': {
      // No Content-Length: the cap must hold while streaming.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      const timer = setInterval(() => {
        if (!res.write(Buffer.alloc(1024))) return;
      }, 1);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case '/declared-huge':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(50 * 1024 * 1024) });
      res.write(PNG);
      return;
    case '/slow':
      return; // never answers
    case '/to-metadata':
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
      return;
    case '/to-ftp':
      res.writeHead(301, { location: 'ftp://example.com/x.png' });
      res.end();
      return;
    default:
      res.writeHead(404);
      res.end();
  }
}

beforeAll(async () => {
  server = createServer(route);
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  connections = 0;
  hits.clear();
  hosts.length = 0;
});

const image = (url: string) => ({ type: 'image' as const, source: { type: 'url' as const, url } });
const document = (url: string) => ({ type: 'document' as const, source: { type: 'url' as const, url } });

function request(...content: unknown[]): MessagesRequest {
  return {
    model: 'm',
    max_tokens: 10,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, ...content] as never }],
  };
}

async function failure(promise: Promise<void>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    return err as ApiError;
  }
  throw new Error('expected the fetch to fail');
}

const local = { allowPrivate: true };

describe('inlineRemoteMedia: fetching', () => {
  it('inlines images and documents, top level and inside tool results', async () => {
    const req: MessagesRequest = {
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: [image(`${base}/img.png`), document(`${base}/doc.pdf`)] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              content: [
                { type: 'text', text: 'here' },
                image(`${base}/octet`),
                document(`${base}/notes.txt`),
              ],
            },
          ],
        },
      ],
    };
    await inlineRemoteMedia(req, local);
    const [img, pdf] = req.messages[0]!.content as never[];
    expect(img).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') },
    });
    expect(pdf).toEqual({
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: PDF.toString('base64') },
    });
    const result = (req.messages[2]!.content as Array<{ content: unknown[] }>)[0]!.content;
    expect(result[1]).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/jpeg', data: JPEG.toString('base64') },
    });
    expect(result[2]).toEqual({
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'héllo notes' },
    });
  });

  it('trusts the bytes over a wrong Content-Type', async () => {
    const req = request(image(`${base}/mislabelled`));
    await inlineRemoteMedia(req, local);
    expect((req.messages[0]!.content as never[])[1]).toMatchObject({ source: { media_type: 'image/png' } });
  });

  it('fetches several URLs at once and the same URL once', async () => {
    const urls = [1, 2, 3, 4].map((i) => image(`${base}/delayed.png?${i}`));
    const req = request(...urls, image(`${base}/img.png`), image(`${base}/img.png`));
    const started = performance.now();
    await inlineRemoteMedia(req, local);
    // Four 150 ms answers in sequence would take 600 ms.
    expect(performance.now() - started).toBeLessThan(450);
    expect(hits.get('/img.png')).toBe(1);
  });

  it('leaves requests without URLs untouched', async () => {
    const req = request({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA' } });
    const before = JSON.stringify(req);
    await inlineRemoteMedia(req);
    expect(JSON.stringify(req)).toBe(before);
  });
});

describe('inlineRemoteMedia: failures name the field', () => {
  it('refuses an unsupported media type', async () => {
    const err = await failure(inlineRemoteMedia(request(image(`${base}/page.html`)), local));
    expect(err.message).toBe(
      "messages.0.content.1.source.url: could not fetch image: unsupported media type 'text/html'",
    );
    const doc = await failure(inlineRemoteMedia(request(document(`${base}/img.png`)), local));
    expect(doc.message).toBe(
      "messages.0.content.1.source.url: could not fetch document: unsupported media type 'image/png'",
    );
  });

  it('reports HTTP errors', async () => {
    const err = await failure(inlineRemoteMedia(request(image(`${base}/missing.png`)), local));
    expect(err.message).toBe('messages.0.content.1.source.url: could not fetch image: HTTP 404');
  });

  it('does not repeat a 60,000-character host name whole in the message', async () => {
    const host = `${'a'.repeat(60)}.`.repeat(1_000);
    const err = await failure(inlineRemoteMedia(request(image(`http://${host}x/img.png`))));
    expect(err.message).toMatch(/^messages\.0\.content\.1\.source\.url: could not fetch image: /);
    expect(err.message.length).toBeLessThan(400);
  });

  it('caps the size while streaming, without a Content-Length', async () => {
    const err = await failure(
      inlineRemoteMedia(request(image(`${base}/chunked`)), { ...local, maxBytes: 64 * 1024 }),
    );
    expect(err.message).toMatch(/could not fetch image: larger than the 0\.1 MB limit$/);
  });

  it('refuses a declared size over the cap before reading it', async () => {
    const err = await failure(inlineRemoteMedia(request(image(`${base}/declared-huge`)), local));
    expect(err.message).toMatch(/larger than the 5 MB limit$/);
  });

  it('caps the total of one request', async () => {
    const req = request(image(`${base}/img.png`), image(`${base}/octet`));
    const err = await failure(inlineRemoteMedia(req, { ...local, maxTotalBytes: 100 }));
    expect(err.message).toMatch(/in total$/);
  });

  it('counts a URL named by several blocks once per block: each is a copy in the request', async () => {
    // A few hundred bytes naming one 5 MB image a thousand times would otherwise become 6.7 GB of base64.
    const twice = request(image(`${base}/img.png`), image(`${base}/img.png`));
    const err = await failure(inlineRemoteMedia(twice, { ...local, maxTotalBytes: 100 }));
    expect(err.message).toMatch(/^messages\.0\.content\.2\.source\.url: .* in total$/);
    expect(hits.get('/img.png')).toBe(1);

    let held = 0;
    const hold = {
      take: (bytes: number) => {
        held += bytes;
        return undefined;
      },
    };
    const again = request(image(`${base}/img.png`), image(`${base}/img.png`));
    await inlineRemoteMedia(again, { ...local, hold });
    expect(held).toBe(2 * PNG.length);
  });

  it('refuses more than 100 URLs in one request before fetching any (each may take its whole deadline)', async () => {
    const many = Array.from({ length: 101 }, (_, i) => image(`${base}/delayed.png?${i}`));
    const err = await failure(inlineRemoteMedia(request(...many), local));
    expect(err.message).toBe(
      'messages.0.content.101.source.url: a request may name at most 100 remote images and documents',
    );
    expect(hits.size).toBe(0);
    // As many as Anthropic takes images in one request still go.
    const hundred = request(...Array.from({ length: 100 }, () => image(`${base}/img.png`)));
    await inlineRemoteMedia(hundred, local);
  });

  it('times out', async () => {
    const started = performance.now();
    const err = await failure(
      inlineRemoteMedia(request(image(`${base}/slow`)), { ...local, timeoutMs: 200 }),
    );
    expect(err.message).toBe('messages.0.content.1.source.url: could not fetch image: timed out after 0.2 s');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('follows up to three redirects and no more', async () => {
    const ok = request(image(`${base}/r/2`));
    await inlineRemoteMedia(ok, local);
    expect((ok.messages[0]!.content as never[])[1]).toMatchObject({
      source: { type: 'base64', media_type: 'image/png' },
    });
    const err = await failure(inlineRemoteMedia(request(image(`${base}/r/3`)), local));
    expect(err.message).toMatch(/could not fetch image: more than 3 redirects$/);
  });

  it('only fetches http and https, redirects included', async () => {
    const err = await failure(inlineRemoteMedia(request(image('file:///etc/passwd')), local));
    expect(err.message).toMatch(/only http and https URLs are supported, not file:$/);
    const hop = await failure(inlineRemoteMedia(request(image(`${base}/to-ftp`)), local));
    expect(hop.message).toMatch(/not ftp:$/);
  });
});

describe('inlineRemoteMedia: address guard', () => {
  it.each([
    ['loopback', () => `http://127.0.0.1:${port}/img.png`],
    ['localhost', () => `http://localhost:${port}/img.png`],
    ['IPv6 loopback', () => `http://[::1]:${port}/img.png`],
    ['IPv4-mapped loopback', () => `http://[::ffff:127.0.0.1]:${port}/img.png`],
    ['decimal loopback', () => `http://2130706433:${port}/img.png`],
    ['private', () => 'http://10.0.0.1/img.png'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses %s without connecting', async (_name, url) => {
    const err = await failure(inlineRemoteMedia(request(image(url())), { timeoutMs: 5000 }));
    expect(err.message).toMatch(
      /^messages\.0\.content\.1\.source\.url: could not fetch image: .*(not a public address|non-public address)/,
    );
    expect(connections).toBe(0);
  });

  it('refuses a name when any of its addresses is private', async () => {
    const lookup = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const err = await failure(
      inlineRemoteMedia(request(image(`http://media.example.test:${port}/img.png`)), { lookup }),
    );
    expect(err.message).toMatch(/media\.example\.test resolves to a non-public address \(127\.0\.0\.1\)/);
    expect(connections).toBe(0);
  });

  it('connects to the address it checked, not to a fresh resolution', async () => {
    // The system resolver knows nothing of this name: only the pinned address can have been used.
    const lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const req = request(image(`http://media.example.test:${port}/img.png`));
    await inlineRemoteMedia(req, { lookup, allowAddress: (a) => a === '127.0.0.1' });
    expect((req.messages[0]!.content as never[])[1]).toMatchObject({ source: { type: 'base64' } });
    expect(hosts).toEqual([`media.example.test:${port}`]);
  });

  it('checks every redirect hop again', async () => {
    const err = await failure(
      inlineRemoteMedia(request(image(`${base}/to-metadata`)), { allowAddress: (a) => a === '127.0.0.1' }),
    );
    expect(err.message).toMatch(/169\.254\.169\.254 is not a public address$/);
    expect(hits.get('/to-metadata')).toBe(1);
  });
});

describe('sniffMediaType', () => {
  it('reads magic bytes', () => {
    expect(sniffMediaType(PNG)).toBe('image/png');
    expect(sniffMediaType(JPEG)).toBe('image/jpeg');
    expect(sniffMediaType(Buffer.from('GIF89a...'))).toBe('image/gif');
    expect(sniffMediaType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffMediaType(PDF)).toBe('application/pdf');
    expect(sniffMediaType(Buffer.from('hello'))).toBeUndefined();
  });
});
