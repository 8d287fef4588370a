/**
 * `abproxy claude [--model M] [--small-model M] [-- <claude args>]`: Claude Code on Bedrock in one
 * command. Reuses the gateway `abproxy serve` left in the state file when it answers and accepts our key;
 * otherwise starts one in this process on a free loopback port (with a per-session key when no master key
 * is configured) and stops it when Claude Code exits. Claude Code runs with inherited stdio; signals are
 * passed on and its exit code becomes ours (a signal death is 128+n, as a shell reports it); if this
 * process is killed outright, Claude Code gets SIGTERM (parent-death.ts, Linux).
 *
 * The gateway (AWS SDK, pino) is imported only when this command runs, never for --help or --version.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, openSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { type Config, ConfigError, type Layer } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import { builtinSnapshot, isClaudeLike } from '../models/aliases.ts';
import { capabilitiesFor } from '../models/capabilities.ts';
import { resolveModel } from '../models/resolve.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { ListenError } from '../server/http/listen-error.ts';
import { markOnboardingComplete } from './claude-config-file.ts';
import { type CredentialSource, credentialRoute } from './claude-credentials.ts';
import { claudeEnv, type Env } from './claude-env.ts';
import { sessionsWrittenSince } from './claude-sessions.ts';
import { readCredentials } from './credentials.ts';
import { CliError, CliExit, EXIT } from './errors.ts';
import { findRunningGateway } from './gateway-state.ts';
import { gatewayUrl, validAccessToken } from './login.ts';
import { endingWithUs } from './parent-death.ts';

export interface ClaudeFlags {
  model?: string;
  smallModel?: string;
  port?: string;
  claudeBin?: string;
  region?: string;
  config?: string;
  /** false with --no-onboarding-fix: leave Claude Code's ~/.claude.json alone. */
  onboardingFix?: boolean;
  /** A gateway signed in to with `abproxy login` (no local gateway, no key). */
  gateway?: string;
  /** Claude Code in its Bedrock mode, through the gateway's Bedrock-format door. */
  bedrock?: boolean;
}

/**
 * In Bedrock mode Claude Code sends Claude's native body over InvokeModel, which only Claude models
 * take: a Claude alias, a Bedrock Claude id or profile, or an ARN (checked by Bedrock itself).
 */
export function bedrockModeServes(model: string): boolean {
  return isClaudeLike(model) || /(^|\.)anthropic\.claude/.test(model) || model.startsWith('arn:');
}

export const INSTALL_HINT = 'Install Claude Code with: npm install -g @anthropic-ai/claude-code';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The claude executable: --claude-bin (a path, or a name looked up on PATH), else `claude` on PATH. */
export function findClaude(explicit: string | undefined, env: Env, cwd = process.cwd()): string | undefined {
  const name = explicit ?? 'claude';
  if (explicit && (isAbsolute(name) || name.includes('/'))) {
    const path = resolve(cwd, name);
    return executable(path) ? path : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    if (executable(path)) return path;
  }
  return undefined;
}

/** Capabilities of a model name as the gateway would resolve it offline (built-in catalogue). */
function capsLookup(config: Config): (model: string) => ModelCapabilities | undefined {
  const snapshot = builtinSnapshot(config.region);
  return (model) => {
    try {
      return resolveModel(model, snapshot, { region: config.region, overrides: config.modelMap }).caps;
    } catch {
      return capabilitiesFor(model);
    }
  };
}

