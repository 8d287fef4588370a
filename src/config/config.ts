/**
 * Gateway settings, resolved by one pure function from four layers: flags > env > config file >
 * defaults. Every value remembers where it came from so `serve` can explain itself. AWS credentials and
 * endpoints are left to the SDK's own chain; the region is ours because it picks the model catalogue.
 */
import { createHmac } from 'node:crypto';
import type { ServiceTier } from '../models/types.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './drain.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type UpstreamHttp = '1.1' | '2';
/** How Claude models are called: natively (InvokeModel with the Anthropic body) or through Converse. */
export type ClaudePath = 'invoke' | 'converse';
/** Where keys and usage live: solo = one SQLite file, team = shared DynamoDB tables. */
export type StorageMode = 'solo' | 'team';

export interface Settings {
  port: number;
  host: string;
  /** Directory for the secret file and the default config file. */
  home: string;
  masterApiKey: string | undefined;
  /** undefined: require a key unless bound to loopback. */
  requireApiKey: boolean | undefined;
  /** Extra header (besides x-api-key and Authorization) that may carry the key. */
  apiKeyHeader: string;
  region: string;
  logLevel: LogLevel;
  /** Client model name → Bedrock model id; these win over catalogue resolution. */
  modelMap: Record<string, string>;
  /** Explicit secret for gateway-signed thinking; see resolveSigningSecret for the fallbacks. */
  signingSecret: string | undefined;
  maxBodyBytes: number;
  enableToolUse: boolean;
  enableExtendedThinking: boolean;
  enableDocumentSupport: boolean;
  promptCachingEnabled: boolean;
  defaultServiceTier: ServiceTier;
  upstreamHttp: UpstreamHttp;
  claudePath: ClaudePath;
  /** Overrides of the Claude field/beta allow-list (see models/claude-features.ts), parsed JSON. */
  claudeFeatures: Record<string, unknown> | undefined;
  /** SDK attempts per upstream call; only connection faults are retried (clients retry the rest). */
  upstreamMaxAttempts: number;
  pingIntervalMs: number;
  /** Let `url` image/document sources reach private and loopback addresses (tests, trusted networks). */
  allowPrivateMedia: boolean;
  /** How long a stop (SIGTERM) drains in-flight requests before cutting them (see config/drain.ts). */
  shutdownTimeoutMs: number;
  /** `abproxy claude`: the main model and the small/fast model Claude Code is told to use. */
  claudeModel: string | undefined;
  claudeSmallModel: string | undefined;
  mode: StorageMode;
  /** Solo mode's SQLite file; undefined: `home`/abproxy.db. */
  dbFile: string | undefined;
  /** Team mode's DynamoDB tables are `<prefix>-keys`, `-usage`, `-limits`. */
  tablePrefix: string;
  /** How long a key verification (positive or negative) is cached in team mode. */
  keyCacheMs: number;
  /** The seed's limit: RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW seconds for every caller (per key). */
  rateLimitEnabled: boolean;
  rateLimitRequests: number;
  rateLimitWindowSec: number;
  /** GET /metrics needs a key; undefined: public on loopback binds, key required otherwise. */
  metricsAuth: boolean | undefined;
  /** Log request bodies (prompts) at debug level; off by default, they may hold secrets. */
  logBodies: boolean;
  /** Price overrides (USD per million tokens), parsed JSON; see usage/prices.ts. */
  prices: Record<string, unknown> | undefined;
  /** Write a usage record per Messages request (spool + store). */
  usageRecording: boolean;
  /** How often spooled usage records are moved to the store. */
  usageDrainMs: number;
  /** Longest wait between retries while the store is unreachable. */
  usageRetryMaxMs: number;
  /** A client must send its request headers within this time (slow-header clients hold sockets). */
  headersTimeoutMs: number;
  /** A client must send its whole request (headers and body) within this time; the answer is not bound. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time (behind a load balancer: above its idle timeout). */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed (0: never); streams ping well within it. */
  socketIdleTimeoutMs: number;
}

export type SettingName = keyof Settings;
export type Source = 'flag' | 'env' | 'file' | 'default';

export interface Config extends Settings {
  sources: Record<SettingName, Source>;
}

/** Raw layer values: strings from env/flags, anything JSON from the file. */
export type Layer = Partial<Record<SettingName, unknown>>;

export const MIB = 1024 * 1024;

