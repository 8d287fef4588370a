/**
 * A web page must not spend through a gateway it can reach (issue 11, item 5). The requests below carry
 * the headers real browsers send for a cross-site fetch "simple request", a form POST and a CORS
 * preflight; a real headless Chromium page then tries the same. The emulator must see no call.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { hasChromium, launchChromium } from '../helpers/chromium.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, startGateway } from '../helpers/gateway.ts';

const ALLOWED = 'https://console.example.com';
const EVIL = 'http://127.0.0.1:5555';
const BODY = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'hi' }],
});

let emulator: Emulator;
let gateway: RunningServer;
let url: string;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  // No key needed on loopback here (open until keys exist): the case a local web page abuses.
  ({ server: gateway, url } = await startGateway({ masterApiKey: undefined, allowedOrigins: [ALLOWED] }));
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});
beforeEach(() => emulator.reset());

/** Model calls that reached the emulator (catalogue look-ups do not spend). */
const MODEL_CALLS = new Set([
  'Converse',
  'ConverseStream',
  'InvokeModel',
  'InvokeModelWithResponseStream',
  'CountTokens',
]);
const upstreamCalls = () => emulator.requests.filter((r) => MODEL_CALLS.has(r.operation)).length;

/** Chrome 130's headers for `fetch(url, {method: 'POST', body, mode: 'no-cors'})` from another site. */
const chromeNoCorsFetch = (origin: string) => ({
  accept: '*/*',
  'accept-language': 'en-US,en;q=0.9',
  'content-type': 'text/plain;charset=UTF-8',
  origin,
  referer: `${origin}/`,
  'sec-ch-ua': '"Chromium";v="130", "Not?A_Brand";v="99"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Linux"',
  'sec-fetch-dest': 'empty',
  'sec-fetch-mode': 'no-cors',
  'sec-fetch-site': 'cross-site',
  'user-agent':
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
});

/** Chrome's headers for a `<form method=post enctype=text/plain>` submitted to the gateway. */
const chromeFormPost = (origin: string) => ({
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'cache-control': 'max-age=0',
  'content-type': 'text/plain',
  origin,
  referer: `${origin}/`,
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-user': '?1',
  'upgrade-insecure-requests': '1',
});

async function expectAnthropicError(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('request-id')).toMatch(/^req_/);
  const body = (await res.json()) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe('error');
  expect(body.error.type).toBe(type);
  return body.error.message;
}

