/**
 * A search provider (or whatever answers at its URL) that sends an answer without end: the gateway
 * stops reading at its limit and says so, instead of buffering until the deadline or memory runs out.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callProvider, MAX_PROVIDER_ANSWER_BYTES } from '../../src/tools/web/providers/http.ts';
import { WebToolError } from '../../src/tools/web/types.ts';

let server: Server;
let url = '';
let sent = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const piece = Buffer.alloc(64 * 1024, 0x20);
    res.write('[');
    const more = () => {
      // Writes until the client goes away (or far past the limit).
      while (!res.destroyed && sent < 4 * MAX_PROVIDER_ANSWER_BYTES) {
        sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end(']');
    };
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/search`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('an answer past the limit is refused as unavailable, naming the limit, and the reading stops', {
  timeout: 60_000,
}, async () => {
  const error = await callProvider('hostile', { method: 'GET', url, headers: {}, timeoutMs: 30_000 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WebToolError);
  expect((error as WebToolError).code).toBe('unavailable');
  expect((error as Error).message).toMatch(/answered more than 16 MiB/);
  expect(sent).toBeLessThan(4 * MAX_PROVIDER_ANSWER_BYTES);
});
