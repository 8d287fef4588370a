/** The impure edge of config: reads the environment and the config file, then calls resolveConfig. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError, defaultSettings, type Layer, resolveConfig } from './config.ts';
import { defaultHome } from './home.ts';
import { settingKey } from './settings.ts';

export interface LoadConfigOptions {
  flags?: Layer;
  /** Explicit --config FILE (must exist); else ABPROXY_HOME/config.json when present. */
  configFile?: string;
  env?: Record<string, string | undefined>;
  /** Hears each mistake (a bad value, an unreadable file) instead of throwing it; see resolveConfig. */
  onMistake?: (message: string) => void;
}

/** Reads a JSON config file of settings (camelCase names, as in `Settings`). */
export function readConfigFile(path: string, required: boolean): Layer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return settingsOf(parsed as Record<string, unknown>, path);
}

/**
 * The file's keys as settings: a setting's name, or one of its env names as `config set` takes them
 * (`MASTER_API_KEY`). Any other key is an error, never ignored: a hand-written `{"MASTER_API_KEY": …}`
 * silently dropped left a gateway open, and a typo (`prot`) silently kept the default.
 */
function settingsOf(parsed: Record<string, unknown>, path: string): Layer {
  const layer: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    const key = settingKey(name);
    if (key === undefined) unknown.push(name);
    else layer[key] = value;
  }
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((name) => `'${name.slice(0, 60)}'`);
    throw new ConfigError(
      `config file ${path}: unknown setting${unknown.length > 1 ? 's' : ''} ${names.join(', ')} (\`abproxy config set --help\` lists them)`,
    );
  }
  return layer as Layer;
}

export function loadConfig({
  flags = {},
  configFile,
  env = process.env,
  onMistake,
}: LoadConfigOptions = {}): Config {
  const defaults = defaultSettings(defaultHome(env));
  // The home directory decides where the default config file lives, so resolve it first (its mistakes
  // are told once, by the second pass).
  const home = resolveConfig({ flags, env, defaults, ...(onMistake ? { onMistake: () => {} } : {}) }).home;
  let file: Layer = {};
  try {
    file = configFile ? readConfigFile(configFile, true) : readConfigFile(join(home, 'config.json'), false);
  } catch (err) {
    if (!onMistake || !(err instanceof ConfigError)) throw err;
    onMistake(err.message);
  }
  return resolveConfig({ flags, env, file, defaults, ...(onMistake ? { onMistake } : {}) });
}
