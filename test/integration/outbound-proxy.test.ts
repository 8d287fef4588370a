/**
 * `abproxy serve` behind a corporate network's outbound proxy (HTTP_PROXY / HTTPS_PROXY / NO_PROXY): the
 * Bedrock runtime calls go through CONNECT tunnels (the emulator is cleartext, so the tunnel carries
 * plain HTTP), the catalogue's listings through the proxy too, NO_PROXY bypasses it, its credentials are
 * sent, and wrong ones give the client a clear 502 — never the password, in the answer or the logs.
 * The proxy is a real one (test/fakes/connect-proxy.ts); the gateway is a child process with the
 * variables in its environment, as an operator sets them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from '../emulator/server.ts';
import { type ConnectProxy, startConnectProxy } from '../fakes/connect-proxy.ts';
import { startFakeSearch } from '../fakes/search-provider.ts';
import {
  answerText,
  type Emulator,
  hiBody,
  MASTER_KEY,
  postMessages,
  serveEnv,
  serveOnEmulator,
} from '../helpers/gateway.ts';
import { runAbproxy } from '../helpers/process.ts';
import { relay } from '../helpers/relay.ts';
import { hasOpenssl, type ThrowAwayCertificate, throwAwayCertificate } from '../helpers/tls.ts';

const PASSWORD = 's3cret-proxy-pass';
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
/** The emulator's Claude model only its bedrock-mantle host serves. */
const MANTLE_ONLY = 'claude-opus-5-5';

