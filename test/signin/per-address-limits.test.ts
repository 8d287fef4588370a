/**
 * The per-address limits of the sign-in pages behind a load balancer (ABPROXY_TRUSTED_PROXIES=1): the
 * balancer is every caller's socket peer, so the limits count the address it appended to
 * X-Forwarded-For. One person's wrong guesses lock that person out, not everybody; what a client claims
 * further left in the header is not believed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { DEVICE_GRANTS_PER_WINDOW } from '../../src/signin/service.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { signInSettings, startIdp, type TestIdp } from './idp.ts';

let emulator: Emulator;
let idp: TestIdp;
let gateway: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  idp = await startIdp({ alice: { email: 'alice@corp.example', groups: [] } });
  gateway = await startServer(
    testConfig({
      ...signInSettings(idp),
      trustedProxies: 1,
    }),
  );
  idp.register(`${gateway.url}/oauth/callback`);
});
afterAll(async () => {
  await gateway?.close();
  await idp?.stop();
  await emulator?.close();
});

/** What the load balancer sends: the client's own claim (if any), then the address it saw. */
const via = (client: string, claimed?: string) => ({
  'x-forwarded-for': claimed ? `${claimed}, ${client}` : client,
});

const adminLogin = (client: string, key: string, claimed?: string) =>
  fetch(`${gateway.url}/admin/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: gateway.url, ...via(client, claimed) },
    body: JSON.stringify({ master_key: key }),
  });

const startSignIn = (client: string) =>
  fetch(`${gateway.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...via(client) },
    body: 'surface=claude_code',
  });

describe('behind one trusted load balancer', () => {
  it('locks out the address that guessed the master key wrong, not the others behind the balancer', async () => {
    let last = 0;
    for (let i = 0; i < 11; i++) {
      // Changing its own claim does not help the guesser: the balancer's entry is what counts.
      // Distinct guesses: the same wrong key again (a client retrying it) counts once.
      last = (await adminLogin('203.0.113.7', `wrong-${i}`, `198.51.100.${i}`)).status;
    }
    expect(last).toBe(429);
    expect((await adminLogin('203.0.113.7', MASTER_KEY)).status).toBe(429);
    const other = await adminLogin('203.0.113.8', MASTER_KEY);
    expect(other.status).toBe(200);
  });

  it('counts IPv6 callers by their /64', async () => {
    for (let i = 0; i < 11; i++) await adminLogin(`2001:db8:7:7::${i + 1}`, `wrong-${i}`);
    expect((await adminLogin('2001:db8:7:7::ffff', MASTER_KEY)).status).toBe(429);
    expect((await adminLogin('2001:db8:7:8::1', MASTER_KEY)).status).toBe(200);
  });

  it('limits the device sign-ins one address may start, in OAuth shape with retry-after', async () => {
    for (let i = 0; i < DEVICE_GRANTS_PER_WINDOW; i++) {
      const started = await startSignIn('203.0.113.20');
      expect(started.status).toBe(200);
      await started.body?.cancel();
    }
    const refused = await startSignIn('203.0.113.20');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: 'slow_down' });
    expect((await startSignIn('203.0.113.21')).status).toBe(200);
  });

  it("a web page's image or fetch of /device?user_code=… does not spend its viewers' wrong-code allowance", async () => {
    // Any page someone behind the office NAT opens could embed ten of these and shut the office out.
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${gateway.url}/device?user_code=BBBB-BBB${'BCDFGHJKLMNP'[i]}`, {
        headers: { ...via('203.0.113.30'), 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'image' },
      });
      await res.body?.cancel();
    }
    const grant = (await (await startSignIn('203.0.113.30')).json()) as { verification_uri_complete: string };
    const opened = await fetch(grant.verification_uri_complete, {
      headers: { ...via('203.0.113.30'), 'sec-fetch-site': 'none', 'sec-fetch-dest': 'document' },
    });
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('Check that your terminal shows this code');
  });
});
