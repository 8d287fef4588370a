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
import type { CatalogueSnapshot } from '../models/types.ts';
import { withDeadline } from '../upstream/abortable.ts';
import { runtimeOrigin } from '../upstream/endpoint.ts';
import {
  credentialChainProxyOptions,
  type ProxyEnv,
  proxyFor,
  proxySummary,
  readProxyEnv,
  sdkHandlerProxyOptions,
} from '../upstream/proxy.ts';
import { DEAD_LETTER_FILE } from '../usage/spool.ts';
import { spoolDir } from '../usage/spool-dir.ts';
import { CliExit, EXIT } from './errors.ts';
import { findRunningGateway } from './gateway-state.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it (warn/fail). */
  hint?: string;
}

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

type Env = Record<string, string | undefined>;

const TIMEOUT_MS = 10_000;

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  withDeadline(promise, ms, () => new Error(`${what} did not answer within ${ms / 1000} s`));

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

/** The control-plane endpoint a check called, its region, and the setting that chooses it. */
interface CalledEndpoint {
  region: string;
  endpoint: string;
  setting: string;
}

/** The gateway's own control plane (no ABPROXY_UPSTREAMS). */
function defaultEndpoint(config: Config, env: Env): CalledEndpoint {
  return {
    region: config.region,
    endpoint: env.AWS_ENDPOINT_URL_BEDROCK ?? `https://bedrock.${config.region}.amazonaws.com`,
    setting: 'AWS_ENDPOINT_URL_BEDROCK',
  };
}

function awsErrorHint(err: unknown, called: CalledEndpoint): { detail: string; hint: string } {
  const { name = 'Error', message = String(err) } = (err ?? {}) as { name?: string; message?: string };
  const detail = `${name}: ${message}`;
  const code =
    (err as { code?: string; cause?: { code?: string } })?.code ??
    (err as { cause?: { code?: string } })?.cause?.code;
  if (name === 'AccessDeniedException') {
    return {
      detail,
      hint: 'allow the IAM identity bedrock:ListFoundationModels, bedrock:ListInferenceProfiles, bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream',
    };
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException'].includes(name)) {
    return { detail, hint: 'the AWS credentials are invalid or expired: refresh them (e.g. aws sso login)' };
  }
  if (
    name === 'TimeoutError' ||
    /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET|did not answer/.test(`${code ?? ''} ${message}`)
  ) {
    return {
      detail,
      hint: `cannot reach ${called.endpoint}: check the network, proxy, region and ${called.setting}`,
    };
  }
  return { detail, hint: `check the region (${called.region}) and that Bedrock is available there` };
}

/**
 * Whether the gateway needs the default credential chain: without ABPROXY_UPSTREAMS, or for an upstream
 * on `default` or a role (assumed with the default chain's credentials). Profiles, keys and bearer
 * tokens do not.
 */
function usesDefaultChain(config: Config): boolean {
  return (
    config.upstreams === undefined ||
    config.upstreams.some((u) => u.credentials === 'default' || 'roleArn' in u.credentials)
  );
}

export async function checkCredentials(env: Env): Promise<Check> {
  if (env.AWS_BEARER_TOKEN_BEDROCK) {
    return { name: 'credentials', status: 'ok', detail: 'Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)' };
  }
  try {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    await withTimeout(
      fromNodeProviderChain(credentialChainProxyOptions(proxyEnvOrNone(env)))(),
      TIMEOUT_MS,
      'the AWS credential chain',
    );
    const where = env.AWS_ACCESS_KEY_ID
      ? 'environment'
      : env.AWS_PROFILE
        ? `profile ${env.AWS_PROFILE}`
        : 'default chain';
    return { name: 'credentials', status: 'ok', detail: `resolved (${where})` };
  } catch (err) {
    return {
      name: 'credentials',
      status: 'fail',
      detail: `no AWS credentials: ${(err as Error).message.split('\n')[0]}`,
      hint: 'run `aws configure` or `aws sso login`, set AWS_PROFILE, or set AWS_BEARER_TOKEN_BEDROCK to a Bedrock API key',
    };
  }
}

