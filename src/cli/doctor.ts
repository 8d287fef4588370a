/**
 * `abproxy doctor [--json] [--deep]`: checks what the gateway and `abproxy claude` need — Node, config,
 * region, AWS credentials, Bedrock's control plane and model access, storage, the port, the `claude`
 * binary — and says how to fix each failure. Exit 1 when any check fails (warnings do not fail).
 * Each check is a small async function returning data; printing is separate (collect, then print).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Config, ENV_NAMES, type SettingName, weakSigningSecretWarning } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import { loosePermissions, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../config/private-files.ts';
import { DEAD_LETTER_FILE } from '../usage/spool.ts';
import { spoolDir } from '../usage/spool-dir.ts';
import {
  checkBedrock,
  checkCredentials,
  checkInvoke,
  checkMantle,
  checkModels,
  checkProxy,
  checkUpstreams,
  usesDefaultChain,
} from './doctor-bedrock.ts';
import { type Check, type CheckStatus, type Env, TIMEOUT_MS, withTimeout } from './doctor-check.ts';
import { CliExit, EXIT } from './errors.ts';
import { findRunningGateway } from './gateway-state.ts';
import { describeAwsError } from './store-options.ts';

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

export interface DoctorFlags {
  json?: boolean;
  deep?: boolean;
  model?: string;
  region?: string;
  port?: string;
  config?: string;
}

function sourceOf(config: Config, key: SettingName, env: Env): string {
  const source = config.sources[key];
  if (source !== 'env') return source;
  return ENV_NAMES[key].find((n) => env[n]) ?? 'env';
}

export function checkNode(version = process.versions.node): Check {
  const major = Number(version.split('.')[0]);
  return major >= 22
    ? { name: 'node', status: 'ok', detail: `v${version}` }
    : {
        name: 'node',
        status: 'fail',
        detail: `v${version} is too old`,
        hint: 'install Node.js 24 LTS (>= 22)',
      };
}

export async function checkStorage(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    mkdirSync(config.home, { recursive: true, mode: 0o700 });
    const probe = join(config.home, `.doctor-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
    checks.push({ name: 'home', status: 'ok', detail: `${config.home} is writable` });
  } catch (err) {
    checks.push({
      name: 'home',
      status: 'fail',
      detail: `${config.home}: ${(err as Error).message}`,
      hint: 'set ABPROXY_HOME to a writable directory',
    });
    return checks;
  }
  let open: typeof import('../store/open.ts') | undefined;
  try {
    open = await import('../store/open.ts');
  } catch {
    return checks; // built without a key store
  }
  const where =
    config.mode === 'solo' ? open.sqlitePath(config) : `DynamoDB ${config.tablePrefix}-* in ${config.region}`;
  try {
    const store = await open.openStore(config);
    try {
      // The tables serve checks at start (one missing or foreign, it refuses to run): not only the keys'.
      const problems = await withTimeout(
        store.tableProblems?.() ?? Promise.resolve([]),
        TIMEOUT_MS,
        'the store',
      );
      if (problems.length > 0) {
        checks.push({
          name: 'store',
          status: 'fail',
          detail: `${config.mode}: ${where}: ${problems.join('; ')}`,
          hint: `run \`abproxy tables setup --table-prefix ${config.tablePrefix} --region ${config.region}\``,
        });
        return checks;
      }
      // Tables there and readable, yet serve may be refused every key lookup or counter (IAM).
      const refused = await withTimeout(
        store.accessProblems?.({ signin: config.oidcIssuer !== undefined }) ?? Promise.resolve([]),
        TIMEOUT_MS,
        'the store',
      );
      if (refused.length > 0) {
        checks.push({
          name: 'store',
          status: 'fail',
          detail: `${config.mode}: ${where}: the gateway may not call ${refused.join('; ')}`,
          hint: 'allow these actions on the abproxy tables to the role `serve` runs with',
        });
        return checks;
      }
      const hasKeys = await withTimeout(store.hasKeys(), TIMEOUT_MS, 'the store');
      checks.push({
        name: 'store',
        status: 'ok',
        detail: `${config.mode}: ${where}${hasKeys ? '' : ' (no keys yet)'}`,
      });
    } finally {
      await store.close();
    }
  } catch (err) {
    // Unreachable, denied or without credentials, DynamoDB needs another fix than `tables setup`.
    const explained = config.mode === 'team' ? describeAwsError(err, config) : undefined;
    checks.push({
      name: 'store',
      status: 'fail',
      detail: `${config.mode}: ${where}: ${explained ?? (err as Error).message}`,
      hint:
        config.mode === 'team'
          ? explained === undefined
            ? 'run `abproxy tables setup` (and check DynamoDB permissions)'
            : undefined
          : 'check the database file and its directory',
    });
  }
  return checks;
}

/** A path as a shell word: `'…'` with inner quotes escaped. */
function shellWord(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * ABPROXY_HOME, its spool and the SQLite files (wherever ABPROXY_DB puts them) must be owner-only:
 * they hold the signing secret, key hashes, usage and logs. Looser modes (an install from before
 * 0700/0600, or a copy) are a warning with the chmod that fixes them.
 */
export function checkFileModes(config: Pick<Config, 'home' | 'mode' | 'dbFile'>): Check {
  const db = config.mode === 'solo' ? (config.dbFile ?? join(config.home, 'abproxy.db')) : undefined;
  const files = db ? [db, `${db}-wal`, `${db}-shm`] : [];
  const loose = loosePermissions([config.home, spoolDir(config)], files);
  if (loose.length === 0) {
    return { name: 'permissions', status: 'ok', detail: `${config.home} and its files are owner-only` };
  }
  const dirs = loose.filter((p) => p.kind === 'dir').map((p) => shellWord(p.path));
  const plain = loose.filter((p) => p.kind === 'file').map((p) => shellWord(p.path));
  const fixes = [
    dirs.length > 0 ? `chmod ${PRIVATE_DIR_MODE.toString(8)} ${dirs.join(' ')}` : '',
    plain.length > 0 ? `chmod ${PRIVATE_FILE_MODE.toString(8)} ${plain.join(' ')}` : '',
  ].filter((fix) => fix !== '');
  return {
    name: 'permissions',
    status: 'warn',
    detail: `readable by others: ${loose.map((p) => `${p.path} (${p.mode.toString(8)})`).join(', ')}`,
    hint: fixes.join(' && '),
  };
}

/**
 * Usage records the store refused for good wait in the spool's dead-letter file (see usage/spool.ts):
 * they are requests nobody has billed yet, so their presence is worth a warning.
 */
export function checkDeadLetters(config: Pick<Config, 'home'>): Check | undefined {
  const file = join(spoolDir(config), DEAD_LETTER_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const records = text.split('\n').filter((line) => line.trim() !== '').length;
  if (records === 0) return undefined;
  return {
    name: 'usage',
    status: 'warn',
    detail: `${records} usage record(s) the store refused are set aside in ${file}`,
    hint: 'each line says why; fix the record and store it again, then remove the file',
  };
}

function portFree(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen(port, host, () => server.close(() => resolve(null)));
  });
}

