/**
 * Sign-in end to end over HTTP: a real OpenID provider in-process, the gateway (solo store) in front of
 * the Bedrock emulator, the browser step scripted with a cookie jar. Two people in two groups get two
 * policies; a third from another domain is refused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parsePolicies, settingsChecksum } from '../../src/signin/policies.ts';
import { sha256Hex } from '../../src/signin/tokens.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import {
  browse,
  browserSignIn,
  CookieJar,
  DEVICE_GRANT,
  deviceSignIn,
  formOf,
  postForm,
  signInSettings,
  startIdp,
  type TestIdp,
} from './idp.ts';

const CLAUDE = 'claude-sonnet-4-6';
const OPEN_MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const ML_SETTINGS = {
  availableModels: ['sonnet'],
  env: { DISABLE_TELEMETRY: '1' },
  permissions: { deny: ['WebFetch'] },
};

let emulator: Emulator;
let idp: TestIdp;
let gateway: RunningServer;
let url: string;
/** How far the gateway's sign-in clock runs ahead of the real one. */
let clockAheadMs = 0;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  idp = await startIdp({
    alice: { email: 'alice@corp.example', groups: ['ml'] },
    bob: { email: 'bob@corp.example', groups: ['support'] },
    carol: { email: 'carol@corp.example', groups: ['support'] },
    eve: { email: 'eve@elsewhere.example', groups: ['ml'] },
    dave: { email: 'dave@corp.example', groups: ['interns'] },
    mallory: { email: 'mallory@corp.example', groups: ['ml'], emailVerified: 'false' },
  });
  const policies = parsePolicies({
    policies: [
      { name: 'ml', groups: ['ml'], models: ['claude-*'], serviceTier: 'priority', settings: ML_SETTINGS },
      { name: 'support', groups: ['support'], models: ['qwen.*'], serviceTier: 'flex', requestsPerMinute: 3 },
      { name: 'interns', groups: ['interns'], monthlyBudgetUsd: 0.0001 },
    ],
  });
  gateway = await startServer(
    testConfig({
      ...signInSettings(idp),
      oidcAllowedDomains: ['corp.example'],
      policies,
    }),
    { signIn: { pollIntervalS: 1, now: () => Date.now() + clockAheadMs } },
  );
  url = gateway.url;
  idp.register(`${url}/oauth/callback`);
});

afterAll(async () => {
  await gateway?.close();
  await idp?.stop();
  await emulator?.close();
});

beforeEach(() => {
  emulator.reset();
  clockAheadMs = 0;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const form = (path: string, fields: Record<string, string>) => postForm(url, path, fields);

async function deviceAuthorization() {
  const { status, json } = await form('/oauth/device_authorization', { surface: 'claude_code' });
  expect(status).toBe(200);
  return json as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete: string;
    expires_in: number;
    interval: number;
  };
}

const poll = (deviceCode: string) =>
  form('/oauth/token', { grant_type: DEVICE_GRANT, device_code: deviceCode });

const signIn = (login: string) => deviceSignIn(url, login);

async function call(token: string, model = OPEN_MODEL, header: 'bearer' | 'x-api-key' = 'bearer') {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      ...(header === 'bearer' ? { authorization: `Bearer ${token}` } : { 'x-api-key': token }),
    },
    body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const json = (await res.json()) as { error?: { type: string; message: string } };
  return { status: res.status, headers: res.headers, json };
}

function lastTier(): string | undefined {
  const runtime = emulator.requests.filter((r) => r.modelId && !r.operation.startsWith('List'));
  const last = runtime.at(-1);
  const body = last?.body as { serviceTier?: { type?: string } } | undefined;
  const header = last?.headers['x-amzn-bedrock-service-tier'];
  return body?.serviceTier?.type ?? (typeof header === 'string' ? header : undefined);
}

