/**
 * Absolute-form request targets (`GET http://host/health HTTP/1.1`, RFC 9112 §3.2.2), which a server
 * must accept: the path is the target's, and so is the host the loopback guard checks (the Host header
 * is ignored then), so the form is no way around the guard.
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { MASTER_KEY, testConfig } from '../helpers/gateway.ts';

let gateway: RunningServer;
beforeAll(async () => {
  gateway = await startServer(testConfig());
});
afterAll(async () => {
  await gateway?.close();
});

/** One raw HTTP/1.1 exchange; resolves with the status line and the body. */
function raw(request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
    // Not end(): a client's FIN may close the exchange before the answer; `Connection: close` ends it.
    socket.write(request);
  });
}

it('serves an absolute-form target by its path', async () => {
  const origin = `http://127.0.0.1:${gateway.port}`;
  const health = await raw(
    `GET ${origin}/health HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nConnection: close\r\n\r\n`,
  );
  expect(health.status).toBe(200);
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
  const counted = await raw(
    `POST ${origin}/v1/messages/count_tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${MASTER_KEY}\r\n` +
      `anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
  expect(counted.status).toBe(200);
  expect(counted.body).toContain('input_tokens');
});

it('checks the host the target names, not the Host header, on a loopback gateway', async () => {
  const refused = await raw(
    `GET http://rebind.example:${gateway.port}/health HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nConnection: close\r\n\r\n`,
  );
  expect(refused.status).toBe(403);
  expect(refused.body).toContain("Host 'rebind.example");
});