export function defaultSettings(home: string): Settings {
  return {
    port: 8080,
    host: '127.0.0.1',
    home,
    masterApiKey: undefined,
    requireApiKey: undefined,
    apiKeyHeader: 'x-api-key',
    region: 'us-east-1',
    logLevel: 'info',
    modelMap: {},
    signingSecret: undefined,
    // Anthropic's own request limit for the Messages API.
    maxBodyBytes: 32 * MIB,
    enableToolUse: true,
    enableExtendedThinking: true,
    enableDocumentSupport: true,
    promptCachingEnabled: true,
    defaultServiceTier: 'default',
    upstreamHttp: '1.1',
    claudePath: 'invoke',
    claudeFeatures: undefined,
    upstreamMaxAttempts: 2,
    pingIntervalMs: 15_000,
    allowPrivateMedia: false,
    shutdownTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
    claudeModel: undefined,
    claudeSmallModel: undefined,
    mode: 'solo',
    dbFile: undefined,
    tablePrefix: 'abproxy',
    keyCacheMs: 5_000,
    rateLimitEnabled: false,
    rateLimitRequests: 100,
    rateLimitWindowSec: 60,
    metricsAuth: undefined,
    logBodies: false,
    prices: undefined,
    usageRecording: true,
    usageDrainMs: 1_000,
    usageRetryMaxMs: 30_000,
    headersTimeoutMs: 30_000,
    // A 32 MiB body needs about 2 Mbit/s to arrive in time.
    requestTimeoutMs: 120_000,
    keepAliveTimeoutMs: 65_000,
    // Above the 10 minutes an Anthropic SDK waits for a non-streaming answer.
    socketIdleTimeoutMs: 900_000,
  };
}

