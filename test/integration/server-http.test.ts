/** The HTTP surface of the gateway: ids, auth, host guard, bodies, routing, errors. */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { startServer } from '../../src/server/http/server.ts';
import {
  type Emulator,
  MASTER_KEY,
  startBedrockEmulator,
  startGateway,
  testConfig,
} from '../helpers/gateway.ts';
import { h2Answer } from '../helpers/h2.ts';

let emulator: Emulator;
let gateway: RunningServer;
let url: string;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  ({ server: gateway, url } = await startGateway({ maxBodyBytes: 64 * 1024 }));
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: JsonBody;
}

/** Error bodies, and whatever else a route answers. */
type JsonBody = { type?: string; error: { type: string; message: string }; request_id?: string } & Record<
  string,
  unknown
>;

/** node:http rather than fetch, so Host and Content-Encoding can be anything. */
function raw(
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: string | Buffer } = {},
  base = url,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = {} as JsonBody;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode!, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const authed = { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' };
const minimal = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

describe('health and request ids', () => {
  it('answers /health without a key, with a request id', async () => {
    const res = await raw('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
    expect(res.headers['request-id']).toMatch(/^req_\w{20,}$/);
    expect(res.headers['x-request-id']).toBe(res.headers['request-id']);
  });

  it('puts request-id on errors too, in the header and in the body', async () => {
    const res = await raw('GET', '/v1/nope', { headers: authed });
    expect(res.status).toBe(404);
    expect(res.json.type).toBe('error');
    expect(res.json.error.type).toBe('not_found_error');
    expect(res.json.request_id).toBe(res.headers['request-id']);
    const other = await raw('GET', '/health');
    expect(other.headers['request-id']).not.toBe(res.headers['request-id']);
  });

  it('answers 405 with Allow for a known path and the wrong method', async () => {
    const res = await raw('GET', '/v1/messages', { headers: authed });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json.error.type).toBe('invalid_request_error');
  });
});

describe('auth', () => {
  it('refuses a missing or wrong key with 401 authentication_error', async () => {
    const missing = await raw('POST', '/v1/messages', { body: JSON.stringify(minimal) });
    expect(missing.status).toBe(401);
    expect(missing.json.error).toEqual({ type: 'authentication_error', message: 'invalid x-api-key' });
    const wrong = await raw('POST', '/v1/messages', {
      headers: { 'x-api-key': 'nope' },
      body: JSON.stringify(minimal),
    });
    expect(wrong.status).toBe(401);
  });

  it('accepts the key as x-api-key or Authorization: Bearer (the SDK sends Bearer)', async () => {
    const viaHeader = await raw('GET', '/v1/models', { headers: { 'x-api-key': MASTER_KEY } });
    expect(viaHeader.status).toBe(200);
    const viaBearer = await raw('GET', '/v1/models', { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    expect(viaBearer.status).toBe(200);
    const sdk = new Anthropic({ baseURL: url, apiKey: 'wrong', maxRetries: 0 });
    await expect(sdk.models.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('takes a /v1/models limit in decimal digits only', async () => {
    const withLimit = (limit: string) =>
      raw('GET', `/v1/models?limit=${limit}`, { headers: { 'x-api-key': MASTER_KEY } });
    expect((await withLimit('2')).json).toMatchObject({ data: [{}, {}], has_more: true });
    for (const limit of ['0x10', '1e2', '%205', '', '2.0', '0', '1001']) {
      const res = await withLimit(limit);
      expect(res.status, limit).toBe(400);
      expect(res.json.error?.message).toBe('limit: Input should be an integer between 1 and 1000');
    }
  });

  it('accepts the key in the configured API_KEY_HEADER', async () => {
    const server = await startServer(testConfig({ apiKeyHeader: 'x-gateway-key' }));
    try {
      const res = await raw('GET', '/v1/models', { headers: { 'x-gateway-key': MASTER_KEY } }, server.url);
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('runs without a key only on loopback, and refuses to start open on a public bind', async () => {
    const open = await startServer(testConfig({ masterApiKey: undefined }));
    try {
      expect((await raw('GET', '/v1/models', {}, open.url)).status).toBe(200);
    } finally {
      await open.close();
    }
    await expect(startServer(testConfig({ masterApiKey: undefined, host: '0.0.0.0' }))).rejects.toThrow(
      /MASTER_API_KEY/,
    );
  });
});

describe('DNS-rebinding guard', () => {
  it('refuses a non-loopback Host on a loopback bind', async () => {
    const res = await raw('GET', '/health', { headers: { host: 'evil.example.com:8080' } });
    expect(res.status).toBe(403);
    expect(res.json.error.type).toBe('permission_error');
    expect(res.headers['request-id']).toBeDefined();
  });

  it('accepts loopback names with ports', async () => {
    for (const host of ['localhost:1234', '127.0.0.1', '[::1]:80']) {
      expect((await raw('GET', '/health', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('refuses a loopback name followed by anything but a port', async () => {
    for (const host of ['localhost:80@evil.example', '[::1]evil.example', '127.0.0.1:x']) {
      expect((await raw('GET', '/health', { headers: { host } })).status, host).toBe(403);
    }
  });

  it("answers an HTTP/1.1 request without Host, or with two, with 400 in the caller's shape, not a bare 400", async () => {
    const exchange = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(request));
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\r\n\r\n') && /\}$/.test(text)) socket.end();
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
    const api = await exchange('GET /v1/models HTTP/1.1\r\nx-api-key: k\r\n\r\n');
    expect(api).toMatch(/^HTTP\/1\.1 400 /);
    expect(api).toMatch(/request-id: req_/);
    expect(api).toContain('"type":"invalid_request_error"');
    expect(api).toContain('Host header');
    const door = await exchange(
      'POST /model/x/converse HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
    );
    expect(door).toMatch(/^HTTP\/1\.1 400 /);
    expect(door).toMatch(/x-amzn-errortype: ValidationException/i);
    // HTTP/1.0 may leave it out.
    expect(await exchange('GET /health HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    // Two are refused too (node would keep the first and drop the second), whichever is the loopback one.
    for (const hosts of ['Host: 127.0.0.1\r\nHost: evil.example', 'host: evil.example\r\nHOST: 127.0.0.1']) {
      const twice = await exchange(`GET /health HTTP/1.1\r\n${hosts}\r\n\r\n`);
      expect(twice, hosts).toMatch(/^HTTP\/1\.1 400 /);
      expect(twice).toContain('exactly one Host header');
      expect(twice).toMatch(/request-id: req_/);
    }
  });

  it("checks HTTP/2's :authority as it checks Host", async () => {
    const session = http2.connect(url);
    try {
      const ask = (authority: string) =>
        h2Answer(session.request({ ':method': 'GET', ':path': '/metrics', ':authority': authority }));
      const refused = await ask('evil.example.com');
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.text)).toMatchObject({ error: { type: 'permission_error' } });
      expect((await ask(new URL(url).host)).status).toBe(200);
    } finally {
      session.close();
    }
  });
});

describe('paths', () => {
  it('serves /health/ without a key as /health (the router reads both the same)', async () => {
    expect((await raw('GET', '/health/', {})).status).toBe(200);
  });

  it('does not echo a 10 KB path back whole in a 404', async () => {
    const res = await raw('GET', `/${'a'.repeat(10_000)}`, { headers: authed });
    expect(res.status).toBe(404);
    expect(res.json.error.message.length).toBeLessThan(300);
  });
});

describe('request bodies', () => {
  it('refuses bodies over the limit with 413 naming the limit', async () => {
    const body = JSON.stringify({ ...minimal, messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    const res = await raw('POST', '/v1/messages', { headers: authed, body });
    expect(res.status).toBe(413);
    expect(res.json.error.type).toBe('request_too_large');
    expect(res.json.error.message).toContain(String(64 * 1024));
  });

  it('inflates gzip bodies (Claude Code can gzip its requests)', async () => {
    const body = gzipSync(JSON.stringify({ ...minimal, max_tokens: 'lots' }));
    const res = await raw('POST', '/v1/messages', {
      headers: { ...authed, 'content-encoding': 'gzip' },
      body,
    });
    // Reaching validation proves the body was inflated and parsed.
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/max_tokens/);
  });

  it('refuses an unknown Content-Encoding with 415', async () => {
    const res = await raw('POST', '/v1/messages', {
      headers: { ...authed, 'content-encoding': 'compress' },
      body: JSON.stringify(minimal),
    });
    expect(res.status).toBe(415);
    expect(res.json.error.message).toMatch(/compress/);
  });

  it('answers invalid JSON with 400 and the position', async () => {
    const res = await raw('POST', '/v1/messages', {
      headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' },
      body: '{"model": "x",}',
    });
    expect(res.status).toBe(400);
    expect(res.json.error.type).toBe('invalid_request_error');
    expect(res.json.error.message).toMatch(/position 14/);
  });
});