/** The proxy variables, or none when they are unusable (checkProxy reports that). */
function proxyEnvOrNone(env: Env): ProxyEnv {
  try {
    return readProxyEnv(env);
  } catch {
    return readProxyEnv({});
  }
}

/**
 * The outbound proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY) the gateway's Bedrock calls go through, if
 * any: shown without its credentials; a proxy URL it cannot use, or the HTTP/2 transport behind one,
 * fails as `serve` would.
 */
export function checkProxy(config: Config, env: Env): Check {
  let proxies: ProxyEnv;
  try {
    proxies = readProxyEnv(env);
  } catch (err) {
    return {
      name: 'proxy',
      status: 'fail',
      detail: (err as Error).message,
      hint: 'set HTTPS_PROXY to http://[user:password@]host:port',
    };
  }
  const origin = runtimeOrigin(config.region, undefined, env);
  let summary: string | undefined;
  try {
    summary = proxySummary(proxies, origin);
  } catch {
    summary = undefined;
  }
  if (summary === undefined) {
    return {
      name: 'proxy',
      status: 'ok',
      detail: 'none (HTTPS_PROXY and HTTP_PROXY unset): Bedrock directly',
    };
  }
  if (config.upstreamHttp === '2' && proxyFor(proxies, origin)) {
    return {
      name: 'proxy',
      status: 'fail',
      detail: `${summary}, but ABPROXY_UPSTREAM_HTTP=2 cannot go through a proxy`,
      hint: 'use ABPROXY_UPSTREAM_HTTP=1.1 (the default), or add the Bedrock hosts to NO_PROXY',
    };
  }
  return { name: 'proxy', status: 'ok', detail: summary };
}

/**
 * Bedrock's control plane where `serve` reads its catalogue: the region's (AWS_ENDPOINT_URL_BEDROCK), or
 * with ABPROXY_UPSTREAMS the first upstream's, through its own endpoint and credentials (serve never
 * calls the default endpoint then: checking it failed doctor for a pool reachable only by its endpoints).
 */
async function checkBedrock(
  config: Config,
  env: Env,
): Promise<{ check: Check; snapshot?: CatalogueSnapshot }> {
  const { Catalogue } = await import('../models/catalogue.ts');
  let failure: unknown;
  const onError = (err: unknown) => {
    failure = err;
  };
  let called = defaultEndpoint(config, env);
  let where = config.region;
  let catalogue: InstanceType<typeof Catalogue>;
  let set: { destroy(): void } | undefined;
  if (config.upstreams) {
    const upstreams = (await import('../upstream/upstream-set.ts')).createUpstreams(config);
    set = upstreams;
    const { name, region, spec, control } = upstreams.each[0]!;
    called = upstreamEndpoint(config, env, name, region, spec.controlEndpoint);
    where = `${region} (upstream ${name})`;
    catalogue = new Catalogue({ region, clientFor: control, onError });
  } else {
    catalogue = new Catalogue({
      region: config.region,
      clientConfig: { maxAttempts: 1, requestHandler: sdkHandlerProxyOptions(proxyEnvOrNone(env)) },
      onError,
    });
  }
  try {
    const snapshot = await withTimeout(catalogue.refresh(), TIMEOUT_MS, 'Bedrock');
    if (snapshot.source === 'live') {
      return {
        check: {
          name: 'bedrock',
          status: 'ok',
          detail: `${snapshot.models.length} foundation models, ${snapshot.profiles.length} inference profiles in ${where}`,
        },
        snapshot,
      };
    }
  } catch (err) {
    failure = err;
  } finally {
    set?.destroy();
  }
  const { detail, hint } = awsErrorHint(failure, called);
  return { check: { name: 'bedrock', status: 'fail', detail, hint } };
}

