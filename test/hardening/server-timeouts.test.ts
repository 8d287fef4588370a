/**
 * Slow clients cannot hold the gateway's sockets (issue 11, item 6): raw sockets that send their
 * headers or body too slowly, or sit idle, are closed; a long answer or stream is never cut.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { H2C_MAX_CONCURRENT_STREAMS, H2C_MAX_HEADER_BYTES } from '../../src/server/http/h2c.ts';
import { gatewayWithEmulator, MASTER_KEY, postMessages } from '../helpers/gateway.ts';
import { type H2Answer, h2Answer } from '../helpers/h2.ts';

const running = gatewayWithEmulator({
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 300,
  socketIdleTimeoutMs: 2_000,
});

/** Opens a socket, writes `chunks` (strings or pauses in ms), resolves with all it read once closed. */
function rawExchange(chunks: Array<string | number>): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(running.gateway.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, ms: performance.now() - started }));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (typeof chunk === 'number') await new Promise((r) => setTimeout(r, chunk));
        else if (!socket.destroyed) socket.write(chunk);
      }
    });
  });
}

describe('server timeouts', () => {
  it('closes a connection whose headers never finish, with 408', async () => {
    const { text } = await rawExchange(['POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-a: 1\r\n']);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection that never sends a byte, with 408 after the headers timeout (not the idle one)', async () => {
    const { text, ms } = await rawExchange([]);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toMatch(/request-id: req_/);
    // The socket idle timeout of this gateway is 2 s; the headers timeout 300 ms.
    expect(ms).toBeLessThan(1_900);
  });

  it('closes a connection whose body never finishes', async () => {
    const head = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${MASTER_KEY}\r\ncontent-type: application/json\r\n`;
    const { text } = await rawExchange([`${head}content-length: 1000\r\n\r\n{"model":`, 100, '"x"']);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection', async () => {
    const { text } = await rawExchange(['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n']);
    expect(text).toMatch(/^HTTP\/1\.1 200/);
  });

  it('never cuts an answer or a stream that outlasts the request timeout', async () => {
    running.emulator.enqueue({ text: 'slow answer', delayMs: 1_500 });
    const slow = await postMessages(
      running.gateway.url,
      JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(slow.status).toBe(200);
    expect(await slow.text()).toContain('slow answer');

    running.emulator.enqueue({ text: 'a stream of many small pieces', chunkSize: 2, chunkDelayMs: 100 });
    const stream = await postMessages(
      running.gateway.url,
      JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(stream.status).toBe(200);
    const events = await stream.text();
    expect(events).toContain('event: message_stop');
  });
});

/** One HTTP/2 (h2c) request that sends `body` and leaves its side open: status, headers, body, reset code. */
async function h2Unfinished(path: string, body: string): Promise<H2Answer> {
  const session = http2.connect(running.gateway.url);
  // A session failure closes the stream too, which ends the wait below.
  session.on('error', () => {});
  try {
    const stream = session.request(
      {
        ':method': 'POST',
        ':path': path,
        'x-api-key': MASTER_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      { endStream: false },
    );
    const answer = h2Answer(stream, true);
    stream.write(body);
    return await answer;
  } finally {
    session.close();
  }
}

describe('server timeouts over HTTP/2 (h2c)', () => {
  it('answers a stream whose body never finishes with 408 and resets it', async () => {
    const started = performance.now();
    const answer = await h2Unfinished('/v1/messages', '{"model":');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(answer.status).toBe(408);
    expect(answer.headers['request-id']).toMatch(/^req_/);
    expect(JSON.parse(answer.text)).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
    expect(answer.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  it("answers the Bedrock-format door's unfinished body in Bedrock's shape", async () => {
    const answer = await h2Unfinished('/model/anthropic.claude-sonnet-4-5-20250929-v1:0/invoke', '{"a"');
    expect(answer.status).toBe(408);
    expect(answer.headers['x-amzn-errortype']).toBeDefined();
    expect(answer.headers['x-amzn-requestid']).toMatch(/^req_/);
    expect(JSON.parse(answer.text)).toHaveProperty('message');
  });

  it('never cuts an answer that outlasts the request timeout', async () => {
    running.emulator.enqueue({ text: 'slow h2 answer', delayMs: 1_500 });
    const session = http2.connect(running.gateway.url);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/v1/messages',
        'x-api-key': MASTER_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      });
      stream.end(
        JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 20,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      );
      const { status, text } = await h2Answer(stream);
      expect(status).toBe(200);
      expect(text).toContain('slow h2 answer');
    } finally {
      session.close();
    }
  });

  /** ms until the gateway ends an h2c session that `use` leaves without a stream open. */
  async function sessionLifetime(use: (session: http2.ClientHttp2Session) => Promise<void>): Promise<number> {
    const session = http2.connect(running.gateway.url);
    session.on('error', () => {});
    const closed = new Promise<number>((resolve) => {
      const started = performance.now();
      session.once('goaway', () => resolve(performance.now() - started));
      session.once('close', () => resolve(performance.now() - started));
    });
    try {
      await use(session);
      return await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 5_000))]);
    } finally {
      session.destroy();
    }
  }

  it('closes a session that never sends a request after the headers timeout, not the socket idle one', async () => {
    // Preface and SETTINGS, then silence (or only PINGs): as an HTTP/1.1 connection whose headers never come.
    const ms = await sessionLifetime(async (session) => {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      session.ping(() => {});
    });
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1_500); // the socket idle timeout is 2 s here
  });

  it('closes a session whose streams are all done after the keep-alive timeout', async () => {
    let answered = 0;
    const ms = await sessionLifetime(async (session) => {
      answered = (await h2Answer(session.request({ ':path': '/health' }))).status;
    });
    expect(answered).toBe(200);
    expect(ms).toBeLessThan(1_500);
  });

  it('bounds the streams one connection may hold open, and a client opening more is served in turn', async () => {
    const connect = async () => {
      const opened = http2.connect(running.gateway.url);
      await new Promise<void>((resolve) => opened.once('remoteSettings', () => resolve()));
      return opened;
    };
    let session = await connect();
    const sessions = [session];
    try {
      expect(session.remoteSettings.maxConcurrentStreams).toBe(H2C_MAX_CONCURRENT_STREAMS);
      // More streams than that at once: the client holds the rest back until streams end; none is lost.
      // Under heavy load a stream opened as another closes may still be refused (REFUSED_STREAM: not
      // processed, safe to retry, RFC 9113 §8.7; after many, node's server ends the session with a
      // GOAWAY), and clients retry it, on a new connection when need be: so does this one.
      const ask = async (attempt = 0): Promise<number> => {
        try {
          return (await h2Answer(session.request({ ':path': '/health' }))).status;
        } catch (err) {
          if (attempt >= 3 || !/REFUSED_STREAM|GOAWAY/.test(String(err))) throw err;
          if (session.closed || session.destroyed || /GOAWAY/.test(String(err))) {
            if (sessions.at(-1) === session) {
              session = await connect();
              sessions.push(session);
            }
          }
          return ask(attempt + 1);
        }
      };
      const statuses = await Promise.all(
        Array.from({ length: H2C_MAX_CONCURRENT_STREAMS + 200 }, () => ask()),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      for (const opened of sessions) opened.close();
    }
  });

  it("answers headers beyond 16 KiB with 431, as over HTTP/1.1, in the caller's shape", async () => {
    const told = http2.connect(running.gateway.url);
    await new Promise<void>((resolve) => told.once('remoteSettings', () => resolve()));
    expect(told.remoteSettings.maxHeaderListSize).toBe(H2C_MAX_HEADER_BYTES);
    told.close();
    // A client that sends before it has read the gateway's SETTINGS (node's, nghttp2's first flight).
    const session = http2.connect(running.gateway.url);
    try {
      const big = { 'x-padding': 'a'.repeat(H2C_MAX_HEADER_BYTES) };
      const door = '/model/anthropic.claude-sonnet-4-5-20250929-v1:0/invoke';
      const [messages, bedrock] = await Promise.all([
        h2Answer(session.request({ ':method': 'POST', ':path': '/v1/messages', ...big }), true),
        h2Answer(session.request({ ':method': 'POST', ':path': door, ...big }), true),
      ]);
      expect(messages.status).toBe(431);
      expect(JSON.parse(messages.text)).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      });
      expect(messages.headers['request-id']).toMatch(/^req_/);
      expect(bedrock.status).toBe(431);
      expect(bedrock.headers['x-amzn-errortype']).toBeDefined();
      // Well under the limit is served as before.
      const fine = await h2Answer(session.request({ ':path': '/health', 'x-padding': 'a'.repeat(8 * 1024) }));
      expect(fine.status).toBe(200);
    } finally {
      session.close();
    }
  });
});