describe('discovery and device authorization', () => {
  it('publishes the endpoints on its own origin and answers RFC 8628 fields', async () => {
    const meta = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      string
    >;
    expect(meta).toMatchObject({
      device_authorization_endpoint: `${url}/oauth/device_authorization`,
      token_endpoint: `${url}/oauth/token`,
      revocation_endpoint: `${url}/oauth/revoke`,
    });
    const grant = await deviceAuthorization();
    expect(grant.user_code).toMatch(/^[B-Z]{4}-[B-Z]{4}$/);
    expect(grant.verification_uri).toBe(`${url}/device`);
    expect(grant.verification_uri_complete).toBe(`${url}/device?user_code=${grant.user_code}`);
    expect(grant.expires_in).toBe(600);
    expect(grant.interval).toBe(1);
  });

  it('polling says authorization_pending, then slow_down when too fast, then hands out tokens once', async () => {
    const grant = await deviceAuthorization();
    expect((await poll(grant.device_code)).json.error).toBe('authorization_pending');
    const fast = await poll(grant.device_code);
    expect(fast.status).toBe(400);
    expect(fast.json.error).toBe('slow_down');
    const page = await browserSignIn(grant.verification_uri_complete, 'alice');
    expect(page.body).toContain('alice@corp.example');
    await sleep(6_100);
    const token = await poll(grant.device_code);
    expect(token.status).toBe(200);
    expect(token.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, email: 'alice@corp.example' });
    expect(token.json.access_token).toMatch(/^abpt_[0-9A-Za-z]{43}$/);
    expect(token.json.refresh_token).toMatch(/^abpr_[0-9A-Za-z]{43}$/);
    expect((await poll(grant.device_code)).json.error).toBe('invalid_grant');
    expect((await poll('abpd_BBBBBBBB_nope')).json.error).toBe('invalid_grant');
  }, 30_000);

  it('refuses a person from a domain that is not allowed: the page says so, polling gets access_denied', async () => {
    const grant = await deviceAuthorization();
    const page = await browserSignIn(grant.verification_uri_complete, 'eve');
    expect(page.res.status).toBe(403);
    expect(page.body).toContain('elsewhere.example may not use this gateway');
    expect((await poll(grant.device_code)).json.error).toBe('access_denied');
  });

  it('refuses an address the IdP says is not verified, also when it says so as the string "false"', async () => {
    const grant = await deviceAuthorization();
    const page = await browserSignIn(grant.verification_uri_complete, 'mallory');
    expect(page.res.status).toBe(403);
    expect(page.body).toContain('mallory@corp.example is not verified');
    expect((await poll(grant.device_code)).json.error).toBe('access_denied');
  });
});

