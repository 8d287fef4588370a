/**
 * An HTTP/2 (h2c) client that leaves is seen as gone, as over HTTP/1.1: a stream it resets cancels the
 * Bedrock call (not billed to the end, recorded as 499), and a connection it closes with its FIN
 * releases every request on it at once — before, such requests stayed "in flight" for good and every
 * later shutdown waited its whole drain timeout.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { requestsWithStatus, sleep, until } from '../helpers/wait.ts';

let emulator: Emulator;
let gateway: RunningServer | undefined;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const body = JSON.stringify({
  model: 'qwen.qwen3-coder-480b-a35b-v1:0',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'hi' }],
});
const requestHeaders = (length = body.length) => ({
  ':method': 'POST',
  ':path': '/v1/messages',
  'x-api-key': MASTER_KEY,
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'content-length': String(length),
});

it('a stream the client resets cancels its Bedrock call, recorded as 499', async () => {
  gateway = await startServer(testConfig());
  const { url } = gateway;
  emulator.reset();
  emulator.enqueue({ text: 'late', delayMs: 3_000 });
  const session = http2.connect(url);
  try {
    const stream = session.request(requestHeaders());
    stream.on('error', () => {});
    stream.end(body);
    const converse = () => emulator.requests.find((r) => r.operation === 'Converse');
    expect(await until(() => converse() !== undefined, 3_000)).toBe(true);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    // The Bedrock call is cut at once, not answered 3 s later.
    expect(await until(() => converse()?.aborted === true, 1_500)).toBe(true);
    expect(await until(async () => (await requestsWithStatus(url, 499)) === 1, 1_500)).toBe(true);
    expect(await requestsWithStatus(url, 200)).toBe(0);
  } finally {
    session.destroy();
    await gateway.close();
    gateway = undefined;
  }
}, 20_000);

it('a stream of events the client resets stops at once: the Bedrock stream is cut, no stream stays active', async () => {
  gateway = await startServer(testConfig());
  const { url } = gateway;
  emulator.reset();
  emulator.enqueue({ text: 'slow '.repeat(100), chunkSize: 5, chunkDelayMs: 50 });
  const session = http2.connect(url);
  try {
    const streaming = JSON.stringify({ ...JSON.parse(body), stream: true });
    const stream = session.request(requestHeaders(streaming.length));
    stream.on('error', () => {});
    stream.end(streaming);
    await new Promise((resolve) => stream.once('data', resolve));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const converse = () => emulator.requests.find((r) => r.operation === 'ConverseStream');
    expect(await until(() => converse()?.aborted === true, 1_000)).toBe(true);
    const active = async () =>
      (await fetch(`${url}/metrics`).then((r) => r.text())).match(/^abproxy_active_streams (\d+)/m)?.[1];
    expect(await until(async () => (await active()) === '0', 1_000)).toBe(true);
    expect(await until(async () => (await requestsWithStatus(url, 499)) === 1, 1_000)).toBe(true);
  } finally {
    session.destroy();
    await gateway.close();
    gateway = undefined;
  }
}, 20_000);

it('a connection the client closes with its FIN releases its unfinished requests at once', async () => {
  // Long timeouts: only the client's leaving can end these requests in time.
  gateway = await startServer(testConfig({ requestTimeoutMs: 60_000, shutdownTimeoutMs: 30_000 }));
  const socket = net.connect(gateway.port, '127.0.0.1');
  const session = http2.connect(gateway.url, { createConnection: () => socket });
  session.on('error', () => {});
  const STREAMS = 50;
  for (let i = 0; i < STREAMS; i++) {
    const stream = session.request(requestHeaders());
    stream.on('error', () => {});
    stream.write(body.slice(0, 10)); // the rest never comes
  }
  await sleep(300);
  const closed = new Promise<number>((resolve) => {
    const at = performance.now();
    socket.once('close', () => resolve(performance.now() - at));
  });
  socket.end(); // FIN: the client is done with this connection
  // The gateway closes its side too, rather than hold the half-open socket until a timeout.
  expect(await Promise.race([closed, sleep(2_000).then(() => Number.POSITIVE_INFINITY)])).toBeLessThan(2_000);
  // Nothing is left in flight: the drain does not wait out its 30 s.
  const started = performance.now();
  await gateway.close();
  gateway = undefined;
  expect(performance.now() - started).toBeLessThan(3_000);
}, 20_000);

it('streams reset before their body (HEADERS, then RST_STREAM) are recorded as 499, not as empty bodies (400)', async () => {
  gateway = await startServer(testConfig());
  const { url } = gateway;
  const session = http2.connect(url);
  try {
    const STREAMS = 20;
    for (let i = 0; i < STREAMS; i++) {
      const stream = session.request(requestHeaders()); // no END_STREAM: the body is to follow
      stream.on('error', () => {});
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    expect(await until(async () => (await requestsWithStatus(url, 499)) === STREAMS, 3_000)).toBe(true);
    expect(await requestsWithStatus(url, 400)).toBe(0);
  } finally {
    session.destroy();
    await gateway.close();
    gateway = undefined;
  }
}, 20_000);