async function checkPort(config: Config): Promise<Check> {
  const running = await findRunningGateway(config.home);
  const err = await portFree(config.host, config.port);
  if (!err) {
    return {
      name: 'port',
      status: 'ok',
      detail: `${config.host}:${config.port} is free${running ? `; a gateway also runs at ${running.url}` : ''}`,
    };
  }
  if (running && new URL(running.url).port === String(config.port)) {
    return {
      name: 'port',
      status: 'ok',
      detail: `abproxy is running at ${running.url} (pid ${running.pid})`,
    };
  }
  return {
    name: 'port',
    status: 'warn',
    detail: `${config.host}:${config.port}: ${err.code === 'EADDRINUSE' ? 'in use by another program' : err.message}`,
    hint: 'choose another port: abproxy serve --port N, ABPROXY_PORT, or abproxy config set port N',
  };
}

async function checkClaude(env: Env): Promise<Check> {
  const { findClaude, INSTALL_HINT } = await import('./claude.ts');
  const bin = findClaude(undefined, env);
  if (!bin) return { name: 'claude', status: 'warn', detail: "'claude' is not on PATH", hint: INSTALL_HINT };
  const version = await new Promise<string | Error>((resolve) => {
    execFile(
      bin,
      ['--version'],
      { timeout: TIMEOUT_MS, env: { ...env, DISABLE_AUTOUPDATER: '1' } },
      (err, stdout) => resolve(err ?? stdout.trim().split('\n')[0] ?? ''),
    );
  });
  if (version instanceof Error) {
    return {
      name: 'claude',
      status: 'warn',
      detail: `${bin} --version failed: ${version.message}`,
      hint: INSTALL_HINT,
    };
  }
  return { name: 'claude', status: 'ok', detail: `${version} (${bin})` };
}