describe('the confirmation page', () => {
  it('says when, from where and by what the sign-in was started (RFC 8628 §5.4), for a link and for a typed code', async () => {
    const res = await fetch(`${url}/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'curl/8.5.0 <b>' },
      body: 'surface=claude_code',
    });
    const grant = (await res.json()) as { user_code: string; verification_uri_complete: string };
    const stored = await gateway.store.getDeviceGrant(grant.user_code.replace('-', ''));
    const started = `${stored!.createdAt.slice(0, 10)} ${stored!.createdAt.slice(11, 19)} UTC`;
    const saysWhere = (body: string) => {
      expect(body).toContain(`started at ${started} (less than a minute ago)`);
      expect(body).toContain('from <code>127.0.0.1</code> by <code>curl/8.5.0 &lt;b&gt;</code>');
    };

    const linked = await browse(new CookieJar(), grant.verification_uri_complete);
    expect(linked.res.status).toBe(200);
    saysWhere(linked.body);

    // Typed: the code form leads to the same confirmation, not straight to the IdP.
    const jar = new CookieJar();
    const blank = formOf((await browse(jar, `${url}/device`)).body);
    const typed = await browse(jar, `${url}/device`, {
      ...blank.fields,
      user_code: grant.user_code.toLowerCase(),
    });
    expect(typed.res.status).toBe(200);
    saysWhere(typed.body);
    const confirmed = await browse(jar, `${url}/device`, formOf(typed.body).fields);
    expect(confirmed.res.status).toBe(303);
    expect(confirmed.location).toContain(new URL(idp.issuer).host);
  });
});

describe('the IdP callback', () => {
  it("a forged ?error= callback (no state) does not end a sign-in in progress; the IdP's own error does", async () => {
    const grant = await deviceAuthorization();
    const jar = new CookieJar();
    const confirm = await browse(jar, grant.verification_uri_complete);
    const confirmForm = formOf(confirm.body);
    // The gateway sends the browser to the IdP, with the state it will expect back.
    const toIdp = await browse(jar, new URL(confirmForm.action, url).href, confirmForm.fields);
    const state = new URL(toIdp.location!).searchParams.get('state');
    expect(state).toBeTruthy();
    // What any page can make the person's browser open (the Lax cookie goes along on a navigation).
    const forged = await browse(jar, `${url}/oauth/callback?error=access_denied`);
    expect(forged.res.status).toBe(400);
    expect(forged.body).toContain('does not belong to the sign-in in progress');
    expect((await poll(grant.device_code)).json.error).toBe('authorization_pending');
    const refused = await browse(jar, `${url}/oauth/callback?error=access_denied&state=${state}`);
    expect(refused.res.status).toBe(403);
    await sleep(1_100);
    expect((await poll(grant.device_code)).json.error).toBe('access_denied');
  });
});

describe('tokens, policies and managed settings', () => {
  it('applies the group policy: model globs, availableModels, service tier and the RPM limit', async () => {
    const alice = await signIn('alice');
    const claude = await call(alice.access_token, CLAUDE);
    expect(claude.status).toBe(200);
    // The policy's tier was asked for (Claude may fall back to default, and the headers say so).
    const tier =
      claude.headers.get('x-abproxy-service-tier-fallback') ?? claude.headers.get('x-abproxy-service-tier');
    expect(tier).toBe('priority');
    expect((await call(alice.access_token, CLAUDE, 'x-api-key')).status).toBe(200);
    const open = await call(alice.access_token, OPEN_MODEL);
    expect(open.status).toBe(403);
    expect(open.json.error?.type).toBe('permission_error');
    // claude-* allows Opus, but the managed availableModels (sonnet) binds the gateway too.
    const opus = await call(alice.access_token, 'claude-opus-4-6');
    expect(opus.status).toBe(403);
    expect(opus.json.error?.message).toMatch(/sign-in policy/);

    const bob = await signIn('bob');
    expect((await call(bob.access_token, CLAUDE)).status).toBe(403);
    const flex = await call(bob.access_token, OPEN_MODEL);
    expect(flex.status).toBe(200);
    expect(flex.headers.get('x-abproxy-service-tier')).toBe('flex');
    expect(lastTier()).toBe('flex');
    // RPM 3: the refused Claude call counted too.
    expect((await call(bob.access_token, OPEN_MODEL)).status).toBe(200);
    // Usage belongs to the principal: a new sign-in (new tokens) shares the same RPM window.
    const again = await signIn('bob');
    const limited = await call(again.access_token, OPEN_MODEL);
    expect(limited.status).toBe(429);
    expect(limited.json.error?.type).toBe('rate_limit_error');
  }, 30_000);

  it("applies the policy's monthly budget to the principal: 402 billing_error once spent", async () => {
    const dave = await signIn('dave');
    // Room for the call's worst case (a short prompt, max_tokens 20); its 1000-token prompt spends the budget.
    emulator.enqueue({ text: 'ok', usage: { inputTokens: 1000 } });
    expect((await call(dave.access_token, OPEN_MODEL)).status).toBe(200);
    await sleep(20);
    const refused = await call(dave.access_token, OPEN_MODEL);
    expect(refused.status).toBe(402);
    expect(refused.json.error?.type).toBe('billing_error');
    const principal = (await gateway.store.listPrincipals()).find((p) => p.email === 'dave@corp.example')!;
    expect(refused.json.error?.message).toContain(principal.id);
    // The usage records belong to the principal too.
    await sleep(1_500);
    const usage = await gateway.store.listUsage({ since: '2000-01-01T00:00:00.000Z', keyId: principal.id });
    expect(usage.length).toBeGreaterThanOrEqual(1);
  });

  it('serves the managed settings of the policy with its checksum, 304 when unchanged, 404 without', async () => {
    const alice = await signIn('alice');
    const res = await fetch(`${url}/managed/settings`, {
      headers: { authorization: `Bearer ${alice.access_token}` },
    });
    expect(res.status).toBe(200);
    const document = (await res.json()) as { uuid: string; checksum: string; settings: unknown };
    expect(document.settings).toEqual(ML_SETTINGS);
    expect(document.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    const canonical =
      '{"availableModels":["sonnet"],"env":{"DISABLE_TELEMETRY":"1"},"permissions":{"deny":["WebFetch"]}}';
    expect(document.checksum).toBe(`sha256:${sha256Hex(canonical)}`);
    expect(document.checksum).toBe(settingsChecksum(ML_SETTINGS));
    const unchanged = await fetch(`${url}/managed/settings`, {
      headers: { authorization: `Bearer ${alice.access_token}`, 'if-none-match': `"${document.checksum}"` },
    });
    expect(unchanged.status).toBe(304);
    const bob = await signIn('bob');
    const none = await fetch(`${url}/managed/settings`, {
      headers: { authorization: `Bearer ${bob.access_token}` },
    });
    expect(none.status).toBe(404);
    const telemetry = await fetch(`${url}/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.access_token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(telemetry.status).toBe(200);
  });

  it('rotates refresh tokens; a reused one revokes the whole family with 401 invalid_grant', async () => {
    const first = await signIn('alice');
    const refreshed = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const second = refreshed.json as typeof first;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect((await call(second.access_token, CLAUDE)).status).toBe(200);
    clockAheadMs = 31_000; // past the grace period for retries
    const reused = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(reused.status).toBe(401);
    expect(reused.json.error).toBe('invalid_grant');
    // The family is gone: the newest refresh token and the access tokens of the session too.
    const after = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: second.refresh_token,
    });
    expect(after.status).toBe(401);
    const refused = await call(second.access_token, CLAUDE);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-should-retry')).toBe('false');
  });

  it('two refreshes with the same token at once (two Claude Code processes) both succeed; the session lives', async () => {
    const first = await signIn('alice');
    const refresh = () =>
      form('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    const [a, b] = await Promise.all([refresh(), refresh()]);
    expect([a.status, b.status], JSON.stringify([a.json, b.json])).toEqual([200, 200]);
    // Both get the same pair: no second branch of the family exists.
    expect(b.json.refresh_token).toBe(a.json.refresh_token);
    expect(b.json.access_token).toBe(a.json.access_token);
    // A retry a few seconds later (a lost response) gets it again.
    clockAheadMs = 10_000;
    const retry = await refresh();
    expect(retry.status).toBe(200);
    expect(retry.json.refresh_token).toBe(a.json.refresh_token);
    expect((retry.json.expires_in as number) > 3500).toBe(true);
    expect((await call(a.json.access_token as string, CLAUDE)).status).toBe(200);
    const next = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: a.json.refresh_token as string,
    });
    expect(next.status, JSON.stringify(next.json)).toBe(200);
    expect((await call(next.json.access_token as string, CLAUDE)).status).toBe(200);
    // Still within its grace, the first token is now two rotations old: that is reuse, the family ends.
    expect((await refresh()).status).toBe(401);
    expect((await call(next.json.access_token as string, CLAUDE)).status).toBe(401);
  });

  it('re-reads groups from the IdP on refresh: a move to another group changes the policy', async () => {
    const carol = await signIn('carol');
    expect((await call(carol.access_token, CLAUDE)).status).toBe(403);
    idp.users.set('carol', { email: 'carol@corp.example', groups: ['ml'] });
    const refreshed = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: carol.refresh_token,
    });
    expect(refreshed.status, JSON.stringify(refreshed.json)).toBe(200);
    expect((await call(refreshed.json.access_token, CLAUDE)).status).toBe(200);
  });

  it('revokes an access token or a refresh token (RFC 7009); unknown tokens are fine', async () => {
    const alice = await signIn('alice');
    expect((await form('/oauth/revoke', { token: alice.access_token })).status).toBe(200);
    expect((await call(alice.access_token, CLAUDE)).status).toBe(401);
    expect(
      (await form('/oauth/revoke', { token: alice.refresh_token, token_type_hint: 'refresh_token' })).status,
    ).toBe(200);
    const refresh = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: alice.refresh_token,
    });
    expect(refresh.status).toBe(401);
    expect((await form('/oauth/revoke', { token: 'abpt_unknown' })).status).toBe(200);
  });

  it('answers an expired token with 401 authentication_error and x-should-retry: false', async () => {
    // A live session whose access token's hour is over (written as the gateway would have).
    await signIn('alice');
    const principal = (await gateway.store.listPrincipals()).find((p) => p.email === 'alice@corp.example')!;
    const secret = `abpt_${'E'.repeat(43)}`;
    const past = new Date(Date.now() - 1000).toISOString();
    const session = {
      id: 'ses_expired',
      principalId: principal.id,
      createdAt: past,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await gateway.store.createSession(session, [
      {
        hash: sha256Hex(secret),
        kind: 'access',
        sessionId: session.id,
        principalId: principal.id,
        createdAt: past,
        expiresAt: past,
      },
    ]);
    const res = await call(secret, CLAUDE);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const garbage = await call('abpt_nope', CLAUDE);
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('x-should-retry')).toBe('false');
  });

  it('refuses a disabled principal at once: requests, refresh and a new sign-in', async () => {
    const bob = await signIn('bob');
    const principal = (await gateway.store.listPrincipals()).find((p) => p.email === 'bob@corp.example')!;
    expect(await gateway.store.setPrincipalDisabled(principal.id, new Date().toISOString())).toBe(true);
    const refused = await call(bob.access_token);
    expect(refused.status).toBe(401);
    expect(refused.json.error?.message).toMatch(/disabled/);
    expect(
      (await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: bob.refresh_token })).status,
    ).toBe(401);
    const grant = await deviceAuthorization();
    const page = await browserSignIn(grant.verification_uri_complete, 'bob');
    expect(page.res.status).toBe(403);
    expect((await poll(grant.device_code)).json.error).toBe('access_denied');
    await gateway.store.setPrincipalDisabled(principal.id, undefined);
  });

  it('keeps the master key and static keys working beside sign-in; /managed/settings needs a token', async () => {
    const res = await fetch(`${url}/managed/settings`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect((await call('test-master-key', OPEN_MODEL, 'x-api-key')).status).toBe(200);
  });
});

