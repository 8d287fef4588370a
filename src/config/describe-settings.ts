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

const REDACTED = '<redacted>';

/**
 * A URL with what may be a credential in it masked: `user:pass@` and the value of every query
 * parameter (`?token=…`, `?api_key=…`) and the fragment. Anything that is not an http(s) URL comes back as it is.
 */
export function maskUrlCredentials(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username === '' && url.password === '' && url.search === '' && url.hash === '') return text;
  // Rebuilt by hand: URL would percent-encode the brackets of the mask.
  const auth = url.username !== '' || url.password !== '' ? `${REDACTED}@` : '';
  const hasPath = /^https?:\/\/[^/?#]*\//i.test(text);
  const query = [...new Set(url.searchParams.keys())].map(
    (name) => `${encodeURIComponent(name)}=${REDACTED}`,
  );
  return (
    `${url.protocol}//${auth}${url.host}${hasPath ? url.pathname : ''}` +
    `${query.length > 0 ? `?${query.join('&')}` : ''}${url.hash !== '' ? `#${REDACTED}` : ''}`
  );
}

export function describeSettings(config: Config, env: Env, showSecrets = false): SettingView[] {
  return (Object.keys(SETTINGS) as SettingName[]).map((key) => {
    const view: SettingView = { key, value: config[key] ?? null, source: config.sources[key] };
    if (!showSecrets && view.value !== null) {
      if (specOf(key).secret) view.value = REDACTED;
      else if (typeof view.value === 'string') view.value = maskUrlCredentials(view.value);
    }
    if (view.source === 'env') view.env = ENV_NAMES[key].find((n) => env[n] !== undefined && env[n] !== '');
    return view;
  });
}