/** Environment names per setting, first match wins (seed converter names kept as aliases). */
export const ENV_NAMES: Record<SettingName, readonly string[]> = {
  port: ['ABPROXY_PORT', 'PORT'],
  host: ['ABPROXY_HOST'],
  home: ['ABPROXY_HOME'],
  masterApiKey: ['MASTER_API_KEY'],
  requireApiKey: ['REQUIRE_API_KEY'],
  apiKeyHeader: ['API_KEY_HEADER'],
  region: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  logLevel: ['LOG_LEVEL'],
  modelMap: ['ABPROXY_MODEL_MAP'],
  signingSecret: ['ABPROXY_SIGNING_SECRET'],
  maxBodyBytes: ['ABPROXY_MAX_BODY_BYTES'],
  enableToolUse: ['ENABLE_TOOL_USE'],
  enableExtendedThinking: ['ENABLE_EXTENDED_THINKING'],
  enableDocumentSupport: ['ENABLE_DOCUMENT_SUPPORT'],
  promptCachingEnabled: ['PROMPT_CACHING_ENABLED'],
  defaultServiceTier: ['DEFAULT_SERVICE_TIER'],
  upstreamHttp: ['ABPROXY_UPSTREAM_HTTP'],
  claudePath: ['ABPROXY_CLAUDE_PATH'],
  claudeFeatures: ['ABPROXY_CLAUDE_FEATURES'],
  upstreamMaxAttempts: ['ABPROXY_UPSTREAM_MAX_ATTEMPTS'],
  pingIntervalMs: ['ABPROXY_PING_INTERVAL_MS'],
  allowPrivateMedia: ['ABPROXY_ALLOW_PRIVATE_MEDIA'],
  shutdownTimeoutMs: ['ABPROXY_DRAIN_TIMEOUT_MS', 'ABPROXY_SHUTDOWN_TIMEOUT_MS'],
  claudeModel: ['ABPROXY_CLAUDE_MODEL'],
  claudeSmallModel: ['ABPROXY_CLAUDE_SMALL_MODEL'],
  mode: ['ABPROXY_MODE'],
  dbFile: ['ABPROXY_DB'],
  tablePrefix: ['ABPROXY_TABLE_PREFIX'],
  keyCacheMs: ['ABPROXY_KEY_CACHE_MS'],
  rateLimitEnabled: ['RATE_LIMIT_ENABLED'],
  rateLimitRequests: ['RATE_LIMIT_REQUESTS'],
  rateLimitWindowSec: ['RATE_LIMIT_WINDOW'],
  metricsAuth: ['ABPROXY_METRICS_AUTH'],
  logBodies: ['ABPROXY_LOG_BODIES'],
  prices: ['ABPROXY_PRICES'],
  usageRecording: ['ABPROXY_USAGE'],
  usageDrainMs: ['ABPROXY_USAGE_DRAIN_MS'],
  usageRetryMaxMs: ['ABPROXY_USAGE_RETRY_MAX_MS'],
  headersTimeoutMs: ['ABPROXY_HEADERS_TIMEOUT_MS'],
  requestTimeoutMs: ['ABPROXY_REQUEST_TIMEOUT_MS'],
  keepAliveTimeoutMs: ['ABPROXY_KEEP_ALIVE_TIMEOUT_MS'],
  socketIdleTimeoutMs: ['ABPROXY_SOCKET_IDLE_TIMEOUT_MS'],
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const TIERS: readonly ServiceTier[] = ['default', 'flex', 'priority', 'reserved'];

function parseInteger(name: string, raw: unknown, min: number, max: number): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseBoolean(name: string, raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
}

/** `secret`: the value is not echoed in the error (a master key typed as a number in the file). */
function parseString(name: string, raw: unknown, secret = false): string {
  if (typeof raw !== 'string')
    throw new ConfigError(`${name}: expected a string, got ${secret ? typeof raw : JSON.stringify(raw)}`);
  return raw;
}

function parseOneOf<T extends string>(name: string, raw: unknown, allowed: readonly T[]): T {
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (!allowed.includes(text as T)) {
    throw new ConfigError(`${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return text as T;
}

function parseModelMap(name: string, raw: unknown): Record<string, string> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(`${name}: expected a JSON object of model name to Bedrock id`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${name}: expected an object of model name to Bedrock id`);
  }
  const map: Record<string, string> = {};
  for (const [alias, target] of Object.entries(value)) {
    if (typeof target !== 'string' || target === '') {
      throw new ConfigError(`${name}.${alias}: expected a Bedrock model id string`);
    }
    map[alias] = target;
  }
  return map;
}

function parseJsonObject(name: string, raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(`${name}: expected a JSON object`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${name}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

type IntegerSetting =
  | 'port'
  | 'maxBodyBytes'
  | 'upstreamMaxAttempts'
  | 'pingIntervalMs'
  | 'shutdownTimeoutMs'
  | 'keyCacheMs'
  | 'rateLimitRequests'
  | 'rateLimitWindowSec'
  | 'usageDrainMs'
  | 'usageRetryMaxMs'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'socketIdleTimeoutMs';

/** Allowed [min, max] of each whole-number setting. */
const INTEGER_RANGES: Record<IntegerSetting, [number, number]> = {
  port: [0, 65535],
  maxBodyBytes: [1024, 2 ** 31 - 1],
  upstreamMaxAttempts: [1, 10],
  pingIntervalMs: [10, 3_600_000],
  shutdownTimeoutMs: [0, 3_600_000],
  keyCacheMs: [0, 3_600_000],
  rateLimitRequests: [1, 1_000_000_000],
  rateLimitWindowSec: [1, 86_400],
  usageDrainMs: [10, 3_600_000],
  usageRetryMaxMs: [10, 3_600_000],
  headersTimeoutMs: [100, 3_600_000],
  requestTimeoutMs: [100, 3_600_000],
  keepAliveTimeoutMs: [100, 3_600_000],
  socketIdleTimeoutMs: [0, 86_400_000],
};

/** Parses one raw value into the setting's type; `label` names the origin in error messages. */
function parseSetting<K extends SettingName>(key: K, raw: unknown, label: string): Settings[K] {
  const parse = (): unknown => {
    switch (key) {
      case 'port':
      case 'maxBodyBytes':
      case 'upstreamMaxAttempts':
      case 'pingIntervalMs':
      case 'shutdownTimeoutMs':
      case 'keyCacheMs':
      case 'rateLimitRequests':
      case 'rateLimitWindowSec':
      case 'usageDrainMs':
      case 'usageRetryMaxMs':
      case 'headersTimeoutMs':
      case 'requestTimeoutMs':
      case 'keepAliveTimeoutMs':
      case 'socketIdleTimeoutMs': {
        // The switch narrows `key` to these names, but not the generic K behind it.
        const [min, max] = INTEGER_RANGES[key as IntegerSetting];
        return parseInteger(label, raw, min, max);
      }
      case 'rateLimitEnabled':
      case 'metricsAuth':
      case 'logBodies':
      case 'usageRecording':
        return parseBoolean(label, raw);
      case 'prices':
        return parseJsonObject(label, raw);
      case 'mode':
        return parseOneOf(label, raw, ['solo', 'team'] as const);
      case 'dbFile':
      case 'claudeModel':
      case 'claudeSmallModel':
        return parseString(label, raw).trim() || undefined;
      case 'tablePrefix': {
        const prefix = parseString(label, raw).trim();
        if (!/^[A-Za-z0-9_.-]{1,200}$/.test(prefix)) {
          throw new ConfigError(`${label}: use 1-200 of A-Z a-z 0-9 _ . - (got ${JSON.stringify(raw)})`);
        }
        return prefix;
      }
      case 'requireApiKey':
      case 'enableToolUse':
      case 'enableExtendedThinking':
      case 'enableDocumentSupport':
      case 'promptCachingEnabled':
      case 'allowPrivateMedia':
        return parseBoolean(label, raw);
      case 'host':
      case 'home':
      case 'region':
        return parseString(label, raw).trim();
      case 'signingSecret':
      case 'masterApiKey':
        return parseString(label, raw, true).trim();
      case 'apiKeyHeader':
        return parseString(label, raw).trim().toLowerCase();
      case 'logLevel':
        return parseOneOf(label, raw, LOG_LEVELS);
      case 'defaultServiceTier':
        return parseOneOf(label, raw, TIERS);
      case 'upstreamHttp':
        return parseOneOf(label, raw === '1' || raw === 1 ? '1.1' : String(raw), ['1.1', '2'] as const);
      case 'modelMap':
        return parseModelMap(label, raw);
      case 'claudePath':
        return parseOneOf(label, raw, ['invoke', 'converse'] as const);
      case 'claudeFeatures':
        return parseJsonObject(label, raw);
      default: {
        const unknownKey: never = key;
        throw new ConfigError(`unknown setting ${String(unknownKey)}`);
      }
    }
  };
  return parse() as Settings[K];
}

/** Env vars of one setting: the first non-empty one (an empty string means unset). */
function fromEnv(
  key: SettingName,
  env: Record<string, string | undefined>,
): { name: string; raw: string } | undefined {
  for (const name of ENV_NAMES[key]) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') return { name, raw };
  }
  return undefined;
}

export interface ResolveConfigInput {
  flags?: Layer;
  env?: Record<string, string | undefined>;
  file?: Layer;
  defaults: Settings;
}

/** Pure: flags > env > file > defaults, each value parsed and its source kept. */
export function resolveConfig({ flags = {}, env = {}, file = {}, defaults }: ResolveConfigInput): Config {
  const settings = { ...defaults } as Record<SettingName, unknown>;
  const sources = {} as Record<SettingName, Source>;
  for (const key of Object.keys(defaults) as SettingName[]) {
    const envHit = fromEnv(key, env);
    if (flags[key] !== undefined) {
      settings[key] = parseSetting(key, flags[key], `--${key}`);
      sources[key] = 'flag';
    } else if (envHit) {
      settings[key] = parseSetting(key, envHit.raw, envHit.name);
      sources[key] = 'env';
    } else if (file[key] !== undefined) {
      settings[key] = parseSetting(key, file[key], `config file: ${key}`);
      sources[key] = 'file';
    } else {
      sources[key] = 'default';
    }
  }
  const config = { ...(settings as unknown as Settings), sources };
  if (config.masterApiKey === '') config.masterApiKey = undefined;
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    // node:http refuses it too; the request timeout covers the headers.
    throw new ConfigError('ABPROXY_HEADERS_TIMEOUT_MS must not exceed ABPROXY_REQUEST_TIMEOUT_MS');
  }
  return config;
}

/** Loopback names and addresses: the only binds where running without a key is allowed. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Whether callers must present a key (the master key or one made by `abproxy keys create`); throws when
 * a public bind would run open. REQUIRE_API_KEY=true without a master key means stored keys only.
 */
export function authRequired(config: Pick<Settings, 'host' | 'masterApiKey' | 'requireApiKey'>): boolean {
  if (config.masterApiKey || config.requireApiKey === true) return true;
  if (!isLoopbackHost(config.host)) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without MASTER_API_KEY: anyone who can reach it could spend your AWS account. Set MASTER_API_KEY, or REQUIRE_API_KEY=true to accept only keys made with 'abproxy keys create', or bind to 127.0.0.1.`,
    );
  }
  return false;
}

/**
 * The secret for gateway-signed thinking: explicit, else derived from the master key (so every
 * instance sharing the key agrees), else null — the caller then uses a random secret persisted on disk.
 */
export function deriveSigningSecret(config: Pick<Settings, 'signingSecret' | 'masterApiKey'>): string | null {
  if (config.signingSecret) return config.signingSecret;
  if (config.masterApiKey) {
    return createHmac('sha256', config.masterApiKey)
      .update('abproxy thinking signatures v1')
      .digest('base64url');
  }
  return null;
}
