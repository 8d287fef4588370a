/**
 * `Expect: 100-continue` (curl sends it for bodies over 1 MB): the client waits to be told before it
 * uploads. The gateway tells it only once the request has passed its checks, so a refused request costs
 * the client no upload; over HTTP/1.1 and h2c alike.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY } from '../helpers/gateway.ts';

const harness = gatewayWithEmulator();

const BODY = JSON.stringify({
  model: 'qwen.qwen3-coder-480b-a35b-v1:0',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'hello' }],
});

/**
 * Sends the head of a request and, only when the gateway answers `100 Continue`, its body. Everything
 * read until the gateway closes the connection (or `waitMs` passes with no more bytes).
 */
function exchange(head: string, body: string, waitMs = 1500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(harness.gateway.port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(false), waitMs);
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (chunk.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) socket.write(body);
      quiet();
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? done(true) : reject(err),
    );
    socket.on('end', () => done(true));
    socket.on('connect', () => {
      socket.write(head);
      quiet();
    });
  });
}

const head = (key: string, length: number) =>
  `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${key}\r\ncontent-type: application/json\r\n` +
  `anthropic-version: 2023-06-01\r\nexpect: 100-continue\r\ncontent-length: ${length}\r\n\r\n`;

describe('Expect: 100-continue over HTTP/1.1', () => {
  it('a wrong key is refused with no 100 Continue: nothing is uploaded, and the connection closes', async () => {
    const { text, closed } = await exchange(head('wrong-key', 20_000_000), '');
    expect(text).not.toContain('100 Continue');
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text).toMatch(/\r\nrequest-id: req_/);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(text).toContain('"authentication_error"');
    // Closed by the gateway: bytes the client might still send are not read as a next request.
    expect(closed).toBe(true);
    expect(harness.calls('Converse')).toHaveLength(0);
  });

  it('a declared size over the limit is a 413 before any upload', async () => {
    const { text } = await exchange(head(MASTER_KEY, 64 * 1024 * 1024), '');
    expect(text).not.toContain('100 Continue');
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('"request_too_large"');
  });

  it('a request that passes its checks is told to continue, then answered', async () => {
    const { text } = await exchange(head(MASTER_KEY, Buffer.byteLength(BODY)), BODY, 300);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(text).toContain('"type":"message"');
    expect(harness.calls('Converse')).toHaveLength(1);
  });
});

describe('Expect: 100-continue over h2c', () => {
  /** One stream: whether the gateway said continue, and the final status (the body sent only on continue). */
  async function h2Exchange(key: string): Promise<{ continued: boolean; status: number; text: string }> {
    const session = http2.connect(harness.gateway.url);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/v1/messages',
        'x-api-key': key,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        expect: '100-continue',
      });
      let continued = false;
      stream.on('continue', () => {
        continued = true;
        stream.end(BODY);
      });
      let status = 0;
      let text = '';
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      await new Promise<void>((resolve) => stream.on('close', resolve));
      return { continued, status, text };
    } finally {
      session.close();
    }
  }

  it('a wrong key is refused without a 100', async () => {
    const answer = await h2Exchange('wrong-key');
    expect(answer.continued).toBe(false);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('a good request is told to continue, then answered', async () => {
    const answer = await h2Exchange(MASTER_KEY);
    expect(answer.continued).toBe(true);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ type: 'message' });
  });
});