export async function collectDoctor(flags: DoctorFlags, env: Env = process.env): Promise<DoctorReport> {
  const checks: Check[] = [checkNode()];
  // Each mistake is reported, and the other settings still apply to the checks below (the bad ones
  // keep their defaults): one bad value must not send doctor to the wrong home, region and port.
  const mistakes: string[] = [];
  const config: Config = loadConfig({
    flags: { region: flags.region, port: flags.port },
    configFile: flags.config,
    env,
    onMistake: (message) => mistakes.push(message),
  });
  const file = flags.config ?? join(config.home, 'config.json');
  checks.push(
    mistakes.length > 0
      ? {
          name: 'config',
          status: 'fail',
          detail: mistakes.join('; '),
          hint: 'fix it with `abproxy config set` or edit the file (the checks below use the default instead)',
        }
      : {
          name: 'config',
          status: 'ok',
          detail: existsSync(file) ? file : `${file} (none yet; defaults apply)`,
        },
  );
  const weakSecret = weakSigningSecretWarning(config);
  if (weakSecret) {
    checks.push({
      name: 'signing secret',
      status: 'warn',
      detail: weakSecret,
      hint: 'abproxy config set ABPROXY_SIGNING_SECRET "$(openssl rand -base64 32)" (every instance of a team the same)',
    });
  }
  const regionSource = sourceOf(config, 'region', env);
  checks.push(
    regionSource === 'default'
      ? {
          name: 'region',
          status: 'warn',
          detail: `no region configured; using ${config.region}`,
          hint: 'set AWS_REGION, or abproxy config set region <region>',
        }
      : { name: 'region', status: 'ok', detail: `${config.region} (${regionSource})` },
  );
  checks.push(checkProxy(config, env));
  let credentials = await checkCredentials(env);
  if (credentials.status === 'fail' && !usesDefaultChain(config)) {
    credentials = {
      name: 'credentials',
      status: 'skip',
      detail: 'not used: every upstream of ABPROXY_UPSTREAMS has its own credentials (checked below)',
    };
  }
  checks.push(credentials);
  if (credentials.status === 'fail') {
    checks.push({ name: 'bedrock', status: 'skip', detail: 'needs credentials' });
  } else {
    const { check, snapshot } = await checkBedrock(config, env);
    checks.push(check);
    if (snapshot) {
      checks.push(await checkModels(snapshot, config));
      checks.push(await checkMantle(snapshot, config, env));
      if (flags.deep) checks.push(await checkInvoke(snapshot, config, env, flags.model));
    }
  }
  checks.push(...(await checkUpstreams(config, env)));
  checks.push(...(await (await import('./doctor-web.ts')).checkWebTools(config)));
  checks.push(...(await checkStorage(config)));
  checks.push(checkFileModes(config));
  const deadLetters = checkDeadLetters(config);
  if (deadLetters) checks.push(deadLetters);
  checks.push(await checkPort(config));
  checks.push(await checkClaude(env));
  const { checkClaudeApiKey, checkClaudeOnboarding } = await import('./doctor-claude.ts');
  checks.push(await checkClaudeOnboarding(env), checkClaudeApiKey(env));
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.flatMap((c) => [
    `${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`,
    ...(c.hint && c.status !== 'ok' ? [`${' '.repeat(6 + width + 2)}fix: ${c.hint}`] : []),
  ]);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  lines.push('', failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  return `${lines.join('\n')}\n`;
}

export function registerDoctor(program: Command, io: { stdout: (text: string) => void; env: Env }): void {
  program
    .command('doctor')
    .description('check credentials, region, Bedrock access, storage, the port and the claude binary')
    .option('--json', 'print the checks as JSON')
    .option('--deep', 'also make one tiny model call (proves model access; costs a few tokens)')
    .option('--model <model>', 'model for --deep (default: the newest Claude Haiku)')
    .option('--region <region>', 'AWS region for Bedrock')
    .option('-p, --port <port>', 'port the gateway should listen on')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (flags: DoctorFlags) => {
      const report = await collectDoctor(flags, io.env);
      io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      if (!report.ok) throw new CliExit(EXIT.failure);
    });
}
