/**
 * Team mode: two gateway instances on the same DynamoDB Local tables. A sign-in started and finished on
 * one instance is polled, used, refreshed and revoked on the other.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parsePolicies } from '../../src/signin/policies.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';
import { browse, browserSignIn, CookieJar, postForm, signInSettings, startIdp, type TestIdp } from './idp.ts';

const PREFIX = 'signin';
let emulator: Emulator;
let local: DynamoLocal;
let idp: TestIdp;
let first: RunningServer;
let second: RunningServer;
/** How far the instances' sign-in clocks run ahead of the real one. */
let clockAheadMs = 0;

beforeAll(async () => {
  [emulator, local, idp] = await Promise.all([
    startBedrockEmulator(),
    startDynamoLocal(),
    startIdp({ alice: { email: 'alice@corp.example', groups: ['ml'] } }),
  ]);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = local.endpoint;
  const client = local.client();
  await setupTables(client, tableSchemas(PREFIX));
  client.destroy();
  const config = () =>
    testConfig({
      mode: 'team',
      tablePrefix: PREFIX,
      keyCacheMs: 0,
      ...signInSettings(idp),
      policies: parsePolicies({ policies: [{ name: 'ml', groups: ['ml'], models: ['claude-*'] }] }),
    });
  const signIn = { pollIntervalS: 1, now: () => Date.now() + clockAheadMs };
  first = await startServer(config(), { signIn });
  second = await startServer(config(), { signIn });
  idp.register(`${first.url}/oauth/callback`);
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await idp?.stop();
  await local?.stop();
  await emulator?.close();
});

const ask = (base: string, token: string) =>
  fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': token, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });

it('a sign-in on one instance works on another: poll, use, refresh, reuse detection', async () => {
  const grant = (await postForm(first.url, '/oauth/device_authorization', { surface: 'claude_code' })).json;
  expect(
    (
      await postForm(second.url, '/oauth/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: grant.device_code,
      })
    ).json.error,
  ).toBe('authorization_pending');
  const page = await browserSignIn(grant.verification_uri_complete, 'alice');
  expect(page.res.status, page.body).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const token = await postForm(second.url, '/oauth/token', {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code: grant.device_code,
  });
  expect(token.status, JSON.stringify(token.json)).toBe(200);
  expect((await ask(second.url, token.json.access_token)).status).toBe(200);
  expect((await ask(first.url, token.json.access_token)).status).toBe(200);

  const refreshed = await postForm(second.url, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: token.json.refresh_token,
  });
  expect(refreshed.status).toBe(200);
  expect((await ask(first.url, refreshed.json.access_token)).status).toBe(200);
  // A retry on the other instance within the grace period gets the same pair.
  const retried = await postForm(first.url, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: token.json.refresh_token,
  });
  expect(retried.status, JSON.stringify(retried.json)).toBe(200);
  expect(retried.json.refresh_token).toBe(refreshed.json.refresh_token);
  clockAheadMs = 31_000;
  const reused = await postForm(first.url, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: token.json.refresh_token,
  });
  expect(reused.status).toBe(401);
  expect(reused.json.error).toBe('invalid_grant');
  expect((await ask(second.url, refreshed.json.access_token)).status).toBe(401);

  const principals = await first.store.listPrincipals();
  expect(principals.map((p) => [p.email, p.policy])).toEqual([['alice@corp.example', 'ml']]);
}, 60_000);

// Last: it leaves this address locked out of the device page for the rest of the window.
it('wrong codes count on the shared table from either instance: after 10 even a right code is refused; a right one writes nothing', async () => {
  const client = local.client();
  const failureCounters = async () =>
    ((await client.send(new ScanCommand({ TableName: `${PREFIX}-limits` }))).Items ?? []).filter((item) =>
      item.name?.S?.startsWith('signin-code-failures:'),
    );
  try {
    const grant = (await postForm(first.url, '/oauth/device_authorization', { surface: 'claude_code' })).json;
    const right = new URL(grant.verification_uri_complete);
    const open = async (base: string, search: string) =>
      (await browse(new CookieJar(), `${base}/device${search}`)).res.status;
    expect(await open(first.url, right.search)).toBe(200);
    expect(await open(second.url, right.search)).toBe(200);
    // Checking a right code is a read: no counter was written for it.
    expect(await failureCounters()).toEqual([]);
    for (let i = 0; i < 10; i++)
      expect(await open(i % 2 ? first.url : second.url, '?user_code=BBBB-BBBB')).toBe(400);
    expect(await open(first.url, right.search)).toBe(429);
    expect(await open(second.url, right.search)).toBe(429);
    expect(await open(second.url, '?user_code=BBBB-BBBB')).toBe(429);
  } finally {
    client.destroy();
  }
});
