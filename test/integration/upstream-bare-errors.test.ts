/**
 * An error answer with no exception in it — a redirect, or a proxy's HTML page in place of Bedrock —
 * keeps the status and type the AWS SDK's status mapping gives it, and says in its message what came
 * back (status, kind of body, content type) instead of the SDK's "UnknownError" or its JSON parser's
 * complaint. Through the gateway, with the official Anthropic SDK as the client, on both upstream
 * transports (undici over HTTP/1.1, the SDK over HTTP/2): the runtime endpoint is a small server that
 * answers every call that way; the catalogue still comes from the emulator.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamHttp } from '../../src/config/config.ts';
import { startServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const PAGE = '<html><body><h1>503 Service Temporarily Unavailable</h1><p>nginx</p></body></html>';

let emulator: Emulator;
let answer: { status: number; headers: Record<string, string>; body: string };

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;
const handler: Handler = (req, res) => {
  req.resume();
  req.on('end', () => {
    (res as http.ServerResponse).writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
};

/** A runtime endpoint over HTTP/1.1 or h2c (what each transport speaks) answering `answer`. */
async function fakeRuntime(version: UpstreamHttp) {
  const server = version === '2' ? http2.createServer(handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

async function callThrough(version: UpstreamHttp): Promise<InstanceType<typeof Anthropic.APIError>> {
  const runtime = await fakeRuntime(version);
  const before = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = runtime.url;
  const gateway = await startServer(testConfig({ upstreamHttp: version }));
  try {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const err = await client.messages
      .create({ model: QWEN, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    return err as InstanceType<typeof Anthropic.APIError>;
  } finally {
    await gateway.close();
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = before;
    await runtime.close();
  }
}

const errorOf = (err: InstanceType<typeof Anthropic.APIError>) =>
  (err.error as { error?: { type?: string; message?: string } }).error;

describe.each(['1.1', '2'] as const)('upstream HTTP/%s', (version) => {
  it("a proxy's 503 HTML page: overloaded_error 503, saying what came back, nothing of the page", async () => {
    answer = { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE };
    const err = await callThrough(version);
    expect(err.status).toBe(503);
    expect(errorOf(err)?.type).toBe('overloaded_error');
    expect(errorOf(err)?.message).toBe('Bedrock answered HTTP 503 with a non-JSON body (text/html)');
  });

  it('a 200 whose body is not JSON: a retryable 502 api_error, as a cut answer is', async () => {
    answer = { status: 200, headers: { 'content-type': 'text/html' }, body: PAGE };
    const err = await callThrough(version);
    expect(err.status).toBe(502);
    expect(errorOf(err)?.type).toBe('api_error');
    expect(errorOf(err)?.message).not.toMatch(/nginx|<html/);
  });

  it('a redirect: api_error, naming the status and where it pointed, without its query', async () => {
    answer = {
      status: 302,
      headers: {
        location: 'https://login.example.com/sso?token=secret-token-value',
        'content-type': 'text/html',
      },
      body: '',
    };
    const err = await callThrough(version);
    expect(err.status).toBe(500);
    expect(errorOf(err)?.type).toBe('api_error');
    expect(errorOf(err)?.message).toMatch(/^Bedrock answered HTTP 302, a redirect to login\.example\.com/);
    expect(errorOf(err)?.message).not.toMatch(/secret-token|UnknownError/);
  });

  it('a throttle asking for a retry in 28 hours: passed on as at most a minute (the SDK sleeps for whatever it is told)', async () => {
    answer = {
      status: 429,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': 'ThrottlingException',
        'retry-after': '99999',
      },
      body: JSON.stringify({ message: 'Too many requests' }),
    };
    const err = await callThrough(version);
    expect(err.status).toBe(429);
    expect(errorOf(err)?.type).toBe('rate_limit_error');
    expect(Number(err.headers?.get('retry-after'))).toBe(60);
  });
});
