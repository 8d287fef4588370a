/**
 * Gateway settings, resolved by one pure function from four layers: flags > env > config file >
 * defaults. Every value remembers where it came from so `serve` can explain itself. AWS credentials and
 * endpoints are left to the SDK's own chain; the region is ours because it picks the model catalogue.
 */
import { createHmac } from 'node:crypto';
import type { ServiceTier } from '../models/types.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type UpstreamHttp = '1.1' | '2';
/** How Claude models are called: natively (InvokeModel with the Anthropic body) or through Converse. */
export type ClaudePath = 'invoke' | 'converse';

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
  /** How long a stop waits for in-flight requests. */
  shutdownTimeoutMs: number;
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
    shutdownTimeoutMs: 30_000,
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
  shutdownTimeoutMs: ['ABPROXY_SHUTDOWN_TIMEOUT_MS'],
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

function parseString(name: string, raw: unknown): string {
  if (typeof raw !== 'string')
    throw new ConfigError(`${name}: expected a string, got ${JSON.stringify(raw)}`);
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

/** Parses one raw value into the setting's type; `label` names the origin in error messages. */
function parseSetting<K extends SettingName>(key: K, raw: unknown, label: string): Settings[K] {
  const parse = (): unknown => {
    switch (key) {
      case 'port':
        return parseInteger(label, raw, 0, 65535);
      case 'maxBodyBytes':
        return parseInteger(label, raw, 1024, 2 ** 31 - 1);
      case 'upstreamMaxAttempts':
        return parseInteger(label, raw, 1, 10);
      case 'pingIntervalMs':
        return parseInteger(label, raw, 10, 3_600_000);
      case 'shutdownTimeoutMs':
        return parseInteger(label, raw, 0, 3_600_000);
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
      case 'signingSecret':
      case 'masterApiKey':
        return parseString(label, raw).trim();
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
  return config;
}

/** Loopback names and addresses: the only binds where running without a key is allowed. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Whether callers must present the master key; throws when a public bind would run open. */
export function authRequired(config: Pick<Settings, 'host' | 'masterApiKey' | 'requireApiKey'>): boolean {
  if (config.masterApiKey) return true;
  if (!isLoopbackHost(config.host)) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without MASTER_API_KEY: anyone who can reach it could spend your AWS account. Set MASTER_API_KEY, or bind to 127.0.0.1.`,
    );
  }
  if (config.requireApiKey === true) {
    throw new ConfigError('REQUIRE_API_KEY=true needs MASTER_API_KEY to be set');
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
