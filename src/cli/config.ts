/**
 * `abproxy config get [KEY] | set KEY VALUE | unset KEY | path`: the config file `serve` reads
 * (ABPROXY_HOME/config.json), edited through `conf`. Values are checked by the same parser as
 * resolveConfig and stored typed; `get` shows each setting's effective value and where it came from
 * (env > file > default; flags apply per command). Secrets are masked unless --show-secrets.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type Config,
  ConfigError,
  defaultSettings,
  ENV_NAMES,
  resolveConfig,
  type SettingName,
} from '../config/config.ts';
import { describeSettings } from '../config/describe-settings.ts';
import { defaultHome } from '../config/home.ts';
import { loadConfig } from '../config/load.ts';
import { makePrivateDir } from '../config/private-files.ts';
import { SETTINGS, settingEntries, settingKey, specOf } from '../config/settings.ts';
import { refuseUnknownSubcommands } from './default-subcommand.ts';
import { CliError, EXIT } from './errors.ts';
import { underFileLock } from './file-lock.ts';
import { secretArgument } from './secret-input.ts';

type Env = Record<string, string | undefined>;

export function settingNames(): SettingName[] {
  return Object.keys(SETTINGS) as SettingName[];
}

/** `config set --help`: every setting with its env names and what it does, from the settings table. */
export function settingsHelp(): string {
  const width = Math.max(...settingNames().map((key) => key.length));
  const lines = settingEntries().map(
    ([key, spec]) => `  ${key.padEnd(width)}  ${spec.doc.replaceAll('`', '')} [${spec.env.join(', ')}]`,
  );
  return `\nSettings:\n${lines.join('\n')}\n`;
}

function requireKey(name: string): SettingName {
  const key = settingKey(name);
  if (!key) {
    throw new CliError(`unknown setting '${name}'. Settings: ${settingNames().join(', ')}`, EXIT.usage);
  }
  return key;
}

export function configPath(env: Env = process.env): string {
  const home = resolveConfig({ env, defaults: defaultSettings(defaultHome(env)) }).home;
  return join(home, 'config.json');
}

/** Parses `raw` as the file layer would, so a value `set` accepts is one `serve` accepts. */
export function parseForFile(key: SettingName, raw: string, env: Env = process.env): unknown {
  try {
    const config = resolveConfig({ file: { [key]: raw }, defaults: defaultSettings(defaultHome(env)) });
    return config[key];
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message.replace('config file: ', ''), EXIT.usage);
    throw err;
  }
}

async function openStore(env: Env) {
  const { default: Conf } = await import('conf');
  const path = configPath(env);
  // Conf would create the directory 0755; ABPROXY_HOME is private.
  makePrivateDir(join(path, '..'));
  try {
    return new Conf<Record<string, unknown>>({
      cwd: join(path, '..'),
      configName: 'config',
      projectName: 'abproxy',
      accessPropertiesByDotNotation: false,
      clearInvalidConfig: false,
      // It may hold the master key.
      configFileMode: 0o600,
    });
  } catch (err) {
    // Not JSON: never cleared behind the person's back (it may hold the master key), but said plainly.
    if (err instanceof SyntaxError) {
      throw new CliError(
        `${path} is not valid JSON: fix it by hand, or move it away and set the values again`,
      );
    }
    throw err;
  }
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface ConfigIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Env;
}

interface GetFlags {
  json?: boolean;
  showSecrets?: boolean;
}

export async function configGet(name: string | undefined, flags: GetFlags, io: ConfigIo): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ env: io.env });
  } catch (err) {
    // A bad setting is a usage error, as adminConfig makes it for every other command.
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const views = describeSettings(config, io.env, flags.showSecrets);
  if (name !== undefined) {
    const key = requireKey(name);
    const view = views.find((v) => v.key === key)!;
    io.stdout(flags.json ? `${JSON.stringify(view, null, 2)}\n` : `${text(view.value)}\n`);
    return;
  }
  if (flags.json) {
    io.stdout(`${JSON.stringify({ file: configPath(io.env), settings: views }, null, 2)}\n`);
    return;
  }
  const width = Math.max(...views.map((v) => v.key.length));
  const lines = views.map((v) => {
    const source = v.env ? `env ${v.env}` : v.source;
    return `${v.key.padEnd(width)}  ${(text(v.value) || '-').padEnd(24)}  ${source}`.trimEnd();
  });
  io.stdout(`${lines.join('\n')}\n`);
}

export async function configSet(name: string, given: string, io: ConfigIo): Promise<void> {
  const key = requireKey(name);
  // A secret setting given as '-' is read from standard input (not left in shell history or `ps`).
  const raw = specOf(key).secret ? await secretArgument(given, key) : given;
  if (specOf(key).notInFile) {
    throw new CliError(`'${key}' cannot be set in the config file; set ABPROXY_HOME instead`, EXIT.usage);
  }
  const value = parseForFile(key, raw, io.env);
  const store = await openStore(io.env);
  // `config set`s run in parallel (xargs -P, a provisioning script) dropped each other's settings.
  await underFileLock(store.path, "'abproxy config' command", () => {
    if (value === undefined) store.delete(key);
    else store.set(key, value);
  });
  const shadow = ENV_NAMES[key].find((n) => io.env[n] !== undefined && io.env[n] !== '');
  if (shadow) io.stderr(`note: ${shadow} is set in the environment and wins over the config file\n`);
}

export async function configUnset(name: string, io: ConfigIo): Promise<void> {
  const key = requireKey(name);
  const store = await openStore(io.env);
  await underFileLock(store.path, "'abproxy config' command", () => store.delete(key));
}

export function registerConfig(program: Command, io: ConfigIo): void {
  const config = program
    .command('config')
    .description(`show and edit settings (the file is ABPROXY_HOME/config.json)`);
  config
    .command('get', { isDefault: true })
    .description('show every setting with its source, or one setting’s value (the default)')
    .argument('[key]', 'setting name (e.g. region, masterApiKey) or its env name (e.g. AWS_REGION)')
    .option('--json', 'print JSON')
    .option('--show-secrets', 'do not mask the master key, signing secret and Bedrock API key')
    .action((key: string | undefined, flags: GetFlags) => configGet(key, flags, io));
  config
    .command('set')
    .description('store a setting in the config file (checked like serve checks it)')
    .argument('<key>', 'setting name or env name')
    .argument(
      '<value>',
      "value; JSON for object settings such as modelMap; '-' reads a secret from standard input",
    )
    .option('--json', 'print the setting as `config get KEY --json` does (secrets masked)')
    .addHelpText('after', settingsHelp)
    .action(async (key: string, value: string, flags: { json?: boolean }) => {
      await configSet(key, value, io);
      if (flags.json) await configGet(key, { json: true }, io);
    });
  config
    .command('unset')
    .description('remove a setting from the config file')
    .argument('<key>', 'setting name or env name')
    .option('--json', 'print the setting as `config get KEY --json` does (secrets masked)')
    .action(async (key: string, flags: { json?: boolean }) => {
      await configUnset(key, io);
      if (flags.json) await configGet(key, { json: true }, io);
    });
  config
    .command('path')
    .description('print the config file path')
    .option('--json', 'print {"file": PATH}')
    .action((flags: { json?: boolean }) => {
      const file = configPath(io.env);
      io.stdout(flags.json ? `${JSON.stringify({ file })}\n` : `${file}\n`);
    });
  refuseUnknownSubcommands(config, 'get');
}