describe('behind an outbound proxy', () => {
  let emulator: Emulator;
  let proxy: ConnectProxy;
  let emulatorHost: string;
  let mantleHost: string;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    proxy = await startConnectProxy({ user: 'gw user', password: PASSWORD });
    emulatorHost = new URL(emulator.url).host;
    mantleHost = new URL(emulator.mantleUrl).host;
  });

  afterAll(async () => {
    await proxy?.close();
    await emulator?.close();
  });

  // Info level: the tests read the start-up line naming the proxy.
  const gatewayEnv = (extra: Record<string, string>) => serveEnv(emulator, { LOG_LEVEL: 'info', ...extra });
  const gateway = (extra: Record<string, string>) =>
    serveOnEmulator(emulator, { LOG_LEVEL: 'info', ...extra });
  const ask = (url: string, model: string, stream: boolean) => postMessages(url, hiBody(model, stream));

  const tunnelsToEmulator = () => proxy.tunnels.get(emulatorHost) ?? 0;
  const forwardedToEmulator = () => proxy.forwarded.get(emulatorHost) ?? 0;

  it('sends the runtime calls (stream and not) and the catalogue listings through the proxy, with its credentials', async () => {
    const { serve, url } = await gateway({ HTTP_PROXY: proxy.url });
    try {
      const tunnelsBefore = tunnelsToEmulator();
      for (const stream of [false, true]) {
        emulator.enqueue({ text: `via proxy ${stream}` });
        expect(await answerText(await ask(url, MODEL, stream), stream)).toBe(`via proxy ${stream}`);
      }
      expect(tunnelsToEmulator()).toBeGreaterThan(tunnelsBefore);
      // The catalogue (the control plane's listings, by Node's agents) went through it too.
      const models = await fetch(`${url}/v1/models`, { headers: { 'x-api-key': MASTER_KEY } });
      expect(models.status).toBe(200);
      expect(forwardedToEmulator()).toBeGreaterThan(0);
      const expected = `Basic ${Buffer.from(`gw user:${PASSWORD}`).toString('base64')}`;
      expect(proxy.authorizations).toContain(expected);
      expect(proxy.refused).toBe(0);
    } finally {
      await serve.stop();
    }
    const { stdout, stderr } = serve.output();
    expect(stdout + stderr).not.toContain(PASSWORD);
    // The start-up log says which proxy the runtime calls take, without its credentials.
    expect(stderr).toContain(`through the outbound proxy http://***@${new URL(proxy.url).host}`);
  }, 60_000);

  it('goes direct to a host and port NO_PROXY names, and through the proxy to the others', async () => {
    // The runtime and control hosts (the emulator's port) direct; bedrock-mantle (its second port) proxied.
    const { serve, url } = await gateway({ HTTP_PROXY: proxy.url, NO_PROXY: `localhost, ${emulatorHost}` });
    try {
      const tunnelsBefore = tunnelsToEmulator();
      const forwardedBefore = forwardedToEmulator();
      for (const stream of [false, true]) {
        emulator.enqueue({ text: `direct ${stream}` });
        expect(await answerText(await ask(url, MODEL, stream), stream)).toBe(`direct ${stream}`);
      }
      await fetch(`${url}/v1/models`, { headers: { 'x-api-key': MASTER_KEY } });
      expect(tunnelsToEmulator()).toBe(tunnelsBefore);
      expect(forwardedToEmulator()).toBe(forwardedBefore);
      // A Claude model only bedrock-mantle serves: its list and its call go through the proxy.
      const mantleBefore = proxy.tunnels.get(mantleHost) ?? 0;
      emulator.enqueue({ text: 'from mantle' });
      expect(await answerText(await ask(url, MANTLE_ONLY, false), false)).toBe('from mantle');
      expect(proxy.tunnels.get(mantleHost) ?? 0).toBeGreaterThan(mantleBefore);
    } finally {
      await serve.stop();
    }
  }, 60_000);

  it.each([
    ['the default chain (AWS_PROFILE)', { AWS_PROFILE: 'assumer' }],
    [
      'an upstream entry naming the profile',
      {
        ABPROXY_UPSTREAMS: JSON.stringify([
          { name: 'team', region: 'us-east-1', credentials: { profile: 'assumer' } },
        ]),
      },
    ],
  ])(
    "resolves a profile's role through the proxy too (the credential chain's own STS call): %s",
    async (_, chosen) => {
      // A shared-config profile that assumes a role from a source profile, as an `aws configure` user has;
      // STS is the emulator's, named `localhost` so that its calls are told apart from Bedrock's.
      const aws = mkdtempSync(join(tmpdir(), 'abproxy-aws-'));
      writeFileSync(
        join(aws, 'credentials'),
        `[source]\naws_access_key_id = ${TEST_ACCESS_KEY_ID}\naws_secret_access_key = ${TEST_SECRET_ACCESS_KEY}\n`,
      );
      writeFileSync(
        join(aws, 'config'),
        '[profile assumer]\nrole_arn = arn:aws:iam::123456789012:role/bedrock\nsource_profile = source\n',
      );
      const stsHost = `localhost:${new URL(emulator.url).port}`;
      const { serve, url } = await gateway({
        HTTP_PROXY: proxy.url,
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        ...chosen,
        AWS_CONFIG_FILE: join(aws, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(aws, 'credentials'),
        AWS_ENDPOINT_URL_STS: `http://${stsHost}`,
      });
      try {
        const calls = emulator.requests.length;
        emulator.enqueue({ text: 'as the role' });
        expect(await answerText(await ask(url, MODEL, false), false)).toBe('as the role');
        const since = emulator.requests.slice(calls);
        expect(since.some((r) => r.operation === 'AssumeRole')).toBe(true);
        // Signed with the role's temporary key, fetched through the proxy.
        const converse = since.find((r) => r.operation === 'Converse');
        expect(String(converse?.headers.authorization)).toMatch(/Credential=ASIA/);
        expect(proxy.forwarded.get(stsHost) ?? 0).toBeGreaterThan(0);
      } finally {
        await serve.stop();
      }
    },
    60_000,
  );

  it('sends the web search provider calls through the proxy too', async () => {
    const search = await startFakeSearch();
    // Bedrock direct (NO_PROXY names it), so only the provider's calls can have gone through the proxy.
    const { serve, url } = await gateway({
      HTTP_PROXY: proxy.url,
      NO_PROXY: emulatorHost,
      ABPROXY_WEB_SEARCH_PROVIDER: 'searxng',
      ABPROXY_WEB_SEARCH_URL: search.url,
      ABPROXY_WEB_SEARCH_API_KEY: search.apiKey,
    });
    try {
      emulator.enqueue(
        { model: MODEL, toolCalls: [{ name: 'web_search', input: { query: 'bedrock gateways' } }] },
        { model: MODEL, text: 'Found it.' },
      );
      const res = await postMessages(
        url,
        JSON.stringify({
          model: MODEL,
          max_tokens: 400,
          tools: [{ type: 'web_search_20250305', name: 'web_search' }],
          messages: [{ role: 'user', content: 'Tell me about Bedrock gateways' }],
        }),
      );
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(search.queries).toHaveLength(1);
      expect(proxy.forwarded.get(new URL(search.url).host) ?? 0).toBe(1);
    } finally {
      await serve.stop();
      await search.close();
    }
  }, 60_000);

  it('answers a clear 502 when the proxy refuses its credentials, without the password', async () => {
    const wrong = 'wrong-pass-xyz';
    const { serve, url } = await gateway({ HTTP_PROXY: proxy.urlWith('gw user', wrong) });
    try {
      for (const stream of [false, true]) {
        const res = await ask(url, MODEL, stream);
        const text = await res.text();
        expect(res.status, text).toBe(502);
        const body = JSON.parse(text) as { type: string; error: { type: string; message: string } };
        expect(body.type).toBe('error');
        expect(body.error.type).toBe('api_error');
        expect(body.error.message).toMatch(/outbound proxy .* refused the tunnel .*HTTP 407/);
        expect(text).not.toContain(wrong);
        // Retrying cannot fix credentials.
        expect(res.headers.get('x-should-retry')).toBe('false');
      }
    } finally {
      await serve.stop();
    }
    const { stdout, stderr } = serve.output();
    expect(stdout + stderr).not.toContain(wrong);
  }, 60_000);

  it('refuses to start on the HTTP/2 transport when a proxy applies to it', async () => {
    const run = await runAbproxy(['serve', '--port', '0'], {
      env: gatewayEnv({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, ABPROXY_UPSTREAM_HTTP: '2' }),
      timeoutMs: 30_000,
    });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/ABPROXY_UPSTREAM_HTTP=2 cannot go through the outbound proxy/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  }, 60_000);
});

