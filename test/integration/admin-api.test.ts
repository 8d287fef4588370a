/** The admin page's HTTP surface: access, sessions, CSRF refusals, security headers and the key life cycle. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLoginToken } from '../../src/admin/login-token.ts';
import { MAX_SERIES } from '../../src/admin/usage-view.ts';
import { admin, browserCommand } from '../../src/cli/admin.ts';
import { resolveSigningSecret } from '../../src/config/secret.ts';
import type { RunningServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { AdminClient, buildAdminAssets, startAdminGateway } from './admin-harness.ts';

let emulator: Emulator;
let assets: string;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  assets = await buildAdminAssets();
});
afterAll(async () => {
  await emulator?.close();
});

describe('admin page with a master key', () => {
  let gateway: RunningServer;
  beforeAll(async () => {
    gateway = await startAdminGateway(assets);
  });
  afterAll(() => gateway?.close());

  it('serves the page with a strict CSP, nosniff and no referrer', async () => {
    const res = await fetch(`${gateway.url}/admin`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${gateway.url}/admin/assets/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('content-security-policy')).toBe(csp);
  });

  it('refuses the API without a session, and a wrong master key', async () => {
    const keys = await fetch(`${gateway.url}/admin/api/keys`);
    expect(keys.status).toBe(401);
    expect(((await keys.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    const client = new AdminClient(gateway.url);
    expect((await client.login('wrong')).status).toBe(401);
    expect(client.cookie).toBe('');
    // The /v1 API keys do not open the admin API either.
    const withKey = await fetch(`${gateway.url}/admin/api/keys`, { headers: { 'x-api-key': MASTER_KEY } });
    expect(withKey.status).toBe(401);
  });

  it('signs in with the master key: an HttpOnly, SameSite=Strict session cookie, Secure behind TLS', async () => {
    const client = new AdminClient(gateway.url);
    const res = await client.login(MASTER_KEY);
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^abproxy_admin=[\w-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/admin');
    expect(cookie).not.toContain('Secure');
    expect((await client.fetch('/admin/api/keys')).status).toBe(200);
    const tls = await fetch(`${gateway.url}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ master_key: MASTER_KEY }),
    });
    expect(tls.headers.getSetCookie()[0]).toContain('; Secure');
    const out = await client.send('POST', '/admin/api/logout');
    expect(out.status).toBe(200);
    expect((await client.fetch('/admin/api/keys')).status).toBe(401);
  });

  it('ends the live feed when its session signs out', async () => {
    const client = new AdminClient(gateway.url);
    expect((await client.login(MASTER_KEY)).status).toBe(200);
    const feed = await client.fetch('/admin/api/live');
    expect(feed.status).toBe(200);
    const reader = feed.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect((await client.send('POST', '/admin/api/logout')).status).toBe(200);
    // At the latest on the next statistics tick (every 2 s), never again after.
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000));
    expect(await Promise.race([ended, timeout])).toBe(true);
  });

  it('refuses mutations without the CSRF token or from another origin', async () => {
    const client = new AdminClient(gateway.url);
    await client.login(MASTER_KEY);
    const before = ((await (await client.fetch('/admin/api/keys')).json()) as { keys: unknown[] }).keys
      .length;
    const noToken = await client.fetch('/admin/api/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'csrf' }),
    });
    expect(noToken.status).toBe(403);
    const wrongToken = await client.send(
      'POST',
      '/admin/api/keys',
      { name: 'csrf' },
      { 'x-abproxy-csrf': 'x' },
    );
    expect(wrongToken.status).toBe(403);
    const evil = await client.send(
      'POST',
      '/admin/api/keys',
      { name: 'csrf' },
      { origin: 'http://evil.example' },
    );
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: { message: string } }).error.message).toMatch(/cross-origin/);
    const sibling = await client.send(
      'POST',
      '/admin/api/keys',
      { name: 'csrf' },
      { 'sec-fetch-site': 'same-site', origin: gateway.url.replace(/:\d+$/, ':1') },
    );
    expect(sibling.status).toBe(403);
    const login = await fetch(`${gateway.url}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ master_key: MASTER_KEY }),
    });
    expect(login.status).toBe(403);
    const after = ((await (await client.fetch('/admin/api/keys')).json()) as { keys: unknown[] }).keys.length;
    expect(after).toBe(before);
    const same = await client.send('POST', '/admin/api/keys', { name: 'ok' }, { origin: gateway.url });
    expect(same.status).toBe(201);
  });

  it('runs the key life cycle: create (secret once), use, edit, usage and spend, revoke', async () => {
    const client = new AdminClient(gateway.url);
    await client.login(MASTER_KEY);
    const bad = await client.send('POST', '/admin/api/keys', { name: 'x', budget_usd: -1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      "budget_usd: expected a positive number, got '-1'",
    );
    const notAFlag = await client.send('POST', '/admin/api/keys', { name: 'x', web_search: 0 });
    expect(notAFlag.status).toBe(400);
    expect(((await notAFlag.json()) as { error: { message: string } }).error.message).toBe(
      'web_search: expected true or false',
    );
    const created = await client.send('POST', '/admin/api/keys', {
      name: 'ci',
      user: 'bob',
      service_tier: 'flex',
      budget_usd: 5,
      models: 'qwen.*, claude-*',
    });
    expect(created.status).toBe(201);
    const { key, secret } = (await created.json()) as {
      key: { id: string; models: string[] };
      secret: string;
    };
    expect(secret).toMatch(/^abp_/);
    expect(key.models).toEqual(['qwen.*', 'claude-*']);
    const listed = await (await client.fetch('/admin/api/keys')).text();
    expect(listed).toContain(key.id);
    expect(listed).not.toContain(secret);

    const sdk = new Anthropic({ baseURL: gateway.url, apiKey: secret, maxRetries: 0 });
    const reply = await sdk.messages.create({
      model: 'qwen.qwen3-32b-v1:0',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.type).toBe('message');

    const edited = await client.send('PATCH', `/admin/api/keys/${key.id}`, {
      service_tier: 'priority',
      rate_limit_rpm: 100,
      concurrent_requests: 4,
      models: null,
    });
    expect(edited.status).toBe(200);
    expect(((await edited.json()) as { key: unknown }).key).toMatchObject({
      name: 'ci',
      service_tier: 'priority',
      rate_limit_rpm: 100,
      concurrent_requests: 4,
      budget_usd: 5,
      models: null,
    });
    const badCap = await client.send('PATCH', `/admin/api/keys/${key.id}`, { concurrent_requests: 0.5 });
    expect(badCap.status).toBe(400);

    await expect
      .poll(async () => {
        const usage = (await (await client.fetch('/admin/api/usage?since=7d')).json()) as {
          by_key: { groups: { group: string; requests: number }[] };
          spend: { key_id: string; budget_usd: number }[];
        };
        return [
          usage.by_key.groups.find((g) => g.group === key.id)?.requests,
          usage.spend.find((s) => s.key_id === key.id)?.budget_usd,
        ];
      })
      .toEqual([1, 5]);

    const revoked = await client.send('POST', `/admin/api/keys/${key.id}/revoke`);
    expect(((await revoked.json()) as { result: string }).result).toBe('revoked');
    await expect(
      sdk.messages.create({
        model: 'qwen.qwen3-32b-v1:0',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toMatchObject({ status: 401 });
    const again = await client.send('PATCH', `/admin/api/keys/${key.id}`, { name: 'z' });
    expect(again.status).toBe(400);
    expect((await client.send('POST', '/admin/api/keys/key_nope/revoke')).status).toBe(404);
  });

  it('shows the settings in force with secrets masked, and the model catalogue', async () => {
    const client = new AdminClient(gateway.url);
    await client.login(MASTER_KEY);
    const text = await (await client.fetch('/admin/api/settings')).text();
    expect(text).not.toContain(MASTER_KEY);
    const settings = JSON.parse(text) as { settings: { key: string; value: unknown }[] };
    expect(settings.settings.find((s) => s.key === 'masterApiKey')?.value).toBe('<redacted>');
    const models = (await (await client.fetch('/admin/api/models')).json()) as {
      region: string;
      models: unknown[];
      upstreams: unknown[];
    };
    expect(models.region).toBe('us-east-1');
    expect(models.models.length).toBeGreaterThan(0);
    expect(models.upstreams).toEqual([]);
  });

  it('reports usage by Claude Code session and agent (?by=, ?session=)', async () => {
    const client = new AdminClient(gateway.url);
    await client.login(MASTER_KEY);
    const session = `admin-${Date.now()}`;
    const sdk = new Anthropic({
      baseURL: gateway.url,
      apiKey: MASTER_KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-claude-code-session-id': session },
    });
    const ask = {
      model: 'qwen.qwen3-32b-v1:0',
      max_tokens: 8,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    await sdk.messages.create(ask);
    await sdk.messages.create(ask, { headers: { 'x-claude-code-agent-id': 'a-helper' } });
    await expect
      .poll(async () => {
        const usage = (await (
          await client.fetch(`/admin/api/usage?since=1d&by=agent&session=${session}`)
        ).json()) as {
          report?: { session: string; groups: { group: string; parent: string | null; requests: number }[] };
        };
        return usage.report?.groups.map((g) => [g.group, g.parent, g.requests]);
      })
      .toEqual([
        ['(main)', null, 1],
        ['a-helper', '(main)', 1],
      ]);
    const bad = await client.fetch('/admin/api/usage?by=everything');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('bounds the by-model tables as the charts are: the largest models, the rest as one (others) row', async () => {
    const client = new AdminClient(gateway.url);
    await client.login(MASTER_KEY);
    const sdk = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const ask = (model: string) => ({
      model,
      max_tokens: 8,
      messages: [{ role: 'user' as const, content: 'hi' }],
    });
    await sdk.messages.create(ask('qwen.qwen3-32b-v1:0'));
    // A client spraying made-up model names the catalogue does not know: each one a usage record.
    const sprayed = 40;
    for (let i = 0; i < sprayed; i++)
      await sdk.messages.create(ask(`acme.made-up-${i}`)).catch(() => undefined);
    type Rows = { group: string; requests: number }[];
    const byModel = async () =>
      (
        (await (await client.fetch('/admin/api/usage?since=1d')).json()) as {
          by_model: { groups: Rows; total: { requests: number } };
        }
      ).by_model;
    await expect.poll(async () => (await byModel()).total.requests).toBeGreaterThanOrEqual(sprayed + 1);
    const usage = await byModel();
    expect(usage.groups.length).toBeLessThanOrEqual(MAX_SERIES);
    expect(usage.groups.map((g) => g.group)).toContain('qwen.qwen3-32b-v1:0');
    expect(usage.groups.at(-1)?.group).toBe('(others)');
    // Nothing is lost: the rows still add up to the total.
    expect(usage.groups.reduce((sum, g) => sum + g.requests, 0)).toBe(usage.total.requests);

    const models = (await (await client.fetch('/admin/api/models')).json()) as { last_24h: Rows };
    expect(models.last_24h.length).toBeLessThanOrEqual(MAX_SERIES);
    expect(models.last_24h.map((g) => g.group)).toContain('qwen.qwen3-32b-v1:0');
    expect(models.last_24h.at(-1)?.group).toBe('(others)');
  });

  it('`abproxy admin` prints a one-time sign-in link when headless, and opens it with a display', async () => {
    const lines: string[] = [];
    const env = {
      MASTER_API_KEY: MASTER_KEY,
      ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-admin-cli-')),
    };
    await admin({ url: gateway.url }, { stdout: (l) => lines.push(l), env, platform: 'linux' });
    const link = lines.at(-1)!;
    // The token rides in the fragment, which browsers do not send (nor log, nor put in Referer).
    expect(link).toMatch(new RegExp(`^${gateway.url}/admin#token=[\\w.-]+$`));
    const client = new AdminClient(gateway.url);
    expect((await client.redeem(link.split('#token=')[1]!)).status).toBe(200);
    expect((await client.fetch('/admin/api/keys')).status).toBe(200);
    expect((await new AdminClient(gateway.url).redeem(link.split('#token=')[1]!)).status).toBe(401);

    const opened: string[] = [];
    await admin(
      { url: gateway.url },
      {
        stdout: () => {},
        env: { ...env, DISPLAY: ':0' },
        platform: 'linux',
        open: (cmd, url) => opened.push(cmd, url),
      },
    );
    expect(opened[0]).toBe('xdg-open');
    expect(opened[1]).toMatch(/\/admin#token=/);
    expect(browserCommand({ BROWSER: 'firefox' }, 'linux')).toBe('firefox');
    expect(browserCommand({}, 'linux')).toBeUndefined();
  });

  it('accepts a one-time sign-in token once', async () => {
    const token = mintLoginToken(await resolveSigningSecret(testConfig()));
    const client = new AdminClient(gateway.url);
    expect((await client.redeem(token)).status).toBe(200);
    expect((await client.fetch('/admin/api/keys')).status).toBe(200);
    const reuse = await new AdminClient(gateway.url).redeem(token);
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { error: { message: string } }).error.message).toMatch(/already used/);
    expect((await new AdminClient(gateway.url).redeem(mintLoginToken('other'))).status).toBe(401);
  });
});

describe('admin page on an open loopback gateway', () => {
  it('lets the local user in while no key exists, then asks for a sign-in', async () => {
    const gateway = await startAdminGateway(assets, { masterApiKey: undefined });
    try {
      const first = new AdminClient(gateway.url);
      const session = (await (await first.fetch('/admin/api/session')).json()) as {
        signed_in: boolean;
        csrf: string;
      };
      expect(session.signed_in).toBe(true);
      first.csrf = session.csrf;
      expect((await first.send('POST', '/admin/api/keys', { name: 'first' })).status).toBe(201);
      // The session that created the key keeps working; a newcomer is not let in any more.
      expect((await first.fetch('/admin/api/keys')).status).toBe(200);
      const later = (await (await new AdminClient(gateway.url).fetch('/admin/api/session')).json()) as {
        signed_in: boolean;
        master_key_login: boolean;
      };
      expect(later).toMatchObject({ signed_in: false, master_key_login: false });
    } finally {
      await gateway.close();
    }
  });

  it('stays closed when sign-in is on: the API asks everyone for a token, so the page must too', async () => {
    const gateway = await startAdminGateway(assets, {
      masterApiKey: undefined,
      oidcIssuer: 'http://127.0.0.1:9',
      oidcClientId: 'abproxy',
    });
    try {
      expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401);
      const session = (await (await new AdminClient(gateway.url).fetch('/admin/api/session')).json()) as {
        signed_in: boolean;
      };
      expect(session.signed_in).toBe(false);
    } finally {
      await gateway.close();
    }
  });

  it('answers a clear 503 when the page was not built', async () => {
    const gateway = await startAdminGateway(mkdtempSync(join(tmpdir(), 'abproxy-empty-')));
    try {
      const res = await fetch(`${gateway.url}/admin`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:admin');
    } finally {
      await gateway.close();
    }
  });
});
