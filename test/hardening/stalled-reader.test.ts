/**
 * A client that stops reading its stream is cut after ABPROXY_CLIENT_STALL_TIMEOUT_MS: its Bedrock call
 * is cancelled and its upstream connection freed. Before, a paused stream held both for as long as the
 * client liked (a red team held 20 of a pool of 20 for ~290 s with one HTTP/2 connection at window 0,
 * and every other caller waited), since backpressure stops the gateway reading from Bedrock too.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY, postMessages } from '../helpers/gateway.ts';
import { requestsWithStatus, until } from '../helpers/wait.ts';

// One upstream connection: a stalled stream that kept it would leave every other call waiting.
const running = gatewayWithEmulator({ clientStallTimeoutMs: 400, upstreamMaxConnections: 1 });

/**
 * A long answer: 150,000 events, far more than the sockets' buffers hold on the way (its usage is given,
 * so the emulator does not cut it at max_tokens).
 */
const longTurn = { text: 'z'.repeat(3_000_000), chunkSize: 20, usage: { inputTokens: 5, outputTokens: 10 } };
/** Another caller, on the same upstream pool: answered only if the stalled stream gave its connection up. */
async function innocentCall(): Promise<number> {
  running.emulator.enqueue({ text: 'fine' });
  const res = await postMessages(
    running.gateway.url,
    JSON.stringify({
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  );
  await res.text();
  return res.status;
}
const streamBody = JSON.stringify({
  model: 'qwen.qwen3-coder-480b-a35b-v1:0',
  max_tokens: 64_000,
  stream: true,
  messages: [{ role: 'user', content: 'write a lot' }],
});

it('HTTP/2 at window 0: the stream is cut, recorded as the client leaving, and its upstream connection serves the next caller', async () => {
  running.emulator.reset();
  running.emulator.enqueue(longTurn);
  const before = await requestsWithStatus(running.gateway.url, 499);
  const session = http2.connect(running.gateway.url, { settings: { initialWindowSize: 0 } });
  try {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/v1/messages',
      'x-api-key': MASTER_KEY,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    });
    stream.on('error', () => {});
    stream.end(streamBody);
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    const closed = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    const converse = () => running.emulator.requests.find((r) => r.operation === 'ConverseStream');
    expect(await until(() => converse() !== undefined, 5_000)).toBe(true);
    // The session stays alive (it could ping for ever); the gateway resets the one stream, unfinished.
    await closed;
    expect(received).toBe(0);
    expect(
      await until(async () => (await requestsWithStatus(running.gateway.url, 499)) === before + 1, 3_000),
    ).toBe(true);
    expect(session.destroyed).toBe(false);
    expect(await innocentCall()).toBe(200);
  } finally {
    session.destroy();
  }
}, 30_000);

it('HTTP/1.1, the Bedrock-format door: a client that never reads is cut the same way', async () => {
  running.emulator.reset();
  running.emulator.enqueue(longTurn);
  const body = JSON.stringify({
    messages: [{ role: 'user', content: [{ text: 'write a lot' }] }],
    inferenceConfig: { maxTokens: 64_000 },
  });
  const before = await requestsWithStatus(running.gateway.url, 499);
  const { port } = new URL(running.gateway.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  // Never read: the kernel's buffers fill, then the gateway's.
  socket.pause();
  socket.on('error', () => {});
  socket.write(
    `POST /model/${encodeURIComponent('qwen.qwen3-coder-480b-a35b-v1:0')}/converse-stream HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${MASTER_KEY}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  const converse = () => running.emulator.requests.find((r) => r.operation === 'ConverseStream');
  expect(await until(() => converse() !== undefined, 5_000)).toBe(true);
  // Cut once the buffers between are full and the client has taken nothing for the stall time.
  expect(
    await until(async () => (await requestsWithStatus(running.gateway.url, 499)) === before + 1, 10_000),
  ).toBe(true);
  expect(await innocentCall()).toBe(200);
  socket.destroy();
}, 30_000);
