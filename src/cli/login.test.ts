import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCredentials, writeCredentials } from './credentials.ts';
import { forgetSignIn, gatewayUrl, validAccessToken } from './login.ts';

describe('--gateway', () => {
  const config = { publicUrl: undefined, port: 8080 };
  it('takes an http(s) URL, without its trailing slash', () => {
    expect(gatewayUrl({ gateway: 'https://gw.corp.example/' }, config)).toBe('https://gw.corp.example');
    expect(gatewayUrl({}, config)).toBe('http://127.0.0.1:8080');
  });
  it('refuses anything else as a usage error (exit 2), not as a gateway that cannot be reached', () => {
    for (const gateway of ['notaurl', 'ftp://gw.corp.example', 'file:///etc/passwd', 'gw.corp.example:443']) {
      expect(() => gatewayUrl({ gateway }, config), gateway).toThrow(
        expect.objectContaining({
          exitCode: 2,
          message: expect.stringMatching(/^--gateway: expected an http/),
        }),
      );
    }
  });
});

describe('abproxy token', () => {
  it('refreshes once when several run at the same moment (apiKeyHelper of several Claude Code sessions)', async () => {
    // A token endpoint with the gateway's reuse detection: a refresh token presented twice ends the session.
    const used = new Set<string>();
    let refreshes = 0;
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const presented = new URLSearchParams(body).get('refresh_token') ?? '';
      refreshes++;
      const reused = used.has(presented);
      used.add(presented);
      // Slow enough that every caller has read the file before the first answer comes back.
      await new Promise((resolve) => setTimeout(resolve, 100));
      res.writeHead(reused ? 401 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          reused
            ? { error: 'invalid_grant' }
            : { access_token: `abpt_${refreshes}`, refresh_token: `abpr_${refreshes}`, expires_in: 3600 },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const home = mkdtempSync(join(tmpdir(), 'abproxy-token-'));
    try {
      writeCredentials(home, {
        [gateway]: {
          tokenEndpoint: `${gateway}/oauth/token`,
          accessToken: 'abpt_old',
          refreshToken: 'abpr_old',
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
      });
      const tokens = await Promise.all(Array.from({ length: 4 }, () => validAccessToken(home, gateway)));
      expect(tokens).toEqual(['abpt_1', 'abpt_1', 'abpt_1', 'abpt_1']);
      expect(refreshes).toBe(1);
      expect(readCredentials(home)[gateway]?.refreshToken).toBe('abpr_1');
    } finally {
      server.close();
    }
  });
});

describe('abproxy token when the gateway cannot refresh just now', () => {
  it('keeps the sign-in on a 503 (an IdP outage) and uses it once the gateway answers again', async () => {
    let down = true;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(down ? 503 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          down
            ? {
                error: 'temporarily_unavailable',
                error_description: 'the identity provider cannot be reached',
              }
            : { access_token: 'abpt_new', refresh_token: 'abpr_new', expires_in: 3600 },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const home = mkdtempSync(join(tmpdir(), 'abproxy-token-'));
    const signIn = (expiresInMs: number) =>
      writeCredentials(home, {
        [gateway]: {
          tokenEndpoint: `${gateway}/oauth/token`,
          accessToken: 'abpt_old',
          refreshToken: 'abpr_old',
          expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
        },
      });
    try {
      // Still valid for a minute: that token serves while the refresh cannot happen.
      signIn(60_000);
      expect(await validAccessToken(home, gateway)).toBe('abpt_old');
      // Expired: a clear error, but the sign-in stays for the next try.
      signIn(-60_000);
      await expect(validAccessToken(home, gateway)).rejects.toThrow(/try again/);
      expect(readCredentials(home)[gateway]?.refreshToken).toBe('abpr_old');
      down = false;
      expect(await validAccessToken(home, gateway)).toBe('abpt_new');
    } finally {
      server.close();
    }
  });
});

describe('abproxy logout', () => {
  it('during a refresh: the tokens stay forgotten (the refresh does not write new ones back after it)', async () => {
    const server = createServer(async (req, res) => {
      for await (const _ of req);
      // The refresh is slow, the revocation quick: without the lock the refresh's write lands last.
      if (req.url === '/oauth/token') await new Promise((resolve) => setTimeout(resolve, 150));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        req.url === '/oauth/token'
          ? JSON.stringify({ access_token: 'abpt_new', refresh_token: 'abpr_new', expires_in: 3600 })
          : '{}',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const home = mkdtempSync(join(tmpdir(), 'abproxy-logout-'));
    try {
      writeCredentials(home, {
        [gateway]: {
          tokenEndpoint: `${gateway}/oauth/token`,
          revocationEndpoint: `${gateway}/oauth/revoke`,
          accessToken: 'abpt_old',
          refreshToken: 'abpr_old',
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
      });
      const refreshing = validAccessToken(home, gateway);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const [, signedOut] = await Promise.all([refreshing, forgetSignIn(home, gateway)]);
      expect(signedOut).toBe(true);
      expect(readCredentials(home)[gateway]).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
