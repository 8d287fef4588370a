/**
 * `abproxy login` and `abproxy token`: the gateway's device sign-in from a terminal, for everything
 * that is not Claude Code's own `/login` (SDKs, scripts, Claude Code's `apiKeyHelper`). `login` prints
 * the URL and code (and opens a browser when there is one), polls the token endpoint and stores the
 * tokens 0600; `token` prints a valid access token, refreshing it when it expires within 5 minutes.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { Config } from '../config/config.ts';
import {
  credentialsPath,
  type GatewayCredentials,
  readCredentials,
  writeCredentials,
} from './credentials.ts';
import { CliError, EXIT } from './errors.ts';
import { underFileLock } from './file-lock.ts';
import { adminConfig } from './store-options.ts';

export interface LoginIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
  sleep?: (ms: number) => Promise<void>;
}

interface GatewayFlags {
  gateway?: string;
  config?: string;
  json?: boolean;
}

const REFRESH_BEFORE_MS = 5 * 60_000;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** An http(s) URL from the command line, without its trailing slash; anything else is a usage error. */
export function httpUrl(flag: string, raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {}
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new CliError(`${flag}: expected an http(s) URL, got ${JSON.stringify(raw)}`, EXIT.usage);
  }
  return url.href.replace(/\/+$/, '');
}

/** `--gateway`, else the configured public URL, else this machine's gateway on its port. */
export function gatewayUrl(flags: GatewayFlags, config: Pick<Config, 'publicUrl' | 'port'>): string {
  return httpUrl('--gateway', flags.gateway ?? config.publicUrl ?? `http://127.0.0.1:${config.port}`);
}

async function postForm(url: string, fields: Record<string, string>) {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(fields).toString(),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new CliError(`${url} answered ${res.status} with something that is not JSON`);
  }
  return { status: res.status, json };
}

interface Endpoints {
  device: string;
  token: string;
  revocation: string;
}

