/**
 * A Bedrock stream whose bytes are not a well-formed event stream — a proxy's HTML page answering with
 * 200, a frame cut in half then a clean close, garbage after a valid frame, a corrupt checksum, an event
 * whose payload is not JSON — is the upstream's fault, and the official Anthropic SDK is told so in its
 * own terms: a 502 api_error it retries when nothing was streamed yet, else an SSE `error` event after the
 * text it had; never the gateway's "Internal server error". On both upstream transports (undici over
 * HTTP/1.1, the AWS SDK over HTTP/2), on the Converse and Claude InvokeModel paths; the runtime
 * endpoint is a small server, the catalogue comes from the emulator.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { eventFrame } from '../emulator/eventstream.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5';
const EVENT_STREAM = { 'content-type': 'application/vnd.amazon.eventstream' };

type Fault = 'html' | 'torn' | 'garbage' | 'checksum' | 'not-json';
let fault: Fault = 'html';

const chunk = (event: unknown) =>
  eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });

/** The first events of an answer (message start, a text block with "Hello "), then one more delta. */
function frames(invoke: boolean): { head: Uint8Array[]; next: Uint8Array } {
  if (invoke) {
    const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'x', content: [] };
    return {
      head: [
        chunk({
          type: 'message_start',
          message: { ...message, usage: { input_tokens: 3, output_tokens: 1 } },
        }),
        chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello ' } }),
      ],
      next: chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'more' } }),
    };
  }
  return {
    head: [
      eventFrame('messageStart', { role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello ' } }),
    ],
    next: eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'more' } }),
  };
}

function answer(url: string, res: http.ServerResponse): void {
  if (fault === 'html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<html><body>Sign in to continue</body></html>');
    return;
  }
  const { head, next } = frames(url.endsWith('/invoke-with-response-stream'));
  res.writeHead(200, EVENT_STREAM);
  for (const frame of head) res.write(frame);
  if (fault === 'torn') res.end(next.subarray(0, Math.floor(next.length / 2)));
  else if (fault === 'garbage')
    res.end(Buffer.from('\0\0\0\x40<html>not a frame at all, but bytes that claim 64</html>'));
  else if (fault === 'checksum') {
    const bad = Buffer.from(next);
    bad[bad.length - 1]! ^= 0xff;
    res.end(bad);
  } else {
    // A well-framed event whose payload is not JSON.
    const type = url.endsWith('/invoke-with-response-stream') ? 'chunk' : 'contentBlockDelta';
    const frame = Buffer.from(eventFrame(type, {}));
    res.end(rewritePayload(frame, '{oops'));
  }
}

/** `frame` (whose payload is `{}`) with the payload replaced by `payload`, CRCs recomputed. */
function rewritePayload(frame: Buffer, payload: string): Buffer {
  const headersLength = frame.readUInt32BE(4);
  const headers = frame.subarray(12, 12 + headersLength);
  const body = Buffer.from(payload);
  const total = 12 + headers.length + body.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, 12);
  body.copy(out, 12 + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

let emulator: Emulator;
let calls = 0;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

const params = (model: string) => ({
  model,
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'hi' }],
});

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

describe.each(['1.1', '2'] as const)('upstream HTTP/%s', (version) => {
  let runtime: http.Server | http2.Http2Server;
  let gateway: RunningServer;
  let client: Anthropic;
  let endpointBefore: string | undefined;

  beforeAll(async () => {
    const handler = (req: Req, res: Res) => {
      calls++;
      req.resume();
      req.on('end', () => answer(req.url ?? '', res as http.ServerResponse));
    };
    runtime = version === '2' ? http2.createServer(handler) : http.createServer(handler);
    await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', () => resolve()));
    endpointBefore = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}`;
    gateway = await startServer(testConfig({ upstreamHttp: version }));
    client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    await gateway?.close();
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = endpointBefore;
    if (runtime instanceof http.Server) runtime.closeAllConnections();
    await new Promise<void>((resolve) => (runtime ? runtime.close(() => resolve()) : resolve()));
  });

  describe.each([
    ['Converse', QWEN],
    ['InvokeModel', CLAUDE],
  ])('%s stream', (_path, model) => {
    it('a 200 HTML page: a 502 api_error before the stream, saying what came back, that the SDK retries', async () => {
      fault = 'html';
      const err = await client.messages.create({ ...params(model), stream: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      const apiError = err as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(502);
      expect(apiError.headers?.get('x-should-retry')).not.toBe('false');
      const body = (apiError.error as { error: { type: string; message: string } }).error;
      expect(body.type).toBe('api_error');
      expect(body.message).toContain('text/html');
      expect(body.message).not.toContain('Sign in');

      // With its default retries on, the SDK asks again (the page is a proxy's, it may go away).
      calls = 0;
      const retrying = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 1 });
      await retrying.messages.create({ ...params(model), stream: true }).catch(() => undefined);
      expect(calls).toBe(2);
    });

    it.each<Fault>(['torn', 'garbage', 'checksum', 'not-json'])(
      '%s bytes after text: an SSE error event the SDK surfaces after the text, not an internal error',
      async (f) => {
        fault = f;
        const stream = client.messages.stream(params(model));
        let text = '';
        stream.on('text', (t) => {
          text += t;
        });
        const err = await stream.finalMessage().catch((e: unknown) => e);
        expect(text).toBe('Hello ');
        expect(err).toBeInstanceOf(Anthropic.APIError);
        const body = (err as InstanceType<typeof Anthropic.APIError>).error as {
          error: { type: string; message: string };
        };
        expect(body.error.type).toBe('api_error');
        expect(body.error.message).toMatch(/^Bedrock's event stream could not be read: /);
      },
    );
  });

  it('the gateway answers normally afterwards', async () => {
    const health = await fetch(`${gateway.url}/health`);
    expect(health.status).toBe(200);
  });
});
