/**
 * A real Bedrock endpoint closes keep-alive connections that idled (its load balancer's timeout, which
 * the gateway cannot know): a call written on a pooled connection just as the server closes it gets no
 * answer at all. The emulator never closes an idle connection, so nothing else here meets that race.
 * The call never reached Bedrock, so the gateway must send it again on a new connection, not fail it.
 * The endpoint here is a front that drops each kept-alive connection when a second call arrives on it,
 * without answering, and passes every other call on to the emulator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulator/server.ts';
import { type Emulator, hiBody, postMessages, serveOnEmulator } from '../helpers/gateway.ts';
import { relay } from '../helpers/relay.ts';

describe('a Bedrock endpoint that closes a kept-alive connection as a call is written on it', () => {
  let emulator: Emulator;
  let front: http.Server;
  let frontUrl: string;
  let dropped = 0;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    const served = new WeakMap<object, number>();
    front = http.createServer((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count > 1) {
        dropped++;
        req.socket.destroy();
        return;
      }
      relay(emulator.url, req, res);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    front?.closeAllConnections();
    await new Promise<void>((resolve) => front?.close(() => resolve()));
    await emulator?.close();
  });

  // HTTP/1.1 only: over HTTP/2 one session carries every call, and a server going away says so (GOAWAY).
  it('the HTTP/1.1 transport sends the dropped call again: every call answers', async () => {
    const { serve, url } = await serveOnEmulator(
      { url: emulator.url },
      { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: frontUrl, ABPROXY_UPSTREAM_HTTP: '1.1' },
    );
    try {
      dropped = 0;
      for (const [model, stream] of [
        ['qwen.qwen3-coder-480b-a35b-v1:0', false],
        ['qwen.qwen3-coder-480b-a35b-v1:0', true],
        ['claude-sonnet-4-5', false],
        ['claude-sonnet-4-5', true],
      ] as const) {
        const res = await postMessages(url, hiBody(model, stream));
        const text = await res.text();
        expect(res.status, `${model} stream=${stream}: ${text}`).toBe(200);
      }
      // The race happened: each call after the first met a kept-alive connection.
      expect(dropped).toBeGreaterThan(0);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
