/**
 * Sign-in when the IdP gives no refresh token (scopes without offline_access): the gateway cannot ask
 * the IdP again, so its sessions end after SESSION_WITHOUT_IDP_REFRESH_TTL_MS and the operator is warned
 * once. The gateway's sign-in clock is moved forward instead of waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type Emulator, hiBody, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { capturedLog, type LogLine } from '../helpers/log.ts';
import { deviceSignIn, postForm, signInSettings, startIdp, type TestIdp } from './idp.ts';

let emulator: Emulator;
let idp: TestIdp;
let gateway: RunningServer;
let lines: LogLine[];
let clockAheadMs = 0;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  idp = await startIdp({ alice: { email: 'alice@corp.example', groups: ['ml'] } });
  const log = capturedLog();
  lines = log.lines;
  gateway = await startServer(
    testConfig({
      ...signInSettings(idp),
      oidcScopes: 'openid email profile',
    }),
    { logger: log.logger, signIn: { pollIntervalS: 1, now: () => Date.now() + clockAheadMs } },
  );
  idp.register(`${gateway.url}/oauth/callback`);
});

afterAll(async () => {
  await gateway?.close();
  await idp?.stop();
  await emulator?.close();
});

const form = (path: string, fields: Record<string, string>) => postForm(gateway.url, path, fields);

const call = (token: string) =>
  fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      authorization: `Bearer ${token}`,
    },
    body: hiBody('claude-sonnet-4-6', false),
  });

const signIn = () => deviceSignIn(gateway.url, 'alice');

const noRefreshWarnings = () => lines.filter((l) => l.level === 40 && /no refresh token/.test(l.msg));

describe('an IdP that gives no refresh token', () => {
  it('ends the session after 12 hours (refresh refused, access token expired) and warns once', async () => {
    const first = await signIn();
    expect((await call(first.access_token)).status).toBe(200);
    // Within the cap, refreshes work as usual.
    clockAheadMs = 11.5 * 3_600_000;
    const refreshed = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(refreshed.status, JSON.stringify(refreshed.json)).toBe(200);
    // Its access token ends with the session, not an hour later.
    expect(refreshed.json.expires_in).toBeLessThanOrEqual(1800);
    clockAheadMs = 12 * 3_600_000 + 1000;
    const refused = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: refreshed.json.refresh_token as string,
    });
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_grant');
    expect((await call(refreshed.json.access_token as string)).status).toBe(401);
    expect(noRefreshWarnings()).toHaveLength(1);
    expect(noRefreshWarnings()[0]!.msg).toContain('12 hours');
    clockAheadMs = 0;
    await signIn();
    expect(noRefreshWarnings()).toHaveLength(1);
  });
});
