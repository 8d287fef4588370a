/**
 * GET /health proves the instance secret (the one `serve` keeps in gateway.json) without giving it away:
 * a well-formed nonce gets HMAC-SHA256(secret, nonce), anything else gets a plain 200.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provesSecret } from '../../src/cli/gateway-state.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { instanceProof } from '../../src/server/routes/health.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const SECRET = randomBytes(32).toString('base64url');
let emulator: Emulator;
let gateway: RunningServer;
let plain: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  gateway = await startServer(testConfig(), { instanceSecret: SECRET });
  plain = await startServer(testConfig());
});

afterAll(async () => {
  await gateway?.close();
  await plain?.close();
  await emulator?.close();
});

const health = (url: string, nonce?: string) =>
  fetch(`${url}/health`, { headers: nonce === undefined ? {} : { 'x-abproxy-challenge': nonce } });

describe('/health instance proof', () => {
  it('answers a nonce with its HMAC under the secret, and never the secret', async () => {
    const nonce = randomBytes(24).toString('base64url');
    const res = await health(gateway.url, nonce);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-abproxy-proof')).toBe(instanceProof(SECRET, nonce));
    const everything = JSON.stringify([...res.headers]) + (await res.text());
    expect(everything).not.toContain(SECRET);
    expect(await provesSecret(gateway.url, SECRET)).toBe(true);
  });

  it('gives no proof for a missing or malformed nonce, nor without a secret', async () => {
    for (const nonce of [undefined, '', 'short', 'x'.repeat(129), 'bad nonce with spaces!!']) {
      const res = await health(gateway.url, nonce);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-abproxy-proof'), String(nonce)).toBeNull();
    }
    expect(
      (await health(plain.url, randomBytes(24).toString('base64url'))).headers.get('x-abproxy-proof'),
    ).toBeNull();
    expect(await provesSecret(plain.url, SECRET)).toBe(false);
    expect(await provesSecret(gateway.url, `${SECRET}x`)).toBe(false);
  });
});
