import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../anthropic/errors.ts';
import { SseWriter } from './sse.ts';

let server: http.Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** Serves one SSE response driven by `script`, and returns the base URL. */
async function serveWith(script: (sse: SseWriter, abort: AbortController) => Promise<void>): Promise<{
  url: string;
  aborted: Promise<boolean>;
}> {
  let resolveAborted!: (v: boolean) => void;
  const aborted = new Promise<boolean>((r) => {
    resolveAborted = r;
  });
  server = http.createServer(async (_req, res) => {
    const abort = new AbortController();
    abort.signal.addEventListener('abort', () => resolveAborted(true));
    res.on('finish', () => resolveAborted(false));
    const sse = new SseWriter(res, { pingIntervalMs: 40, abort });
    sse.open({ 'request-id': 'req_test' });
    await script(sse, abort);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, aborted };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SseWriter', () => {
  it('sends headers at once, pings during silence, and ends', async () => {
    const { url, aborted } = await serveWith(async (sse) => {
      await sse.send({ type: 'message_stop' });
      await sleep(130);
      sse.end();
    });
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('request-id')).toBe('req_test');
    const text = await res.text();
    expect(text.startsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    expect(text.match(/event: ping\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(await aborted).toBe(false);
  });

  it('keeps the HTTP/1.1 connection (Node says keep-alive itself; no header of ours, invalid on HTTP/2)', async () => {
    const { url } = await serveWith(async (sse) => {
      sse.end();
    });
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      const agent = new http.Agent({ keepAlive: true });
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            agent.destroy();
            resolve(res.headers);
          });
        })
        .on('error', reject);
    });
    expect(headers.connection).toBe('keep-alive');
    expect(headers['transfer-encoding']).toBe('chunked');
  });

  it('writes what one turn produced in one chunk, the headers and the end included', async () => {
    const { url } = await serveWith(async (sse) => {
      sse.write('event: a\ndata: {}\n\n');
      sse.write('event: b\ndata: {}\n\n');
      sse.end();
    });
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => {
        socket.end('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    // One chunk (size line, both frames) and the terminating chunk.
    expect(body).toBe('26\r\nevent: a\ndata: {}\n\nevent: b\ndata: {}\n\n\r\n0\r\n\r\n');
  });

  it('reports a failure after the headers as an error event', async () => {
    const { url } = await serveWith(async (sse) => {
      await sse.fail(new ApiError('overloaded_error', 'Bedrock is overloaded'));
    });
    const text = await (await fetch(url)).text();
    expect(text).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Bedrock is overloaded"}}\n\n',
    );
  });

  it('aborts the upstream controller when the client disconnects mid-stream', async () => {
    const { url, aborted } = await serveWith(async (sse, abort) => {
      await sse.send({ type: 'ping' });
      await new Promise((r) => abort.signal.addEventListener('abort', r));
    });
    const client = new AbortController();
    const res = await fetch(url, { signal: client.signal });
    const reader = res.body!.getReader();
    await reader.read();
    client.abort();
    expect(await aborted).toBe(true);
  });

  it('sends a batch that outgrows the buffer at once, and waits for the client to drain it', async () => {
    const frame = `event: ping\ndata: {"type":"ping","pad":"${'x'.repeat(64 * 1024)}"}\n\n`;
    const { url } = await serveWith(async (sse) => {
      for (let i = 0; i < 40; i++) await sse.sendFrame(frame);
      sse.end();
    });
    const text = await (await fetch(url)).text();
    expect(text.length).toBe(frame.length * 40);
  });
});
