/**
 * `abproxy admin [--url URL] [--print] [--json]`: the admin page of the running gateway, signed in by a one-time
 * link (5 minutes, single use). With a display (or $BROWSER) the link opens in the browser; on a headless
 * machine, or with --print, it is printed to open elsewhere (e.g. through an SSH tunnel).
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { LOGIN_TOKEN_TTL_MS, mintLoginToken } from '../admin/login-token.ts';
import { ConfigError } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import { resolveSigningSecret } from '../config/secret.ts';
import { CliError, EXIT } from './errors.ts';
import { findRunningGateway } from './gateway-state.ts';
import { httpUrl } from './login.ts';

type Env = Record<string, string | undefined>;

export interface AdminIo {
  stdout: (line: string) => void;
  env: Env;
  platform?: NodeJS.Platform;
  /** Starts the browser (tests replace it). */
  open?: (command: string, url: string) => void;
}

interface AdminFlags {
  url?: string;
  print?: boolean;
  json?: boolean;
  config?: string;
}

/** The command that opens a URL here, or undefined on a headless machine. */
export function browserCommand(env: Env, platform: NodeJS.Platform = process.platform): string | undefined {
  if (env.BROWSER) return env.BROWSER;
  if (platform === 'darwin') return 'open';
  if (platform === 'win32') return undefined;
  return env.DISPLAY || env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
}

function openDetached(command: string, url: string): void {
  const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
}

export async function admin(flags: AdminFlags, io: AdminIo): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: io.env, configFile: flags.config });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const base =
    flags.url !== undefined ? httpUrl('--url', flags.url) : (await findRunningGateway(config.home))?.url;
  if (!base) {
    throw new CliError(
      `no running gateway found in ${config.home}: start one with 'abproxy serve' or pass --url`,
    );
  }
  // The gateway checks the link with the same signing secret (settings, or ABPROXY_HOME/secret).
  // In the fragment: browsers never send it, so the token stays out of access logs and Referer headers;
  // the page posts it to /admin/api/login.
  const now = Date.now();
  const link = `${base}/admin#token=${mintLoginToken(await resolveSigningSecret(config), now)}`;
  if (flags.json) {
    io.stdout(JSON.stringify({ url: link, expires_at: new Date(now + LOGIN_TOKEN_TTL_MS).toISOString() }));
    return;
  }
  const command = flags.print ? undefined : browserCommand(io.env, io.platform);
  if (command) {
    (io.open ?? openDetached)(command, link);
    io.stdout(`opening ${base}/admin in the browser (${command})`);
    return;
  }
  io.stdout('Open this link within 5 minutes; it signs one browser in, once:');
  io.stdout(link);
}

export function registerAdmin(program: Command, io: AdminIo): void {
  program
    .command('admin')
    .description(
      'open the admin web page of the running gateway, signed in (prints a one-time link when headless)',
    )
    .option('--url <url>', 'the gateway (default: the one `abproxy serve` runs from this ABPROXY_HOME)')
    .option('--print', 'print the sign-in link instead of opening a browser')
    .option('--json', 'print the sign-in link as JSON ({url, expires_at}) instead of opening a browser')
    .option('-c, --config <file>', 'JSON config file')
    .action((flags: AdminFlags) => admin(flags, io));
}
