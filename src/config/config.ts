/**
 * Gateway settings, resolved by one pure function from four layers: flags > env > config file >
 * defaults. Every value remembers where it came from so `serve` can explain itself. What each setting is
 * (env names, default, parser, doc) lives in one table, settings.ts. AWS credentials and endpoints are
 * left to the SDK's own chain; the region is ours because it picks the model catalogue.
 */
import { createHmac } from 'node:crypto';
import { ConfigError } from './parsers.ts';
import { HOME_DEFAULT, type SettingName, type Settings, settingEntries } from './settings.ts';

export { ConfigError } from './parsers.ts';
export {
  type ClaudePath,
  ENV_NAMES,
  type LogLevel,
  MIB,
  type SettingName,
  type Settings,
  type StorageMode,
  type UpstreamHttp,
} from './settings.ts';

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface Config extends Settings {
  sources: Record<SettingName, Source>;
}

/** Raw layer values: strings from env/flags, anything JSON from the file. */
export type Layer = Partial<Record<SettingName, unknown>>;

/** Every setting's default; `home` is the OS config directory passed in (it depends on the env). */
export function defaultSettings(home: string): Settings {
  const defaults: Record<string, unknown> = {};
  for (const [key, spec] of settingEntries()) {
    const value = spec.default === HOME_DEFAULT ? home : spec.default;
    // Objects are copied so a caller editing its defaults cannot change the table.
    defaults[key] = Array.isArray(value)
      ? [...value]
      : value && typeof value === 'object'
        ? { ...value }
        : value;
  }
  return defaults as unknown as Settings;
}

/** Env vars of one setting: the first non-empty one (an empty string means unset). */
function fromEnv(
  names: readonly string[],
  env: Record<string, string | undefined>,
): { name: string; raw: string } | undefined {
  for (const name of names) {
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
  /**
   * Hears each mistake instead of throwing it, the setting keeping its default (`doctor`: one bad
   * setting must not hide the others from the remaining checks).
   */
  onMistake?: (message: string) => void;
}

/** Pure: flags > env > file > defaults, each value parsed and its source kept. */
export function resolveConfig({
  flags = {},
  env = {},
  file = {},
  defaults,
  onMistake,
}: ResolveConfigInput): Config {
  const settings = { ...defaults } as Record<SettingName, unknown>;
  const sources = {} as Record<SettingName, Source>;
  const mistake = (err: unknown) => {
    if (!onMistake || !(err instanceof ConfigError)) throw err;
    onMistake(err.message);
  };
  for (const [key, spec] of settingEntries()) {
    const envHit = fromEnv(spec.env, env);
    const [raw, label, source]: [unknown, string, Source] =
      flags[key] !== undefined
        ? [flags[key], `--${key}`, 'flag']
        : envHit
          ? [envHit.raw, envHit.name, 'env']
          : file[key] !== undefined
            ? [file[key], `config file: ${key}`, 'file']
            : [undefined, '', 'default'];
    sources[key] = 'default';
    if (source === 'default') continue;
    try {
      settings[key] = spec.parse(raw, label);
      sources[key] = source;
    } catch (err) {
      mistake(err);
    }
  }
  const config = { ...(settings as unknown as Settings), sources };
  try {
    checkTogether(config);
  } catch (err) {
    mistake(err);
  }
  return config;
}

/** Rules across settings. */
function checkTogether(config: Config): void {
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    // node:http refuses it too; the request timeout covers the headers.
    throw new ConfigError('ABPROXY_HEADERS_TIMEOUT_MS must not exceed ABPROXY_REQUEST_TIMEOUT_MS');
  }
  const provider = config.webSearchProvider;
  if (provider && provider !== 'searxng' && !config.webSearchApiKey) {
    throw new ConfigError(`ABPROXY_WEB_SEARCH_PROVIDER=${provider} needs ABPROXY_WEB_SEARCH_API_KEY`);
  }
  if (config.webFetchVia === 'provider' && provider !== 'tavily' && provider !== 'exa') {
    throw new ConfigError(
      'ABPROXY_WEB_FETCH_VIA=provider needs ABPROXY_WEB_SEARCH_PROVIDER=tavily or exa (the providers with an extract API)',
    );
  }
  if (provider === 'searxng' && !config.webSearchUrl) {
    throw new ConfigError(
      'ABPROXY_WEB_SEARCH_PROVIDER=searxng needs ABPROXY_WEB_SEARCH_URL (the base URL of your SearXNG instance)',
    );
  }
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