/** An upstream's control plane: its own `controlEndpoint`, else the region's as the SDK picks it. */
function upstreamEndpoint(
  config: Config,
  env: Env,
  name: string,
  region: string,
  controlEndpoint: string | undefined,
): CalledEndpoint {
  return controlEndpoint
    ? { region, endpoint: controlEndpoint, setting: `ABPROXY_UPSTREAMS (${name}).controlEndpoint` }
    : { ...defaultEndpoint({ ...config, region }, env), region };
}

/** With `ABPROXY_UPSTREAMS`: each upstream's credentials and catalogue, through its own endpoint. */
async function checkUpstreams(config: Config, env: Env): Promise<Check[]> {
  if (!config.upstreams) return [];
  const { Catalogue } = await import('../models/catalogue.ts');
  const { createUpstreams } = await import('../upstream/upstream-set.ts');
  const upstreams = createUpstreams(config);
  try {
    return await Promise.all(
      upstreams.each.map(async ({ name, region, spec, control }): Promise<Check> => {
        let failure: unknown;
        const catalogue = new Catalogue({
          region,
          clientFor: control,
          onError: (err) => {
            failure = err;
          },
        });
        try {
          const snapshot = await withTimeout(catalogue.refresh(), TIMEOUT_MS, `upstream ${name}`);
          if (snapshot.source === 'live') {
            return {
              name: `upstream ${name}`,
              status: 'ok',
              detail: `${snapshot.models.length} foundation models, ${snapshot.profiles.length} inference profiles in ${region}`,
            };
          }
        } catch (err) {
          failure = err;
        }
        // Its own endpoint (as BedrockUpstream.control picks it), not the gateway's default one.
        const called = upstreamEndpoint(config, env, name, region, spec.controlEndpoint);
        const { detail, hint } = awsErrorHint(failure, called);
        return { name: `upstream ${name}`, status: 'fail', detail, hint };
      }),
    );
  } finally {
    upstreams.destroy();
  }
}

async function checkModels(snapshot: CatalogueSnapshot, config: Config): Promise<Check> {
  const { collectModels } = await import('./models.ts');
  const report = collectModels(snapshot, { modelMap: config.modelMap });
  const claude = report.models.filter((m) => m.family === 'claude').length;
  const open = report.models.length - claude;
  if (report.models.length === 0) {
    return {
      name: 'models',
      status: 'fail',
      detail: `no text model can be called in ${config.region}`,
      hint: 'pick a region where Bedrock offers the models you need (AWS_REGION)',
    };
  }
  const broken = report.aliases.filter((a) => a.via === 'config' && a.bedrockId === null);
  if (broken.length > 0) {
    return {
      name: 'models',
      status: 'warn',
      detail: `model map entries that do not resolve: ${broken.map((a) => a.alias).join(', ')}`,
      hint: 'fix modelMap (abproxy config get modelMap)',
    };
  }
  return {
    name: 'models',
    status: claude > 0 ? 'ok' : 'warn',
    detail: `${claude} Claude and ${open} other text models callable`,
    ...(claude > 0
      ? {}
      : { hint: 'no Claude model here: use --model with an open model for abproxy claude' }),
  };
}

/**
 * The bedrock-mantle host's model list, as `serve` reads it: which Claude models only mantle serves
 * (the gateway sends them there by itself). Unreadable is a warning: such models answer 404 then.
 */