/**
 * The real shape of it: Bedrock over TLS (a TLS front before the emulator, a throw-away certificate
 * trusted through NODE_EXTRA_CA_CERTS) and an https:// proxy: TLS to the proxy, CONNECT, then TLS to
 * Bedrock inside the tunnel. Every connection the front gets must have come through the proxy.
 */
describe.runIf(hasOpenssl())('behind an https:// proxy, to a TLS endpoint', () => {
  let emulator: Emulator;
  let certificate: ThrowAwayCertificate;
  let proxy: ConnectProxy;
  let front: https.Server;
  let frontUrl: string;
  let frontConnections = 0;
  const frontPaths: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    certificate = throwAwayCertificate();
    const tls = { key: certificate.key, cert: certificate.cert };
    proxy = await startConnectProxy({ user: 'gw', password: PASSWORD }, tls);
    front = https.createServer(tls, (req, res) => {
      frontPaths.push(req.url ?? '');
      relay(emulator.url, req, res);
    });
    front.on('secureConnection', () => frontConnections++);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
    frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  }, 30_000);

  afterAll(async () => {
    front?.closeAllConnections();
    await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
    await proxy?.close();
    await emulator?.close();
    certificate?.remove();
  });

  it('tunnels the runtime calls and the catalogue listings, with TLS inside the tunnel', async () => {
    const { serve, url } = await serveOnEmulator(
      { url: frontUrl, mantleUrl: emulator.mantleUrl },
      { NODE_EXTRA_CA_CERTS: certificate.certPath, HTTPS_PROXY: proxy.url, LOG_LEVEL: 'info' },
    );
    try {
      for (const stream of [false, true]) {
        emulator.enqueue({ text: `tls via proxy ${stream}` });
        const res = await postMessages(url, hiBody(MODEL, stream));
        expect(await answerText(res, stream)).toBe(`tls via proxy ${stream}`);
      }
      expect((await fetch(`${url}/v1/models`, { headers: { 'x-api-key': MASTER_KEY } })).status).toBe(200);
      const frontHost = new URL(frontUrl).host;
      expect(frontPaths.some((path) => path.startsWith('/foundation-models'))).toBe(true);
      expect(frontPaths.some((path) => path.includes('/converse'))).toBe(true);
      expect(frontConnections).toBeGreaterThan(0);
      expect(proxy.tunnels.get(frontHost) ?? 0).toBe(frontConnections);
    } finally {
      await serve.stop();
    }
    const { stdout, stderr } = serve.output();
    expect(stdout + stderr).not.toContain(PASSWORD);
  }, 60_000);
});
