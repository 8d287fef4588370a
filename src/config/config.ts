/**
 * Gateway settings, resolved by one pure function from four layers: flags > env > config file >
 * defaults. Every value remembers where it came from so `serve` can explain itself. What each setting is
 * (env names, default, parser, doc) lives in one table, settings.ts. AWS credentials and endpoints are
 * left to the SDK's own chain; the region is ours because it picks the model catalogue.
 */
import { scrypt } from 'node:crypto';
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
        ? [flags[key], spec.flag ?? `--${key}`, 'flag']
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
 * scrypt's cost for the master key: ~80 ms and 32 MB a guess here. Every value the gateway signs or
 * seals for any key holder (thinking signatures, web-tool seals) is an offline check of a guess at the
 * secret; derived with one HMAC, an ordinary key holder could try ~10^5 master-key guesses a second per
 * core. Changing these (or the salt) changes every instance's secret.
 */
const STRETCH = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const STRETCH_SALT = 'abproxy signing secret v2';

/** The master key stretched once per process (tests start many gateways with one key). */
const stretched = new Map<string, Promise<string>>();

function stretchMasterKey(masterKey: string): Promise<string> {
  let secret = stretched.get(masterKey);
  if (secret === undefined) {
    // On libuv's threads: `serve` opens its store and tables meanwhile.
    secret = new Promise<string>((resolve, reject) =>
      scrypt(masterKey, STRETCH_SALT, 32, STRETCH, (err, key) =>
        err ? reject(err) : resolve(key.toString('base64url')),
      ),
    );
    if (stretched.size >= 8) stretched.clear();
    stretched.set(masterKey, secret);
  }
  return secret;
}

/**
 * The secret for gateway-signed values (thinking signatures, web-tool seals, admin sign-in links):
 * explicit, else stretched from the master key (so every instance sharing the key agrees), else null —
 * the caller then uses a random secret persisted on disk.
 */
export function deriveSigningSecret(
  config: Pick<Settings, 'signingSecret' | 'masterApiKey'>,
): Promise<string | null> {
  if (config.signingSecret) return Promise.resolve(config.signingSecret);
  if (config.masterApiKey) return stretchMasterKey(config.masterApiKey);
  return Promise.resolve(null);
}

/** Master keys shorter than this get a warning when the signing secret is derived from them. */
export const STRONG_MASTER_KEY_LENGTH = 32;

/**
 * Why a derived signing secret is weak, or undefined: a short master key (a human-chosen one) can still
 * be guessed offline from what the gateway signs, only more slowly.
 */
export function weakSigningSecretWarning(
  config: Pick<Settings, 'signingSecret' | 'masterApiKey'>,
): string | undefined {
  if (config.signingSecret || !config.masterApiKey) return undefined;
  if (config.masterApiKey.length >= STRONG_MASTER_KEY_LENGTH) return undefined;
  return `MASTER_API_KEY has ${config.masterApiKey.length} characters: the signatures the gateway gives every key holder (thinking, web-tool results) are derived from it, so a key holder can test guesses at it offline. Use a random master key of ${STRONG_MASTER_KEY_LENGTH}+ characters (openssl rand -base64 32) or set ABPROXY_SIGNING_SECRET to one`;
}
