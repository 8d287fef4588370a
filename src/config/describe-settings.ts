/** The settings in force, each with its source, secrets masked: `config get` and the admin page. */
import { type Config, ENV_NAMES, type SettingName, type Source } from './config.ts';
import { SETTINGS, specOf } from './settings.ts';

type Env = Record<string, string | undefined>;

export interface SettingView {
  key: SettingName;
  value: unknown;
  source: Source;
  /** The variable that supplied it, when source is env. */
  env?: string;
}

export function describeSettings(config: Config, env: Env, showSecrets = false): SettingView[] {
  return (Object.keys(SETTINGS) as SettingName[]).map((key) => {
    const view: SettingView = { key, value: config[key] ?? null, source: config.sources[key] };
    if (specOf(key).secret && view.value !== null && !showSecrets) view.value = '<redacted>';
    if (view.source === 'env') view.env = ENV_NAMES[key].find((n) => env[n] !== undefined && env[n] !== '');
    return view;
  });
}