/** Whether a gateway takes `key` (GET /v1/models is authenticated like /v1/messages). */
async function acceptsKey(url: string, key: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/models?limit=1`, {
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      signal: AbortSignal.timeout(3000),
    });
    await res.body?.cancel();
    return res.status !== 401 && res.status !== 403;
  } catch {
    return false;
  }
}

interface Gateway {
  url: string;
  key: string;
  /** Stops the gateway when this command started it; nothing for a reused one. */
  stop(): Promise<void>;
}

/** Where Claude Code goes and how it proves who it is there. */
interface ClaudeGateway {
  url: string;
  credentials: CredentialSource;
  stop(): Promise<void>;
}

/**
 * The key to present: the master key when configured; else, once the user has keys, the stored
 * `abproxy-claude` key; else none (a local gateway without keys is open, and one started here gets a
 * per-session key that only this Claude Code knows).
 */
async function chooseKey(config: Config, stderr: (t: string) => void): Promise<string | undefined> {
  if (config.masterApiKey) return config.masterApiKey;
  try {
    const { claudeKey, CLAUDE_KEY_NAME } = await import('./claude-key.ts');
    const stored = await claudeKey(config);
    if (stored?.created) stderr(`abproxy: created key '${CLAUDE_KEY_NAME}' (${stored.id}) for Claude Code\n`);
    return stored?.secret;
  } catch (err) {
    stderr(`abproxy: the key store is unavailable (${(err as Error).message}); using a session key\n`);
    return undefined;
  }
}

async function startInProcess(config: Config, key: string | undefined, stderr: (t: string) => void) {
  const [{ startServer }, { createLogger }, { resolveSigningSecret }] = await Promise.all([
    import('../server/http/server.ts'),
    import('../server/http/logger.ts'),
    import('../config/secret.ts'),
  ]);
  const sessionKey = key ?? `abp_session_${randomBytes(24).toString('base64url')}`;
  const sessionConfig: Config = {
    ...config,
    masterApiKey: key === undefined ? sessionKey : config.masterApiKey,
    // Claude Code has exited by the time we stop: nothing worth waiting long for.
    shutdownTimeoutMs: Math.min(config.shutdownTimeoutMs, 2000),
  };
  // Logs go to a file: Claude Code owns the terminal.
  mkdirSync(config.home, { recursive: true, mode: 0o700 });
  const logFile = join(config.home, 'claude-gateway.log');
  const logger = createLogger(config.logLevel, config.apiKeyHeader, openSync(logFile, 'a', 0o600));
  try {
    // The signing secret of the configured gateway, not one derived from a session key.
    const server = await startServer(sessionConfig, {
      logger,
      signingSecret: await resolveSigningSecret(config),
    });
    return { url: server.url, key: sessionKey, stop: () => server.close() };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    // A taken --port is the user's to change, not a crash: no stack trace, no log to read.
    if (err instanceof ListenError) throw new CliError(`${err.message}; choose another --port, or none`);
    stderr(`abproxy: the gateway failed to start; see ${logFile}\n`);
    throw err;
  }
}

/**
 * A gateway started here without AWS credentials could answer nothing: Claude Code would open, and the
 * first message would end in a 502 telling the user to "ask the operator". Say it now, with the fix.
 * Upstreams (ABPROXY_UPSTREAMS) name their own credentials; a Bedrock API key needs none.
 */
async function assertAwsCredentials(config: Config): Promise<void> {
  if (config.bedrockApiKey || config.upstreams) return;
  const { checkCredentials } = await import('./doctor-bedrock.ts');
  const check = await checkCredentials(process.env);
  if (check.status === 'fail') {
    throw new CliError(
      `${check.detail}; the gateway for Claude Code needs them. Fix: ${check.hint}. \`abproxy doctor\` checks the whole set-up.`,
    );
  }
}

