/**
 * An endpoint (a proxy, a stand-in for Bedrock) that echoes the Authorization it got — in an error
 * answer's message, or in an exception event mid-stream — must not hand the gateway's Bedrock API key to
 * the client, on either upstream transport (undici over HTTP/1.1, the AWS SDK over HTTP/2). Through the
 * gateway with the official Anthropic SDK; the catalogue comes from the emulator.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamHttp } from '../../src/config/config.ts';
import { startServer } from '../../src/server/http/server.ts';
import { eventFrame, exceptionFrame } from '../emulator/eventstream.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const API_KEY = `ABSK${Buffer.from('BedrockAPIKey-echoed-secret-value-1234567890').toString('base64')}`;

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** A ValidationException for Converse, an exception event after the first text for ConverseStream. */
function echo(req: Req, res: Res): void {
  req.resume();
  req.on('end', () => {
    const auth = String(req.headers.authorization ?? '');
    const out = res as http.ServerResponse;
    if ((req.url ?? '').endsWith('/converse-stream')) {
      out.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      out.write(eventFrame('messageStart', { role: 'assistant' }));
      out.write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello ' } }));
      out.end(exceptionFrame('ModelStreamErrorException', `stream broke for ${auth}`));
      return;
    }
    out.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' });
    out.end(JSON.stringify({ message: `you sent ${auth}` }));
  });
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

async function through<T>(
  version: UpstreamHttp,
  call: (client: Anthropic, gatewayUrl: string) => Promise<T>,
): Promise<T> {
  const server = version === '2' ? http2.createServer(echo) : http.createServer(echo);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const before = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gateway = await startServer(testConfig({ upstreamHttp: version, bedrockApiKey: API_KEY }));
  try {
    return await call(
      new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 }),
      gateway.url,
    );
  } finally {
    await gateway.close();
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = before;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const params = { model: QWEN, max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }] };
const messageOf = (err: unknown) =>
  ((err as InstanceType<typeof Anthropic.APIError>).error as { error: { message: string } }).error.message;

describe.each(['1.1', '2'] as const)('upstream HTTP/%s echoing the Authorization header', (version) => {
  it('in an error answer: the client reads the message without the key', async () => {
    const err = await through(version, (client) => client.messages.create(params).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(messageOf(err)).toContain('you sent [redacted]');
    expect(messageOf(err)).not.toContain(API_KEY.slice(4, 24));
  });

  it('in an exception event mid-stream: the SSE error event has no key', async () => {
    const err = await through(version, async (client) => {
      const stream = client.messages.stream(params);
      return stream.finalMessage().catch((e: unknown) => e);
    });
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(messageOf(err)).toContain('stream broke for [redacted]');
    expect(messageOf(err)).not.toContain(API_KEY.slice(4, 24));
  });

  it('in an exception frame on the Bedrock-format door: the frame passed on has no key', async () => {
    const bytes = await through(version, async (_client, url) => {
      const res = await fetch(`${url}/model/${QWEN}/converse-stream`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      });
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer()).toString('latin1');
    });
    expect(bytes).toContain('stream broke for [redacted]');
    expect(bytes).not.toContain(API_KEY.slice(4, 24));
  });
});
