import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../anthropic/errors.ts';
import { takeGc } from '../../cli/serve-tuning.ts';
import { parseJson, readBody } from './body.ts';

const LIMIT = 64 * 1024;

type ErrorJson = { error: { type: string; message: string }; text?: string; size?: number };
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    try {
      const body = await readBody(req, LIMIT);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ size: body.length, text: body.subarray(0, 40).toString() }));
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('api_error', String(err));
      res.writeHead(e.status, { 'content-type': 'application/json', ...e.headers });
      res.end(JSON.stringify(e.toJSON()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function post(body: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as ErrorJson };
}

describe('readBody', () => {
  it('inflates gzip, deflate and br bodies', async () => {
    const text = '{"hello":"world"}';
    for (const [encoding, data] of [
      ['gzip', gzipSync(text)],
      ['deflate', deflateSync(text)],
      ['br', brotliCompressSync(text)],
    ] as const) {
      const { status, json } = await post(data, { 'content-encoding': encoding });
      expect(status, encoding).toBe(200);
      expect(json.text).toBe(text);
    }
  });

  it('counts bytes without a Content-Length and refuses beyond the limit with 413', async () => {
    const ok = await post('x'.repeat(LIMIT));
    expect(ok.json.size).toBe(LIMIT);
    // A chunked upload gives no length up front; the limit still holds.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(LIMIT / 2)));
        controller.close();
      },
    });
    const res = await fetch(url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorJson).error.message).toContain(String(LIMIT));
  });

  it('applies the limit to the inflated size (a small gzip bomb is refused)', async () => {
    const bomb = gzipSync(Buffer.alloc(LIMIT * 20, 0x20));
    expect(bomb.length).toBeLessThan(LIMIT);
    const { status, json } = await post(bomb, { 'content-encoding': 'gzip' });
    expect(status).toBe(413);
    expect(json.error.type).toBe('request_too_large');
  });

  it('refuses unknown encodings with 415 and corrupt gzip with 400', async () => {
    expect((await post('{}', { 'content-encoding': 'compress' })).status).toBe(415);
    const corrupt = await post(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.json.error.message).toMatch(/decode/);
  });

  it('accepts one coding only: a chain of codings is 415, not thousands of decoders', async () => {
    const text = '{"a":1}';
    expect((await post(gzipSync(text), { 'content-encoding': ' GZIP ' })).status).toBe(200);
    expect((await post(text, { 'content-encoding': 'identity' })).status).toBe(200);
    for (const header of ['gzip, gzip', 'identity, gzip', Array(3150).fill('zstd').join(',')]) {
      const { status, json } = await post(gzipSync(gzipSync(text)), { 'content-encoding': header });
      expect(status, header.slice(0, 20)).toBe(415);
      expect(json.error.message).toMatch(/one Content-Encoding/);
    }
  });

  it('refuses a transfer coding other than chunked with 400 (node would pass its bytes on undecoded)', async () => {
    const send = (transferEncoding: string, body: Buffer | string) =>
      new Promise<{ status: number; json: ErrorJson }>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: { 'transfer-encoding': transferEncoding } });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }),
          );
        });
        req.on('error', reject);
        req.end(body);
      });
    const text = '{"a":1}';
    const gzipped = await send('gzip, chunked', gzipSync(text));
    expect(gzipped.status).toBe(400);
    expect(gzipped.json.error.message).toMatch(/Transfer-Encoding 'gzip'/);
    // A plain body claiming gzip is not read as if the coding were absent either.
    expect((await send('GZIP, chunked', text)).status).toBe(400);
    expect((await send('chunked', text)).json.text).toBe(text);
  });
});

describe('parseJson', () => {
  it('names the position of a syntax error and never echoes the body', () => {
    expect(() => parseJson(Buffer.from('{"a":1,}'))).toThrow(/position 7/);
    expect(() => parseJson(Buffer.from('{"a":'))).toThrow(/position 5/);
    const big = `{"a": tru${'x'.repeat(10_000)}}`;
    try {
      parseJson(Buffer.from(big));
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).message.length).toBeLessThan(200);
    }
    expect(() => parseJson(Buffer.alloc(0))).toThrow(/empty/);
    // V8's excerpt around the error, short body or long: none of the body's text.
    for (const body of [
      '{"pw": hunter2}',
      `{"a":"${'x'.repeat(100)}", "pw": hunter2 and more text after it}`,
    ]) {
      expect(() => parseJson(Buffer.from(body))).toThrow(
        /^Invalid JSON in request body: Unexpected token 'h'$/,
      );
    }
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80] /* an encoded surrogate */]) {
      const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')]);
      expect(() => parseJson(body)).toThrow(/not valid UTF-8/);
    }
    expect(parseJson(Buffer.from('{"a":"é😀"}'))).toEqual({ a: 'é😀' });
  });
});

describe('readBody of a body already received whole', () => {
  // The handler reads after the parser has the whole body (as /v1/messages does after auth's await).
  let late: http.Server;
  let lateUrl: string;
  beforeAll(async () => {
    late = http.createServer(async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const complete = req.complete;
      try {
        const body = await readBody(req, LIMIT);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ size: body.length, text: body.toString(), complete }));
      } catch (err) {
        const e = err as ApiError;
        res.writeHead(e.status, { 'content-type': 'application/json', ...e.headers });
        res.end(JSON.stringify({ ...e.toJSON(), complete }));
      }
    });
    await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve));
    lateUrl = `http://127.0.0.1:${(late.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => late.close(() => resolve())));

  it('returns every byte, in order, of a body that came in many chunks', async () => {
    const text = Array.from({ length: 6000 }, (_, i) => `${i},`).join('');
    const res = await fetch(lateUrl, { method: 'POST', body: text });
    const json = (await res.json()) as { size: number; text: string; complete: boolean };
    expect(json.complete).toBe(true);
    expect(json.text).toBe(text);
  });

  it('still refuses a chunked body beyond the limit with 413', async () => {
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode('z'.repeat(LIMIT / 2)));
        controller.close();
      },
    });
    const res = await fetch(lateUrl, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const json = (await res.json()) as ErrorJson & { complete: boolean };
    expect(json.complete).toBe(true);
    expect(res.status).toBe(413);
    expect(json.error.type).toBe('request_too_large');
  });
});

describe('a body read whole', () => {
  it('is not kept by the request while its answer goes on (a stream holds its request for minutes)', async () => {
    const gc = takeGc();
    const readAndForget = async (req: http.IncomingMessage) => new WeakRef(await readBody(req, 1 << 20));
    const keeping = http.createServer(async (req, res) => {
      const body = await readAndForget(req);
      // The request and its response stay open, as a streamed answer's do.
      setTimeout(() => {
        gc();
        res.end(JSON.stringify({ collected: body.deref() === undefined }));
      }, 20);
    });
    await new Promise<void>((resolve) => keeping.listen(0, '127.0.0.1', resolve));
    try {
      // Several chunks, apart: the body arrives through the stream's events, not all at once.
      const upload = new ReadableStream({
        async pull(controller) {
          for (let i = 0; i < 4; i++) {
            controller.enqueue(new TextEncoder().encode('z'.repeat(64 * 1024)));
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          controller.close();
        },
      });
      const res = await fetch(`http://127.0.0.1:${(keeping.address() as AddressInfo).port}`, {
        method: 'POST',
        body: upload,
        duplex: 'half',
      } as RequestInit);
      expect(await res.json()).toEqual({ collected: true });
    } finally {
      await new Promise<void>((resolve) => keeping.close(() => resolve()));
    }
  });
});