describe('an IdP outage', () => {
  // After every other sign-in: this stops the IdP.
  it('answers a refresh with 503 temporarily_unavailable and keeps the session', async () => {
    const alice = await signIn('alice');
    await idp.stop();
    const refresh = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: alice.refresh_token,
    });
    expect(refresh.status).toBe(503);
    expect(refresh.json.error).toBe('temporarily_unavailable');
    expect((await call(alice.access_token, CLAUDE)).status).toBe(200);
    // The refresh token was not spent: it is not reuse when the client tries again later.
    const token = await gateway.store.findToken(sha256Hex(alice.refresh_token));
    expect(token?.usedAt).toBeUndefined();
  });
});

// Last: it leaves this address locked out of the device page for the rest of the window.
describe('the device page', () => {
  it('protects the device form with a CSRF token and limits wrong codes per address', async () => {
    const grant = await deviceAuthorization();
    const forged = await browse(new CookieJar(), `${url}/device`, {
      user_code: grant.user_code,
      csrf: 'guess',
    });
    expect(forged.res.status).toBe(403);
    const page = await browse(new CookieJar(), grant.verification_uri_complete);
    expect(page.res.headers.getSetCookie()[0]).toMatch(/HttpOnly; SameSite=Strict/);
    let last = 0;
    for (let i = 0; i < 11; i++)
      last = (await browse(new CookieJar(), `${url}/device?user_code=BBBB-BBBB`)).res.status;
    expect(last).toBe(429);
    // Even a right code is refused from that address until the window ends.
    expect((await browse(new CookieJar(), grant.verification_uri_complete)).res.status).toBe(429);
  });
});
