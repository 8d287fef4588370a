/**
 * The emulator's Bedrock Messages API (`/anthropic/v1/messages` on the runtime host and on the mantle
 * host) is strict about what abproxy assumes: the SigV4 service per host, the id form per host, the
 * pinned anthropic-version, the refused fields, Anthropic error bodies, plain SSE.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mantleModelLister } from '../../src/upstream/mantle-models.ts';
import { SigV4Signer } from '../../src/upstream/sigv4.ts';
import { type Emulator, startEmulator, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from './server.ts';

const credentials = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY };
const BASE = 'anthropic.claude-haiku-4-5-20251001-v1:0';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => emulator.reset());

interface CallOptions {
  host?: 'runtime' | 'mantle';
  service?: string;
  path?: string;
  headers?: Record<string, string>;
  bearer?: string;
}

async function call(body: Record<string, unknown>, options: CallOptions = {}) {
  const host = options.host ?? 'runtime';
  const url = new URL(host === 'mantle' ? emulator.mantleUrl : emulator.url);
  const path = options.path ?? '/anthropic/v1/messages';
  const text = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    ...options.headers,
  };
  const signed = options.bearer
    ? { ...headers, authorization: `Bearer ${options.bearer}` }
    : await new SigV4Signer({
        service: options.service ?? (host === 'mantle' ? 'bedrock-mantle' : 'bedrock'),
        credentials,
      }).sign({ method: 'POST', host: url.host, path, headers, body: text, region: 'us-east-1' });
  const { host: _host, ...sendHeaders } = signed as Record<string, string>;
  return fetch(`${url.origin}${path}`, { method: 'POST', headers: sendHeaders, body: text });
}

const hello = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  max_tokens: 100,
  messages: [{ role: 'user', content: 'hello claude' }],
  ...extra,
});

describe('Messages API on the runtime host', () => {
  it('answers an Anthropic message for an inference profile id', async () => {
    const res = await call(hello(`us.${BASE}`));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'Echo: hello claude' }],
    });
    expect(emulator.requests[0]).toMatchObject({
      operation: 'MessagesApi',
      host: 'runtime',
      modelId: `us.${BASE}`,
    });
  });

  it('streams plain SSE without Bedrock trailers', async () => {
    const res = await call(hello(`us.${BASE}`, { stream: true }));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text.startsWith('event: message_start\ndata: {')).toBe(true);
    expect(text).toContain('event: message_stop');
    expect(text).not.toContain('amazon-bedrock-invocationMetrics');
  });

  it('refuses a signature scoped to another service', async () => {
    const res = await call(hello(`us.${BASE}`), { service: 'bedrock-mantle' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('refuses an on-demand call of a profile-only model by its bare id', async () => {
    const res = await call(hello(BASE));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/inference profile/);
  });

  it('requires anthropic-version 2023-06-01', async () => {
    for (const version of ['', '2026-10-21']) {
      const res = await call(hello(`us.${BASE}`), { headers: { 'anthropic-version': version } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
  });

  it.each([
    ['output_config.format', { output_config: { format: { type: 'json_schema', schema: {} } } }],
    ['inference_geo', { inference_geo: 'us' }],
    ['strict', { tools: [{ name: 'a', input_schema: { type: 'object' }, strict: true }] }],
    ['web_search', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }],
    ['anthropic_version', { anthropic_version: 'bedrock-2023-05-31' }],
  ])('refuses %s with a 400 Anthropic error', async (_label, extra) => {
    const res = await call(hello(`us.${BASE}`, extra));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('checks betas from the anthropic-beta header', async () => {
    const res = await call(hello(`us.${BASE}`), { headers: { 'anthropic-beta': 'no-such-beta-2099' } });
    expect(res.status).toBe(400);
  });

  it('answers an unknown /anthropic route with 200 and UnknownOperationException (as observed)', async () => {
    const res = await call(hello(`us.${BASE}`), { path: '/anthropic/v1/messages/count_tokens' });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('UnknownOperationException');
  });
});

describe('Messages API on the mantle host', () => {
  it('takes a bare id, signed for bedrock-mantle or with a bearer key', async () => {
    expect((await call(hello(BASE), { host: 'mantle' })).status).toBe(200);
    expect((await call(hello(BASE), { host: 'mantle', bearer: 'bedrock-api-key' })).status).toBe(200);
    expect(emulator.requests.map((r) => r.host)).toEqual(['mantle', 'mantle']);
  });

  it('refuses a signature for bedrock', async () => {
    const res = await call(hello(BASE), { host: 'mantle', service: 'bedrock' });
    expect(res.status).toBe(403);
  });

  it('refuses inference profile ids', async () => {
    const res = await call(hello(`us.${BASE}`), { host: 'mantle' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it("lists its models on GET /v1/models (the gateway's lister, SigV4 or a bearer key), mantle-only ones too", async () => {
    for (const auth of [{}, { bearerToken: 'bedrock-api-key' }]) {
      const ids = await mantleModelLister({
        endpoint: emulator.mantleUrl,
        credentials: async () => credentials,
        ...auth,
      })('us-east-1');
      expect(ids).toContain('anthropic.claude-opus-5-5');
      expect(ids).toContain(BASE);
    }
    expect(emulator.requests.map((r) => [r.operation, r.host, r.method])).toEqual([
      ['ListMantleModels', 'mantle', 'GET'],
      ['ListMantleModels', 'mantle', 'GET'],
    ]);
    // Only the mantle host lists this way.
    await expect(
      mantleModelLister({ endpoint: emulator.url, credentials: async () => credentials })('us-east-1'),
    ).rejects.toThrow();
  });

  it('serves nothing but the Messages API and its model list', async () => {
    const res = await call({}, { host: 'mantle', path: `/model/${encodeURIComponent(BASE)}/invoke` });
    expect(res.status).toBe(404);
  });

  it('scripted errors come back in Anthropic shape with retry-after', async () => {
    emulator.enqueue({ error: { name: 'ThrottlingException', retryAfter: 3 } });
    const res = await call(hello(BASE), { host: 'mantle' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-amzn-errortype')).toBeNull();
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });
});