async function discover(gateway: string): Promise<Endpoints> {
  const fallback = {
    device: `${gateway}/oauth/device_authorization`,
    token: `${gateway}/oauth/token`,
    revocation: `${gateway}/oauth/revoke`,
  };
  try {
    const res = await fetch(`${gateway}/.well-known/oauth-authorization-server`);
    if (res.status === 404)
      throw new CliError(`${gateway} has no sign-in (ask its admin to set ABPROXY_OIDC_ISSUER)`);
    if (!res.ok) return fallback;
    const meta = (await res.json()) as Record<string, unknown>;
    // Only endpoints on the gateway's own origin are followed.
    const same = (value: unknown, other: string) =>
      typeof value === 'string' && new URL(value).origin === new URL(gateway).origin ? value : other;
    return {
      device: same(meta.device_authorization_endpoint, fallback.device),
      token: same(meta.token_endpoint, fallback.token),
      revocation: same(meta.revocation_endpoint, fallback.revocation),
    };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot reach ${gateway}: ${(err as Error).message}`);
  }
}

/** `$BROWSER`, else the desktop's opener when there is a display; nothing on a headless machine. */
function openBrowser(url: string, env: NodeJS.ProcessEnv): boolean {
  const command =
    env.BROWSER ||
    (process.platform === 'darwin' ? 'open' : env.DISPLAY || env.WAYLAND_DISPLAY ? 'xdg-open' : undefined);
  if (!command) return false;
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true, env });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

function stored(endpoints: Endpoints, json: Record<string, unknown>, now: number): GatewayCredentials {
  if (typeof json.access_token !== 'string' || typeof json.expires_in !== 'number') {
    throw new CliError('the gateway answered a token response without access_token or expires_in');
  }
  return {
    tokenEndpoint: endpoints.token,
    revocationEndpoint: endpoints.revocation,
    accessToken: json.access_token,
    ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}),
    expiresAt: new Date(now + json.expires_in * 1000).toISOString(),
    ...(typeof json.email === 'string' ? { email: json.email } : {}),
  };
}

/**
 * The sign-in page the gateway names, as a web address: it is handed to the system's opener, which
 * would as readily open `file:///…` or another program's URL scheme for a spoofed gateway.
 */
function signInLink(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError('the gateway answered a sign-in link that is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CliError(`the gateway answered a sign-in link that is not a web address (${url.protocol})`);
  return url.href;
}

async function login(flags: GatewayFlags, io: LoginIo): Promise<void> {
  const config = adminConfig({ config: flags.config });
  const gateway = gatewayUrl(flags, config);
  const sleep = io.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const endpoints = await discover(gateway);
  const started = await postForm(endpoints.device, { surface: 'abproxy_cli' });
  const grant = started.json as {
    device_code?: string;
    user_code?: string;
    verification_uri?: string;
    verification_uri_complete?: string;
    expires_in?: number;
    interval?: number;
  };
  if (started.status !== 200 || !grant.device_code || !grant.verification_uri) {
    throw new CliError(`${endpoints.device} answered ${started.status}: ${JSON.stringify(started.json)}`);
  }
  const link = signInLink(grant.verification_uri_complete ?? grant.verification_uri);
  io.stderr(`To sign in, open ${link}`);
  io.stderr(`and check that it shows the code ${grant.user_code ?? ''}`);
  if (openBrowser(link, io.env)) io.stderr('(a browser was opened)');
  let interval = (grant.interval ?? 5) * 1000;
  const deadline = Date.now() + (grant.expires_in ?? 600) * 1000;
  while (Date.now() < deadline) {
    await sleep(interval);
    const polled = await postForm(endpoints.token, {
      grant_type: DEVICE_GRANT,
      device_code: grant.device_code,
    });
    if (polled.status === 200) {
      const credentials = stored(endpoints, polled.json, Date.now());
      // Under the lock a refresh holds: its write would otherwise drop this one (or this one its).
      await underFileLock(credentialsPath(config.home), "'abproxy token'", () => {
        const file = readCredentials(config.home);
        file[gateway] = credentials;
        writeCredentials(config.home, file);
      });
      if (flags.json)
        io.stdout(
          JSON.stringify({ gateway, email: credentials.email ?? null, expires_at: credentials.expiresAt }),
        );
      else io.stdout(`Signed in to ${gateway}${credentials.email ? ` as ${credentials.email}` : ''}.`);
      return;
    }
    const error = polled.json.error;
    if (error === 'authorization_pending') continue;
    if (error === 'slow_down') {
      interval += 5000;
      continue;
    }
    if (error === 'access_denied')
      throw new CliError('the sign-in was refused (see the browser page for why)');
    if (error === 'expired_token') break;
    throw new CliError(
      `sign-in failed: ${String(error ?? polled.status)} ${String(polled.json.error_description ?? '')}`,
    );
  }
  throw new CliError('the code expired before the sign-in finished; run abproxy login again');
}

const notSignedIn = (gateway: string) =>
  new CliError(`not signed in to ${gateway}: run abproxy login --gateway ${gateway}`);

/** A valid access token for the gateway, refreshed (and stored) when it expires within 5 minutes. */
export async function validAccessToken(home: string, gateway: string, now = Date.now()): Promise<string> {
  const current = readCredentials(home)[gateway];
  if (!current) throw notSignedIn(gateway);
  if (Date.parse(current.expiresAt) - now > REFRESH_BEFORE_MS) return current.accessToken;
  // One refresh at a time: Claude Code sessions call `abproxy token` (apiKeyHelper) at the same moment,
  // and a refresh token presented twice makes the gateway end the whole sign-in. The file is read
  // again under the lock: another process may have refreshed it meanwhile.
  return underFileLock(credentialsPath(home), "'abproxy token'", () =>
    refreshedAccessToken(home, gateway, now),
  );
}

async function refreshedAccessToken(home: string, gateway: string, now: number): Promise<string> {
  const file = readCredentials(home);
  const credentials = file[gateway];
  if (!credentials) throw notSignedIn(gateway);
  if (Date.parse(credentials.expiresAt) - now > REFRESH_BEFORE_MS) return credentials.accessToken;
  if (!credentials.refreshToken) {
    throw new CliError(`the sign-in to ${gateway} has expired: run abproxy login --gateway ${gateway}`);
  }
  const refreshed = await postForm(credentials.tokenEndpoint, {
    grant_type: 'refresh_token',
    refresh_token: credentials.refreshToken,
  });
  if (refreshed.status === 429 || refreshed.status >= 500) {
    // The gateway keeps the sign-in through an IdP outage (503) and asks to try again: so do we, and
    // the access token serves while it is still valid.
    if (Date.parse(credentials.expiresAt) > now) return credentials.accessToken;
    throw new CliError(
      `the gateway could not refresh the sign-in to ${gateway} just now (${String(refreshed.json.error ?? refreshed.status)}); try again in a moment`,
    );
  }
  if (refreshed.status !== 200) {
    delete file[gateway];
    writeCredentials(home, file);
    throw new CliError(
      `the sign-in to ${gateway} has ended (${String(refreshed.json.error ?? refreshed.status)}): run abproxy login --gateway ${gateway}`,
    );
  }
  const next = stored(
    { device: '', token: credentials.tokenEndpoint, revocation: credentials.revocationEndpoint ?? '' },
    refreshed.json,
    now,
  );
  file[gateway] = {
    ...next,
    refreshToken: next.refreshToken ?? credentials.refreshToken,
    ...(credentials.email && !next.email ? { email: credentials.email } : {}),
  };
  writeCredentials(home, file);
  return next.accessToken;
}

async function token(flags: GatewayFlags, io: LoginIo): Promise<void> {
  const config = adminConfig({ config: flags.config });
  io.stdout(await validAccessToken(config.home, gatewayUrl(flags, config)));
}

/**
 * Revokes the gateway's tokens (best effort) and forgets them; false when not signed in. Under the
 * credentials lock: a refresh running meanwhile (`abproxy token`) would otherwise write the tokens back
 * after they were forgotten, new ones the revocation never saw, and the person would still be signed in.
 */
export async function forgetSignIn(home: string, gateway: string): Promise<boolean> {
  return underFileLock(credentialsPath(home), "'abproxy token'", async () => {
    const file = readCredentials(home);
    const credentials = file[gateway];
    if (!credentials) return false;
    if (credentials.revocationEndpoint) {
      // Best effort: the local tokens go whatever the gateway says.
      await postForm(credentials.revocationEndpoint, { token: credentials.accessToken }).catch(
        () => undefined,
      );
      if (credentials.refreshToken) {
        await postForm(credentials.revocationEndpoint, {
          token: credentials.refreshToken,
          token_type_hint: 'refresh_token',
        }).catch(() => undefined);
      }
    }
    delete file[gateway];
    writeCredentials(home, file);
    return true;
  });
}

async function logout(flags: GatewayFlags, io: LoginIo): Promise<void> {
  const config = adminConfig({ config: flags.config });
  const gateway = gatewayUrl(flags, config);
  const signedOut = await forgetSignIn(config.home, gateway);
  if (flags.json) io.stdout(JSON.stringify({ gateway, signed_out: signedOut }));
  else io.stdout(signedOut ? `signed out of ${gateway}` : `not signed in to ${gateway}`);
}

export function registerLogin(program: Command, io: LoginIo): void {
  const gatewayOption = [
    '--gateway <url>',
    'the gateway (default: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)',
  ] as const;
  program
    .command('login')
    .description('sign in to a gateway with the company IdP (device flow); tokens kept in ABPROXY_HOME, 0600')
    .option(...gatewayOption)
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'print JSON')
    .action((flags: GatewayFlags) => login(flags, io));
  program
    .command('token')
    .description(
      "print a valid access token for the gateway, refreshing it if needed (for Claude Code's apiKeyHelper)",
    )
    .option(...gatewayOption)
    .option('-c, --config <file>', 'JSON config file')
    .action((flags: GatewayFlags) => token(flags, io));
  program
    .command('logout')
    .description('revoke and forget the tokens of a gateway')
    .option(...gatewayOption)
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'print JSON')
    .action((flags: GatewayFlags) => logout(flags, io));
}
