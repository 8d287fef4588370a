/**
 * The "bare hop", the floor for any gateway: a do-nothing node:http server that forwards each request
 * to the upstream through an undici Pool (keep-alive, no connection cap) and sends the answer back as
 * it arrives, chunk by chunk, with no parsing, signing or translation.
 *   node bench/forwarder.ts --upstream http://127.0.0.1:PORT [--port 0] [--mode lean|piped]
 * `lean` (the default, the bench's baseline) reads the request body whole (a gateway must, to parse it)
 * and writes each answer chunk as it comes. `piped` streams both ways through node streams
 * (`body: req`, `pipeline(answer.body, res)`): about twice the CPU per request of `lean` (measured side
 * by side), so a baseline made of it flatters whatever is compared with it; the bench prints it as
 * information only.
 * Prints `{"url":"http://127.0.0.1:PORT"}` once listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'lean' },
  },
});
const pool = new Pool(new URL(values.upstream!).origin, {
  keepAliveTimeout: 30_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});
/** Hop-by-hop headers: each side of the hop has its own connection. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade']);

function endToEnd(headers: Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) if (!HOP.has(name) && headers[name] !== undefined) out[name] = headers[name];
  return out;
}

async function forwardPiped(req: http.IncomingMessage, res: http.ServerResponse) {
  const answer = await pool.request({
    method: req.method as 'POST',
    path: req.url ?? '/',
    headers: endToEnd(req.headers),
    body: req,
  });
  res.writeHead(answer.statusCode, endToEnd(answer.headers));
  await pipeline(answer.body, res);
}

async function forwardLean(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const answer = await pool.request({
    method: req.method as 'POST',
    path: req.url ?? '/',
    headers: endToEnd(req.headers),
    body: Buffer.concat(chunks),
  });
  res.writeHead(answer.statusCode, endToEnd(answer.headers));
  for await (const chunk of answer.body) res.write(chunk);
  res.end();
}

const forward = values.mode === 'piped' ? forwardPiped : forwardLean;
const server = http.createServer(async (req, res) => {
  try {
    await forward(req, res);
  } catch {
    res.destroy();
  }
});
server.keepAliveTimeout = 30_000;
// The gateway's listen backlog (src/server/http/server.ts): a burst of thousands of connections is queued.
server.listen({ port: Number(values.port), host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