async function gatewayFor(config: Config, flags: ClaudeFlags, stderr: (t: string) => void): Promise<Gateway> {
  const key = await chooseKey(config, stderr);
  const running = await findRunningGateway(config.home);
  const samePort = flags.port === undefined || new URL(running?.url ?? 'http://x').port === flags.port;
  if (running && samePort) {
    const presented = key ?? 'abproxy-local';
    if (await acceptsKey(running.url, presented))
      return { url: running.url, key: presented, stop: async () => {} };
    stderr(`abproxy: the gateway at ${running.url} does not accept our key; starting a private one\n`);
  }
  await assertAwsCredentials(config);
  // Port 0 unless --port: a configured port belongs to `abproxy serve`.
  return startInProcess({ ...config, port: flags.port === undefined ? 0 : config.port }, key, stderr);
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs the child to its end, passing our signals on; resolves with a shell-style exit code. */
function runChild(child: ChildProcess, interactive: boolean): Promise<number> {
  const forward = (signal: NodeJS.Signals) => {
    // Ctrl-C on a terminal already reached the child (same process group): sending it again would
    // count as a second press, which makes Claude Code quit.
    if (signal === 'SIGINT' && interactive) return;
    child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return new Promise<number>((resolveCode, reject) => {
    child.once('error', (err) => {
      for (const signal of FORWARDED) process.off(signal, forward);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      resolveCode(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}

/** Claude Code's first-run onboarding would stop at api.anthropic.com: see claude-config-file.ts. */
function skipOnboarding(io: ClaudeIo): void {
  const fix = markOnboardingComplete(io.env, (path) =>
    io.stderr(
      `abproxy: setting hasCompletedOnboarding in ${path}, so Claude Code skips its first-run setup (it needs api.anthropic.com); --no-onboarding-fix to opt out\n`,
    ),
  );
  if (fix.outcome === 'skipped') {
    io.stderr(`abproxy: left ${fix.path} alone (${fix.reason}); Claude Code may show its first-run setup\n`);
  }
}

/**
 * Claude Code's last words on quitting are "Resume this session with: claude --resume <id>": plain
 * `claude` has no gateway and opens "Not logged in". Said right under them, so the user runs ours; only
 * when the run left a conversation (not after --version, mcp, doctor…), by its id when there is one.
 */
function resumeHint(env: Env, startedMs: number): string | undefined {
  const sessions = sessionsWrittenSince(env, startedMs);
  if (sessions.length === 0) return undefined;
  // Two: another Claude Code wrote one meanwhile; which is ours is unknown.
  const id = sessions.length === 1 ? sessions[0] : '<id>';
  return `abproxy: to resume through the gateway: abproxy claude --resume ${id} (or --continue), with the options you gave abproxy\n`;
}

function printMode(args: readonly string[]): boolean {
  return args.some((arg) => arg === '-p' || arg === '--print');
}

export interface ClaudeIo {
  stderr: (text: string) => void;
  env: Env;
}

export async function launchClaude(
  args: readonly string[],
  flags: ClaudeFlags,
  io: ClaudeIo,
): Promise<number> {
  const bin = findClaude(flags.claudeBin, io.env);
  if (!bin) {
    const what = flags.claudeBin
      ? `'${flags.claudeBin}' is not an executable file`
      : "'claude' is not on PATH";
    throw new CliError(`${what}. ${INSTALL_HINT}`);
  }
  const layer: Layer = { region: flags.region, port: flags.port };
  let config: Config;
  try {
    config = loadConfig({ flags: layer, configFile: flags.config, env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const model = flags.model ?? config.claudeModel;
  const smallModel = flags.smallModel ?? config.claudeSmallModel;
  if (flags.bedrock) {
    if (flags.gateway !== undefined) {
      throw new CliError(
        '--bedrock runs Claude Code with a gateway key; it cannot use a signed-in --gateway',
        EXIT.usage,
      );
    }
    for (const m of [model, smallModel]) {
      if (m !== undefined && !bedrockModeServes(m)) {
        throw new CliError(
          `--bedrock serves Claude models only (Claude Code sends Claude's own body over InvokeModel); '${m}' is not one. Drop --bedrock to run it through the Anthropic API door.`,
          EXIT.usage,
        );
      }
    }
  }
  const signedIn = flags.bedrock ? undefined : signedInGateway(flags, config);
  const gateway = signedIn
    ? await signInGateway(config.home, signedIn)
    : await keyGateway(config, flags, io.stderr);
  try {
    // Only now that Claude Code is about to start: a launch that fails before leaves its files alone.
    if (flags.onboardingFix !== false) skipOnboarding(io);
    const credentials = credentialRoute(gateway.credentials);
    const env = claudeEnv({
      base: io.env,
      gatewayUrl: gateway.url,
      credentials,
      model,
      smallModel,
      capsOf: capsLookup(config),
    });
    const startedMs = Date.now();
    const launch = endingWithUs(bin, [...credentials.args, ...args], io.env);
    const child = spawn(launch.command, launch.args, { stdio: 'inherit', env });
    const interactive = process.stdin.isTTY === true;
    const code = await runChild(child, interactive);
    const hint = interactive && code === 0 && !printMode(args) && resumeHint(io.env, startedMs);
    if (hint) io.stderr(hint);
    return code;
  } catch (err) {
    throw new CliError(`could not run ${bin}: ${(err as Error).message}`);
  } finally {
    await gateway.stop();
  }
}

/**
 * The gateway the user signed in to with `abproxy login`, when this launch goes there: `--gateway URL`,
 * or the configured public URL (ABPROXY_PUBLIC_URL) when there is a sign-in for it.
 */
function signedInGateway(flags: ClaudeFlags, config: Config): string | undefined {
  if (flags.gateway !== undefined) return gatewayUrl({ gateway: flags.gateway }, config);
  if (!config.publicUrl) return undefined;
  const url = gatewayUrl({}, config);
  return readCredentials(config.home)[url] ? url : undefined;
}

/** This abproxy as a shell command: the single binary itself, or Node running bin/abproxy.js. */
function abproxyCommand(): string[] {
  if (isSea()) return [process.execPath];
  return [process.execPath, fileURLToPath(new URL('../../bin/abproxy.js', import.meta.url))];
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A signed-in gateway: Claude Code asks `abproxy token` for a fresh access token whenever it needs one. */
async function signInGateway(home: string, url: string): Promise<ClaudeGateway> {
  // Fails now, with the fix (`abproxy login --gateway URL`), rather than inside Claude Code.
  await validAccessToken(home, url);
  const command = [...abproxyCommand(), 'token', '--gateway', url].map(shellQuote).join(' ');
  return { url, credentials: { kind: 'sign-in', command }, stop: async () => {} };
}

async function keyGateway(
  config: Config,
  flags: ClaudeFlags,
  stderr: (t: string) => void,
): Promise<ClaudeGateway> {
  const { url, key, stop } = await gatewayFor(config, flags, stderr);
  const credentials: CredentialSource = flags.bedrock
    ? { kind: 'bedrock-key', key, region: config.region }
    : { kind: 'gateway-key', key };
  return { url, credentials, stop };
}

export function registerClaude(program: Command, io: ClaudeIo): void {
  program
    .command('claude')
    .description('run Claude Code on Bedrock through the gateway (reuses a running one or starts its own)')
    .argument('[claude-args...]', 'arguments for claude (after --, or any option abproxy does not know)')
    .option('--model <model>', 'main model: a Claude name or a Bedrock model id (ANTHROPIC_MODEL)')
    .option('--small-model <model>', 'model for quick background tasks (ANTHROPIC_SMALL_FAST_MODEL)')
    .option('--port <port>', 'port of the gateway started for this session (default: a free one)')
    .option(
      '--gateway <url>',
      'a gateway you signed in to with `abproxy login` (its tokens via apiKeyHelper)',
    )
    .option('--bedrock', "Claude Code in its Bedrock mode, through the gateway's Bedrock-format door")
    .option('--claude-bin <path>', 'the claude executable (default: claude on PATH)')
    .option('--region <region>', 'AWS region for Bedrock')
    .option('-c, --config <file>', 'JSON config file')
    .option('--no-onboarding-fix', "leave Claude Code's ~/.claude.json alone (no hasCompletedOnboarding)")
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (claudeArgs: string[], flags: ClaudeFlags) => {
      const code = await launchClaude(claudeArgs, flags, io);
      if (code !== 0) throw new CliExit(code);
    });
}
