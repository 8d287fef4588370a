/**
 * Requests node's HTTP parser refuses before any handler runs (headers over 16 KiB, a malformed
 * request) are answered in the caller's error shape: Bedrock's on the Bedrock-format door (AWS SDKs
 * read `x-amzn-errortype`), Anthropic's elsewhere; never node's bare status line.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientErrorResponse, requestLinePath } from '../../src/server/http/client-error.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { h2Answer } from '../helpers/h2.ts';

let emulator: Emulator;
let gateway: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  gateway = await startServer(testConfig());
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const BIG = 'x'.repeat(20_000);
const DOOR = '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke';

/** Writes `chunks` on one socket (a pause between them, so they arrive as separate packets); all it read once closed. */
function rawExchange(chunks: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? resolve(text) : reject(err),
    );
    socket.on('close', () => resolve(text));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) break;
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
  });
}

function parse(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

describe('headers over 16 KiB', () => {
  it('on the door: 431 with x-amzn-errortype, a Bedrock body and x-amzn-requestid', async () => {
    const res = await fetch(`${gateway.url}${DOOR}`, {
      method: 'POST',
      headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json', 'x-big': BIG },
      body: '{}',
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^req_/);
    expect(await res.json()).toEqual({ message: expect.stringContaining('16 KiB') });
  });

  it('on /v1/messages: 431 with an Anthropic error body and request-id', async () => {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json', 'x-big': BIG },
      body: '{}',
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('x-amzn-errortype')).toBeNull();
    const requestId = res.headers.get('request-id');
    expect(requestId).toMatch(/^req_/);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('16 KiB') },
      request_id: requestId,
    });
  });

  it('a door model id longer than 16 KiB in the request line is told in the door shape', async () => {
    const raw = await rawExchange([`POST /model/${BIG}/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`]);
    const res = parse(raw);
    expect(res.status).toBe(431);
    expect(res.headers['x-amzn-errortype']).toBe('ValidationException');
  });

  it('headers arriving in several packets are still told in the door shape', async () => {
    const raw = await rawExchange([
      `POST ${DOOR} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${MASTER_KEY}\r\n`,
      `x-big: ${BIG.slice(0, 10_000)}`,
      `${BIG.slice(10_000)}\r\n\r\n`,
    ]);
    const res = parse(raw);
    expect(res.status).toBe(431);
    expect(res.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(res.headers.connection).toBe('close');
  });
});

describe('malformed requests', () => {
  it('a bad header line is a 400 in the shape of its path', async () => {
    const door = parse(await rawExchange([`POST ${DOOR} HTTP/1.1\r\nHost: 127.0.0.1\r\nbad header\r\n\r\n`]));
    expect(door.status).toBe(400);
    expect(door.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(door.body).toEqual({ message: 'malformed HTTP request' });
    const anthropic = parse(
      await rawExchange(['POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nbad header\r\n\r\n']),
    );
    expect(anthropic.status).toBe(400);
    expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('a malformed request pipelined behind one still being answered waits for that answer', async () => {
    emulator.enqueue({ text: 'the first answer', delayMs: 300 });
    const body = JSON.stringify({
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const valid = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${MASTER_KEY}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const malformed =
      'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx';
    const text = await rawExchange([valid + malformed]);
    // The valid request's own answer comes first, then the refusal of the malformed one.
    const first = text.indexOf('HTTP/1.1 200');
    const refusal = text.indexOf('HTTP/1.1 400');
    expect(first).toBe(0);
    expect(text).toContain('the first answer');
    expect(refusal).toBeGreaterThan(text.indexOf('the first answer'));
  });

  it('the gateway still answers afterwards', async () => {
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it("leaves node's parser reading HTTP/1.1 sockets natively, every request of a kept-alive connection", async () => {
    // Watching the first packet for the refusals above must not cost every later one a trip through JS:
    // a 'data' listener added after node's own makes its parser give that up (~20 µs a request).
    const parsers: unknown[] = [];
    const watch = (req: { socket: unknown }) =>
      parsers.push((req.socket as { parser?: { _consumed?: boolean } }).parser?._consumed);
    gateway.server.on('request', watch);
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      gateway.server.off('request', watch);
    }
    expect(parsers).toEqual([true, true, true]);
  });
});

/** One HTTP/2 request on its own session: status, headers and body text. */
async function h2Exchange(headers: http2.OutgoingHttpHeaders, body?: string) {
  const session = http2.connect(gateway.url);
  try {
    const stream = session.request(headers);
    const answer = h2Answer(stream);
    stream.end(body);
    const { status, headers: got, text } = await answer;
    return { status, headers: got, body: text ? JSON.parse(text) : '' };
  } finally {
    session.close();
  }
}

describe('requests node answers by itself', () => {
  it('an Expect other than 100-continue is a 417 in the shape of its path, and the connection goes on', async () => {
    const raw = await rawExchange([
      `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${MASTER_KEY}\r\nexpect: 200-ok\r\ncontent-length: 2\r\n\r\n{}`,
      'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n',
    ]);
    const [first = '', second = ''] = raw.split(/(?=HTTP\/1\.1 )/);
    const anthropic = parse(first);
    expect(anthropic.status).toBe(417);
    expect(anthropic.headers['request-id']).toMatch(/^req_/);
    expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(second).toMatch(/^HTTP\/1\.1 200/);

    const door = parse(
      await rawExchange([
        `POST ${DOOR} HTTP/1.1\r\nHost: 127.0.0.1\r\nexpect: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}`,
      ]),
    );
    expect(door.status).toBe(417);
    expect(door.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(door.headers['x-amzn-requestid']).toMatch(/^req_/);
  });

  it('CONNECT is a 405 with a request id, not a socket closed unanswered', async () => {
    const res = parse(
      await rawExchange(['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']),
    );
    expect(res.status).toBe(405);
    expect(res.headers['request-id']).toMatch(/^req_/);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('over HTTP/2 too: the same 417 and 405 with a request id and a body', async () => {
    const expectation = await h2Exchange(
      {
        ':method': 'POST',
        ':path': '/v1/messages',
        expect: '200-ok',
        'x-api-key': MASTER_KEY,
        'content-type': 'application/json',
      },
      '{}',
    );
    expect(expectation.status).toBe(417);
    expect(expectation.headers['request-id']).toMatch(/^req_/);
    expect(expectation.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const connect = await h2Exchange({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    expect(connect.status).toBe(405);
    expect(connect.headers['request-id']).toMatch(/^req_/);
  });
});

describe('clientErrorResponse', () => {
  it('reads the path of a request line, nothing from a packet that is not one', () => {
    expect(requestLinePath(Buffer.from(`POST ${DOOR} HTTP/1.1\r\n`))).toBe(DOOR);
    expect(requestLinePath(Buffer.from('GET /v1/models?x=1 HTTP/1.1'))).toBe('/v1/models');
    expect(requestLinePath(Buffer.from('xxxxxxxx\r\n'))).toBeUndefined();
    expect(requestLinePath(undefined)).toBeUndefined();
  });

  it('answers a headers timeout as 408 in either shape', () => {
    expect(clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT', true, 'req_1')).toMatch(
      /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*x-amzn-errortype: ModelTimeoutException/,
    );
    expect(clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT', false, 'req_1')).toMatch(/"type":"timeout_error"/);
  });
});