async function checkMantle(snapshot: CatalogueSnapshot, config: Config, env: Env): Promise<Check> {
  const [{ mantleModelLister }, { fromNodeProviderChain }, { withMantleModels }, { anthropicIdsOf }] =
    await Promise.all([
      import('../upstream/mantle-models.ts'),
      import('@aws-sdk/credential-providers'),
      import('../models/catalogue.ts'),
      import('../models/aliases.ts'),
    ]);
  const lister = mantleModelLister({
    credentials: fromNodeProviderChain(credentialChainProxyOptions(proxyEnvOrNone(env))),
    ...(config.mantleEndpoint === undefined ? {} : { endpoint: config.mantleEndpoint }),
    ...(config.bedrockApiKey === undefined ? {} : { bearerToken: config.bedrockApiKey }),
  });
  try {
    const ids = await lister(config.region);
    const only = withMantleModels(snapshot, ids).models.flatMap((m) =>
      m.mantleOnly ? anthropicIdsOf(m.modelId) : [],
    );
    return {
      name: 'mantle',
      status: 'ok',
      detail: `${ids.length} models listed on bedrock-mantle; Claude only there: ${only.length > 0 ? only.join(', ') : 'none'}`,
    };
  } catch (err) {
    const { name, message } = err as { name?: string; message?: string };
    return {
      name: 'mantle',
      status: 'warn',
      detail: `the bedrock-mantle model list is not readable (${name ?? 'Error'}: ${(message ?? String(err)).split('\n')[0]}): Claude models only mantle serves answer 404`,
      hint: 'allow bedrock-mantle in IAM or check AWS_ENDPOINT_URL_BEDROCK_MANTLE; or give abproxy claude a --model from `abproxy models`',
    };
  }
}

/** --deep: one tiny Converse call, the only proof that model access is granted. */
async function checkInvoke(
  snapshot: CatalogueSnapshot,
  config: Config,
  env: Env,
  model?: string,
): Promise<Check> {
  const { resolveModel } = await import('../models/resolve.ts');
  const name = model ?? 'haiku';
  let modelId: string;
  try {
    modelId = resolveModel(name, snapshot, { region: config.region, overrides: config.modelMap }).modelId;
  } catch (err) {
    return {
      name: 'invoke',
      status: 'fail',
      detail: `${name}: ${(err as Error).message}`,
      hint: 'pass --model with a model from `abproxy models`',
    };
  }
  const input = {
    modelId,
    messages: [{ role: 'user' as const, content: [{ text: 'ping' }] }],
    inferenceConfig: { maxTokens: 1 },
  };
  let called = defaultEndpoint(config, env);
  let converse: () => Promise<unknown>;
  let served = () => '';
  let close: () => void;
  if (config.upstreams) {
    // Through the pool, as serve calls it (its endpoints and credentials, failover included).
    const [{ createUpstreams }, { traceCallsWith }] = await Promise.all([
      import('../upstream/upstream-set.ts'),
      import('../upstream/trace.ts'),
    ]);
    const set = createUpstreams(config);
    const first = set.each[0]!;
    called = upstreamEndpoint(config, env, first.name, first.region, first.spec.controlEndpoint);
    const signal = new AbortController().signal;
    const trace: { served?: string; failedAttempts: number } = { failedAttempts: 0 };
    traceCallsWith(signal, trace);
    converse = () => set.runtime.converse(input, signal);
    served = () => (trace.served ? ` (upstream ${trace.served})` : '');
    close = () => set.destroy();
  } else {
    const { BedrockRuntimeClient, ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const client = new BedrockRuntimeClient({
      region: config.region,
      maxAttempts: 1,
      requestHandler: sdkHandlerProxyOptions(proxyEnvOrNone(env)),
    });
    converse = () => client.send(new ConverseCommand(input));
    close = () => client.destroy();
  }
  try {
    await withTimeout(converse(), 30_000, 'Bedrock Converse');
    return { name: 'invoke', status: 'ok', detail: `${modelId} answered${served()}` };
  } catch (err) {
    const { detail, hint } = awsErrorHint(err, called);
    const access = (err as { name?: string }).name === 'AccessDeniedException';
    return {
      name: 'invoke',
      status: 'fail',
      detail: `${modelId}: ${detail}`,
      hint: access
        ? 'request access to the model in the Bedrock console (Model access), or allow bedrock:InvokeModel'
        : hint,
    };
  } finally {
    close();
  }
}

async function checkStorage(config: Config): Promise<Check[]> {
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
    checks.push({
      name: 'store',
      status: 'fail',
      detail: `${config.mode}: ${where}: ${(err as Error).message}`,
      hint:
        config.mode === 'team'
          ? 'run `abproxy tables setup` (and check DynamoDB permissions)'
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