describe('browser requests (header level)', () => {
  it('refuses a cross-site fetch simple request (text/plain) with 403 before any upstream call', async () => {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: chromeNoCorsFetch(EVIL),
      body: BODY,
    });
    const message = await expectAnthropicError(res, 403, 'permission_error');
    expect(message).toContain('ABPROXY_ALLOWED_ORIGINS');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a cross-site form POST (form-urlencoded and text/plain)', async () => {
    for (const contentType of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { ...chromeFormPost(EVIL), 'content-type': contentType },
        body: `${BODY}=`,
      });
      await expectAnthropicError(res, 403, 'permission_error');
    }
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses even a JSON POST from an unlisted origin, with a key, and count_tokens', async () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { origin: EVIL, 'content-type': 'application/json', 'x-api-key': MASTER_KEY },
        body: BODY,
      });
      await expectAnthropicError(res, 403, 'permission_error');
    }
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses Origin: null (sandboxed frames, file: pages) and a same-site page without Origin', async () => {
    const nullOrigin = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { ...chromeNoCorsFetch(EVIL), origin: 'null' },
      body: BODY,
    });
    await expectAnthropicError(nullOrigin, 403, 'permission_error');
    const noOrigin = await fetch(`${url}/v1/models`, { headers: { 'sec-fetch-site': 'same-site' } });
    await expectAnthropicError(noOrigin, 403, 'permission_error');
    expect(upstreamCalls()).toBe(0);
  });

  it('answers no preflight for an unlisted origin', async () => {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'anthropic-version,content-type,x-api-key',
        'sec-fetch-mode': 'cors',
        'sec-fetch-site': 'cross-site',
      },
    });
    await expectAnthropicError(res, 403, 'permission_error');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the preflight of a listed origin with the methods and headers the SDK needs', async () => {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'anthropic-dangerous-direct-browser-access,anthropic-version,content-type,x-api-key,x-stainless-arch,x-stainless-lang',
        'sec-fetch-mode': 'cors',
        'sec-fetch-site': 'cross-site',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.split(', ');
    for (const name of [
      'x-api-key',
      'anthropic-version',
      'anthropic-beta',
      'authorization',
      'content-type',
    ]) {
      expect(allowed).toContain(name);
    }
    expect(allowed).toContain('x-stainless-arch');
  });

  it('lets a listed origin call with JSON, and exposes request-id to it', async () => {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: {
        origin: ALLOWED,
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'cors',
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-dangerous-direct-browser-access': 'true',
      },
      body: BODY,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-expose-headers')).toContain('request-id');
    expect(upstreamCalls()).toBe(1);
  });

  it('lets a listed origin send W3C trace context and read the trace id, upstream and warnings headers', async () => {
    const pre = await fetch(`${url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,traceparent,tracestate,x-api-key',
        'sec-fetch-mode': 'cors',
        'sec-fetch-site': 'cross-site',
      },
    });
    expect(pre.status).toBe(204);
    const allowed = pre.headers.get('access-control-allow-headers')!.split(', ');
    expect(allowed).toContain('traceparent');
    expect(allowed).toContain('tracestate');

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: {
        origin: ALLOWED,
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'cors',
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-dangerous-direct-browser-access': 'true',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        tracestate: 'vendor=1',
      },
      body: BODY,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-abproxy-trace-id')).toBe(traceId);
    const exposed = res.headers.get('access-control-expose-headers')!.split(', ');
    for (const name of ['request-id', 'x-abproxy-trace-id', 'x-abproxy-upstream', 'x-abproxy-warnings']) {
      expect(exposed).toContain(name);
    }
  });

  it('still refuses a listed origin that sends a non-JSON body (415)', async () => {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { ...chromeNoCorsFetch(ALLOWED) },
      body: BODY,
    });
    await expectAnthropicError(res, 415, 'invalid_request_error');
    expect(upstreamCalls()).toBe(0);
  });

  it('keeps /health, /ready and /metrics GETs usable with browser headers', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      const res = await fetch(`${url}${path}`, { headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('content type (no Origin: a non-browser client)', () => {
  const post = (contentType: string | undefined) =>
    fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      body: new Blob([BODY]),
    });

  it('accepts application/json, with a UTF-8 charset too', async () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;charset="UTF-8"',
    ]) {
      expect((await post(type)).status, type).toBe(200);
    }
  });

  it('refuses other and missing content types with 415', async () => {
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/jsonx',
      undefined,
    ]) {
      await expectAnthropicError(await post(type), 415, 'invalid_request_error');
    }
    expect(upstreamCalls()).toBe(0);
  });
});

describe.skipIf(!hasChromium)('a real headless Chromium page on another loopback port', () => {
  let page: http.Server;
  let pageUrl: string;

  beforeAll(async () => {
    page = http.createServer((_req, res) => {
      const target = JSON.stringify(`${url}/v1/messages`);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>evil</title>
<form id=f method=post enctype=text/plain action=${target}><input name='${BODY.slice(0, -1)}' value='}'></form>
<script>
window.tryFetch = async () => {
  try {
    await fetch(${target}, { method: 'POST', body: ${JSON.stringify(BODY)}, mode: 'no-cors' });
    return 'sent';
  } catch (e) { return String(e); }
};
</script>`);
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => page?.close(resolve));
  });

  it('neither a no-cors fetch nor a form POST reaches Bedrock', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      const statuses: number[] = [];
      tab.on('response', (response) => {
        if (response.url().startsWith(url)) statuses.push(response.status());
      });
      expect(await tab.evaluate('window.tryFetch()')).toBe('sent');
      const formAnswer = tab.waitForResponse((response) => response.url().startsWith(url));
      await tab.evaluate("document.getElementById('f').submit()");
      expect((await formAnswer).status()).toBe(403);
      expect(statuses).toContain(403);
      expect(upstreamCalls()).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
