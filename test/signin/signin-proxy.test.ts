/**
 * Sign-in behind an outbound proxy: the gateway's own calls to the company IdP (discovery, the code
 * exchange, refreshes) go through HTTPS_PROXY / HTTP_PROXY as its Bedrock calls do, so an IdP outside the
 * company network is reachable. The proxy is a real one (test/fakes/connect-proxy.ts); Bedrock is named
 * in NO_PROXY, so every call the proxy forwards is the IdP's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type ConnectProxy, startConnectProxy } from '../fakes/connect-proxy.ts';
import { answerText, type Emulator, hiBody, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { deviceSignIn, signInSettings, startIdp, type TestIdp } from './idp.ts';

let emulator: Emulator;
let idp: TestIdp;
let proxy: ConnectProxy;
let gateway: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  idp = await startIdp({ alice: { email: 'alice@corp.example', groups: ['ml'] } });
  proxy = await startConnectProxy();
  process.env.HTTP_PROXY = proxy.url;
  process.env.NO_PROXY = [emulator.url, emulator.mantleUrl].map((u) => new URL(u).host).join(',');
  gateway = await startServer(
    testConfig({
      ...signInSettings(idp),
      oidcAllowedDomains: ['corp.example'],
    }),
    { signIn: { pollIntervalS: 1 } },
  );
  idp.register(`${gateway.url}/oauth/callback`);
});

afterAll(async () => {
  delete process.env.HTTP_PROXY;
  delete process.env.NO_PROXY;
  await gateway?.close();
  await proxy?.close();
  await idp?.stop();
  await emulator?.close();
});

describe('sign-in behind an outbound proxy', () => {
  it("reaches the IdP through the proxy, and the signed-in person's token works", async () => {
    const token = await deviceSignIn(gateway.url, 'alice');
    // Discovery and the code exchange: the gateway's calls to the IdP, through the proxy.
    expect(proxy.forwarded.get(new URL(idp.issuer).host) ?? 0).toBeGreaterThanOrEqual(2);

    emulator.enqueue({ text: 'hello alice' });
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token.access_token}`,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: hiBody('qwen.qwen3-coder-480b-a35b-v1:0', false),
    });
    expect(await answerText(res, false)).toBe('hello alice');
  });
});
