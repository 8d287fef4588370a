/**
 * The least a gateway can do for the bench's non-stream request, as a second floor beside the bare hop
 * (information only): check the master key (SHA-256, constant-time compare), read and parse the body,
 * translate text-only Anthropic → Converse, sign with the gateway's own SigV4 signer, call through an
 * undici Pool, translate the answer back and send it. No validation beyond that, no usage record, limits,
 * metrics, logging, request ids, model catalogue, errors in Anthropic's shape or streams. Whatever a
 * real gateway costs above this is its features; the bare hop's ratio to it is the price of translating
 * and signing at all.
 *   node bench/minimal-gateway.ts --upstream http://127.0.0.1:PORT [--port 0]
 * Prints `{"url":"http://127.0.0.1:PORT"}` once listening; the key is the bench's master key.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { SigV4Signer } from '../src/upstream/sigv4.ts';
import { BENCH_MASTER_KEY, EMULATOR_CREDENTIALS } from './lib.ts';

const { values } = parseArgs({
  options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' } },
});
const origin = new URL(values.upstream!);
const pool = new Pool(origin.origin, { keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
const signer = new SigV4Signer({
  service: 'bedrock',
  credentials: EMULATOR_CREDENTIALS,
});
const region = 'us-east-1';
const master = hash('sha256', BENCH_MASTER_KEY, 'buffer');

interface TextRequest {
  model: string;
  max_tokens: number;
  system?: string;
  messages: { role: string; content: string | { text: string }[] }[];
}
interface ConverseAnswer {
  output: { message: { content: { text: string }[] } };
  usage: { inputTokens: number; outputTokens: number };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string' || !timingSafeEqual(hash('sha256', key, 'buffer'), master)) {
    res.writeHead(401).end();
    return;
  }
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TextRequest;
  const converse = JSON.stringify({
    messages: body.messages.map((m) => ({
      role: m.role,
      content:
        typeof m.content === 'string' ? [{ text: m.content }] : m.content.map((b) => ({ text: b.text })),
    })),
    ...(body.system ? { system: [{ text: body.system }] } : {}),
    inferenceConfig: { maxTokens: body.max_tokens },
  });
  const path = `/model/${encodeURIComponent(body.model)}/converse`;
  const headers = await signer.sign({
    method: 'POST',
    host: origin.host,
    path,
    headers: { 'content-type': 'application/json' },
    body: converse,
    region,
  });
  const answer = await pool.request({ method: 'POST', path, headers, body: converse });
  const out = (await answer.body.json()) as ConverseAnswer;
  const text = JSON.stringify({
    id: `msg_${randomBytes(12).toString('base64url')}`,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: out.output.message.content.map((b) => ({ type: 'text', text: b.text })),
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: out.usage.inputTokens, output_tokens: out.usage.outputTokens },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch(() => res.destroy());
});
server.keepAliveTimeout = 30_000;
server.listen({ port: Number(values.port), host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
