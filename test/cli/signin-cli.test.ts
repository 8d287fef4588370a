/**
 * `abproxy login`, `token`, `logout` and `principals` as people and scripts run them: child processes
 * against a gateway with sign-in, a real OpenID provider, and a BROWSER script that records the URL.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parsePolicies } from '../../src/signin/policies.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { browserSignIn, signInSettings, startIdp, type TestIdp } from '../signin/idp.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/abproxy.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let emulator: Emulator;
let idp: TestIdp;
let gateway: RunningServer;
const dir = mkdtempSync(join(tmpdir(), 'abproxy-signin-cli-'));
const home = join(dir, 'home');
const dbFile = join(dir, 'gateway.db');
const urlFile = join(dir, 'browser-url');
const browser = join(dir, 'browser.sh');

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    ABPROXY_HOME: home,
    ABPROXY_DB: dbFile,
    LOG_LEVEL: 'error',
    BROWSER: browser,
    ...extra,
  };
}

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: env(), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** `abproxy login`, with the person's browser step done when the BROWSER script has been called. */
async function login(person: string): Promise<Result> {
  const child = spawn(process.execPath, [bin, 'login', '--gateway', gateway.url], { env: env() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const started = Date.now();
  while (!existsSync(urlFile) || readFileSync(urlFile, 'utf8').trim() === '') {
    if (Date.now() - started > 30_000) throw new Error(`BROWSER never called: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const link = readFileSync(urlFile, 'utf8').trim();
  writeFileSync(urlFile, '');
  const page = await browserSignIn(link, person);
  expect(page.res.status, page.body).toBe(200);
  return { code: await exited, stdout, stderr };
}

const credentials = () => JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8'));

function ask(token: string) {
  return fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
}

beforeAll(async () => {
  writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${urlFile}'\n`);
  chmodSync(browser, 0o755);
  emulator = await startBedrockEmulator();
  idp = await startIdp({ alice: { email: 'alice@corp.example', groups: ['ml'] } });
  gateway = await startServer(
    testConfig({
      dbFile,
      ...signInSettings(idp),
      policies: parsePolicies({ policies: [{ name: 'ml', groups: ['ml'], models: ['claude-*'] }] }),
    }),
    { signIn: { pollIntervalS: 1 } },
  );
  idp.register(`${gateway.url}/oauth/callback`);
});

afterAll(async () => {
  await gateway?.close();
  await idp?.stop();
  await emulator?.close();
});

describe('abproxy login and token', () => {
  it('signs in through the browser, stores the tokens 0600, and token refreshes near expiry', async () => {
    const result = await login('alice');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${gateway.url}/device?user_code=`);
    expect(result.stdout).toContain(`Signed in to ${gateway.url} as alice@corp.example`);
    expect(statSync(join(home, 'credentials.json')).mode & 0o777).toBe(0o600);
    const stored = credentials()[gateway.url];
    expect(stored.accessToken).toMatch(/^abpt_/);

    const token = await cli(['token', '--gateway', gateway.url]);
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toBe(stored.accessToken);
    expect((await ask(token.stdout.trim())).status).toBe(200);

    // Four minutes left: `token` refreshes, stores the rotated pair, and the new token works.
    const file = credentials();
    file[gateway.url].expiresAt = new Date(Date.now() + 4 * 60_000).toISOString();
    writeFileSync(join(home, 'credentials.json'), JSON.stringify(file), { mode: 0o600 });
    const fresh = await cli(['token', '--gateway', gateway.url]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout.trim()).not.toBe(stored.accessToken);
    expect(credentials()[gateway.url].refreshToken).not.toBe(stored.refreshToken);
    expect((await ask(fresh.stdout.trim())).status).toBe(200);
  }, 60_000);

  it('says what to do when not signed in (exit 1, JSON under --json)', async () => {
    const result = await cli(['token', '--gateway', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not signed in to http:\/\/127\.0\.0\.1:9: run abproxy login/);
    const bad = await cli(['token', '--gateway', 'not a url']);
    expect(bad.code).toBe(2);
  });
});

describe('abproxy principals', () => {
  it('abproxy claude --gateway gives Claude Code an apiKeyHelper whose token the gateway takes', async () => {
    // A stand-in for claude: runs the apiKeyHelper from --settings as Claude Code does, then calls the
    // gateway with the token, and reports what it was given.
    const fake = join(dir, 'fake-claude.mjs');
    writeFileSync(
      fake,
      `#!${process.execPath}
import { execSync } from 'node:child_process';
const settings = JSON.parse(process.argv[process.argv.indexOf('--settings') + 1]);
const token = execSync(settings.apiKeyHelper, { encoding: 'utf8' }).trim();
const res = await fetch(process.env.ANTHROPIC_BASE_URL + '/v1/models', { headers: { 'x-api-key': token } });
console.log(JSON.stringify({
  base: process.env.ANTHROPIC_BASE_URL,
  status: res.status,
  token: token.slice(0, 5),
  apiKey: process.env.ANTHROPIC_API_KEY ?? null,
  authToken: process.env.ANTHROPIC_AUTH_TOKEN ?? null,
  args: process.argv.slice(2).filter((a) => a !== '--settings' && !a.startsWith('{')),
}));
`,
    );
    chmodSync(fake, 0o755);
    const run = await cli([
      'claude',
      '--gateway',
      gateway.url,
      '--claude-bin',
      fake,
      '--no-onboarding-fix',
      '-p',
      'hi',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(seen).toEqual({
      base: gateway.url,
      status: 200,
      token: 'abpt_',
      apiKey: null,
      authToken: null,
      args: ['-p', 'hi'],
    });

    const notSignedIn = await cli(['claude', '--gateway', 'http://127.0.0.1:9', '--claude-bin', fake]);
    expect(notSignedIn.code).toBe(1);
    expect(notSignedIn.stderr).toContain('abproxy login --gateway http://127.0.0.1:9');
  }, 60_000);

  it('lists principals, shows them in keys list, and disable cuts a person off at once', async () => {
    const listed = await cli(['principals', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{
      id: string;
      email: string;
      policy: string;
      status: string;
    }>;
    const alice = rows.find((row) => row.email === 'alice@corp.example')!;
    expect(alice).toMatchObject({ policy: 'ml', status: 'active', groups: ['ml'] });
    const keys = await cli(['keys', 'list', '--plain']);
    expect(keys.stdout).toContain('alice@corp.example');

    const token = (await cli(['token', '--gateway', gateway.url])).stdout.trim();
    expect((await ask(token)).status).toBe(200);
    const disabled = await cli(['principals', 'disable', 'Alice@corp.example', '--json']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id: alice.id, status: 'disabled' });
    expect((await ask(token)).status).toBe(401);
    const missing = await cli(['principals', 'disable', 'nobody@corp.example', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.message).toMatch(/no principal/);
    const enabled = await cli(['principals', 'enable', alice.id]);
    expect(enabled.stdout).toContain(`enabled ${alice.id}`);
    expect((await ask(token)).status).toBe(200);

    // Usage belongs to the principal; `usage` names them by email and takes an email for --key.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const usage = await cli(['usage', '--key', 'alice@corp.example', '--json']);
    expect(usage.code, usage.stderr).toBe(0);
    const report = JSON.parse(usage.stdout);
    expect(report.principals).toEqual({ [alice.id]: 'alice@corp.example' });
    expect(report.groups.map((g: { group: string }) => g.group)).toEqual([alice.id]);
    expect((await cli(['usage', '--plain'])).stdout).toContain(`${alice.id} (alice@corp.example)`);
  }, 60_000);

  it('logout revokes the tokens at the gateway and forgets them', async () => {
    const token = (await cli(['token', '--gateway', gateway.url])).stdout.trim();
    const out = await cli(['logout', '--gateway', gateway.url, '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ gateway: gateway.url, signed_out: true });
    expect((await ask(token)).status).toBe(401);
    expect(credentials()[gateway.url]).toBeUndefined();
    const again = await cli(['logout', '--gateway', gateway.url, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ gateway: gateway.url, signed_out: false });
  });
});

describe('abproxy login against a gateway that lies', () => {
  /** A "gateway" whose device endpoint answers `grant` and whose token endpoint answers nonsense. */
  async function lyingGateway(grant: Record<string, unknown>) {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      // No discovery document (500): the CLI falls back to the gateway's own /oauth/* paths.
      if (req.url?.startsWith('/.well-known/')) res.writeHead(500).end();
      else if (req.url === '/oauth/device_authorization')
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(grant));
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
  }
  const hostileCode =
    'ABCD\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUvc2g=\u0007\u001b[2K\r\u001b[32mSigned in.\u001b[0m';

  it('refuses a sign-in link that is not a web address, and opens nothing', async () => {
    const { server, url } = await lyingGateway({
      device_code: 'd',
      user_code: 'ABCD',
      verification_uri: 'file:///etc/passwd',
      expires_in: 5,
      interval: 1,
    });
    try {
      const out = await cli(['login', '--gateway', url]);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/sign-in link that is not a web address \(file:\)/);
      expect(existsSync(urlFile) && readFileSync(urlFile, 'utf8').includes('file:')).toBe(false);
    } finally {
      server.close();
    }
  });

  it("shows the gateway's user code and errors with their escape sequences defused", async () => {
    const { server, url } = await lyingGateway({
      device_code: 'd',
      user_code: hostileCode,
      verification_uri: `http://127.0.0.1:1/device?x=\u001b[2J`,
      expires_in: 5,
      interval: 1,
    });
    try {
      const out = await cli(['login', '--gateway', url]);
      expect(out.code).toBe(1); // the token endpoint's nonsense
      expect(out.stderr).toMatch(/check that it shows the code ABCD/);
      for (const control of ['\u001b', '\u0007', '\r']) expect(out.stderr).not.toContain(control);
    } finally {
      server.close();
    }
  });
});
