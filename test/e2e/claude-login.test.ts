/**
 * The real Claude Code CLI signs in through the gateway's `/login` headlessly, as a person would:
 * managed settings (forceLoginMethod: gateway) from a private mount namespace (`unshare -m`, a copy of
 * /etc bind-mounted over it, so the machine's /etc is untouched), a temporary HOME, BROWSER set to a
 * script that records the URL (the browser step is then scripted over HTTP), and tmux keys through the
 * onboarding, gateway, trust and account prompts. Then `claude -p` works with the token, the policy's
 * managed settings arrive, and moving `expiresAt` near makes Claude Code refresh.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parsePolicies } from '../../src/signin/policies.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { browserSignIn, signInSettings, startIdp, type TestIdp } from '../signin/idp.ts';
import { claudeBinary } from './harness.ts';

const binary = claudeBinary();
const dir = mkdtempSync(join(tmpdir(), 'abproxy-claude-login-'));
const socket = join(dir, 'tmux.sock');
const home = join(dir, 'home');
const urlFile = join(dir, 'browser-url');
let emulator: Emulator;
let idp: TestIdp;
let gateway: RunningServer;
const requests: string[] = [];

const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-t', 'cc', '-p', '-S', '-200');
const keys = (...k: string[]) => tmux('send-keys', '-t', 'cc', ...k);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(text: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const shown = screen();
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() - started > timeoutMs) throw new Error(`never saw ${String(text)} on screen:\n${shown}`);
    await sleep(300);
  }
}

beforeAll(async () => {
  if (!binary) throw new Error('the Claude Code binary is not installed (npm @anthropic-ai/claude-code)');
  emulator = await startBedrockEmulator();
  idp = await startIdp({ alice: { email: 'alice@corp.example', groups: ['ml'] } });
  gateway = await startServer(
    testConfig({
      ...signInSettings(idp),
      policies: parsePolicies({
        policies: [
          { name: 'ml', groups: ['ml'], models: ['claude-*'], settings: { env: { ABP_POLICY: 'ml' } } },
        ],
      }),
    }),
    { signIn: { pollIntervalS: 1 } },
  );
  gateway.server.on('request', (req) => requests.push(`${req.method} ${req.url?.split('?')[0]}`));
  idp.register(`${gateway.url}/oauth/callback`);

  const etc = join(dir, 'etc');
  cpSync('/etc', etc, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(etc, 'claude-code'), { recursive: true });
  writeFileSync(
    join(etc, 'claude-code/managed-settings.json'),
    JSON.stringify({ forceLoginMethod: 'gateway', forceLoginGatewayUrl: gateway.url }),
  );
  const browser = join(dir, 'browser.sh');
  writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${urlFile}'\n`);
  chmodSync(browser, 0o755);
  const workspace = join(dir, 'ws');
  mkdirSync(workspace);
  execFileSync('git', ['init', '-q'], { cwd: workspace });
  const envFile = join(dir, 'env');
  writeFileSync(
    envFile,
    [
      `export HOME='${home}'`,
      'export IS_SANDBOX=1',
      `export BROWSER='${browser}'`,
      `export PATH='${dirname(binary)}':$PATH`,
      'unset ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN ANTHROPIC_BASE_URL',
      `cd '${workspace}'`,
      "PS1='$ '",
    ].join('\n'),
  );
  // The tmux server started inside the namespace keeps it (and the bind mount) for its panes.
  execFileSync('unshare', [
    '-m',
    '--propagation',
    'private',
    'bash',
    '-c',
    `mount --bind '${etc}' /etc && exec tmux -S '${socket}' new-session -d -s cc -x 150 -y 45 "bash --rcfile '${envFile}' -i"`,
  ]);
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {}
  await gateway?.close();
  await idp?.stop();
  await emulator?.close();
});

it('Claude Code signs in with /login through the gateway, uses and refreshes the token', async () => {
  const exe = binary!.split('/').at(-1)!;
  keys(exe, 'Enter');
  await waitFor('Choose the text style');
  keys('Enter');
  await waitFor('Cloud gateway');
  keys('Enter');
  await waitFor('Trust gateway');
  keys('Up');
  await sleep(300);
  keys('Enter');
  // Claude Code opened the device page through BROWSER; the person signs in.
  const started = Date.now();
  let link = '';
  while (!link) {
    if (Date.now() - started > 30_000) throw new Error(`BROWSER was never called:\n${screen()}`);
    await sleep(200);
    try {
      link = readFileSync(urlFile, 'utf8').trim();
    } catch {}
  }
  expect(link).toMatch(new RegExp(`^${gateway.url}/device\\?user_code=`));
  const page = await browserSignIn(link, 'alice');
  expect(page.res.status, page.body).toBe(200);
  await waitFor('Signed in to Cloud gateway as alice@corp.example');
  keys('Up');
  await sleep(300);
  keys('Enter');
  await waitFor('Connected to Cloud gateway');

  const credentials = () => JSON.parse(readFileSync(join(home, '.claude/.credentials.json'), 'utf8'));
  const signedIn = credentials().enterpriseGateway;
  expect(signedIn).toMatchObject({ url: gateway.url, email: 'alice@corp.example' });
  expect(signedIn.jwt).toMatch(/^abpt_/);
  expect(requests).toEqual(
    expect.arrayContaining([
      'GET /.well-known/oauth-authorization-server',
      'POST /oauth/device_authorization',
      'GET /oauth/callback',
      'POST /oauth/token',
    ]),
  );

  // Print mode with the stored token; the access token is about to expire, so Claude Code refreshes first.
  keys('C-c');
  await sleep(500);
  keys('C-c');
  await sleep(1_000);
  const file = credentials();
  file.enterpriseGateway.expiresAt = Date.now() + 60_000;
  writeFileSync(join(home, '.claude/.credentials.json'), JSON.stringify(file));
  requests.length = 0;
  keys('clear', 'Enter');
  keys(`${exe} -p 'say hi' --model claude-sonnet-4-6; echo "EXIT=$?"`, 'Enter');
  await waitFor(/EXIT=\d+/, 90_000);
  expect(screen()).toContain('EXIT=0');
  const refreshed = credentials().enterpriseGateway;
  expect(refreshed.jwt).not.toBe(signedIn.jwt);
  expect(refreshed.expiresAt).toBeGreaterThan(Date.now() + 30 * 60_000);
  expect(requests).toContain('POST /oauth/token');
  expect(requests).toContain('POST /v1/messages');
  expect(requests.some((r) => r === 'GET /managed/settings')).toBe(true);
}, 240_000);
