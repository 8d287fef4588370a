/**
 * Value parsers for settings: each turns a raw layer value (a string from env or a flag, anything JSON
 * from the config file) into the setting's type, or throws a ConfigError that names where it came from.
 * `label` is that origin (`ABPROXY_PORT`, `--port`, `config file: port`).
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Parser<T> = (raw: unknown, label: string) => T;

export function integer(min: number, max: number): Parser<number> {
  return (raw, label) => {
    // Decimal digits only: Number() would also read '0x10', '1e3' or '0b11' as numbers.
    const n =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)
          ? Number(raw)
          : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(
        `${label}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      );
    }
    return n;
  };
}

export const boolean: Parser<boolean> = (raw, label) => {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new ConfigError(`${label}: expected true or false, got ${JSON.stringify(raw)}`);
};

interface StringOptions {
  /** The value is never echoed in an error (a master key typed as a number in the file). */
  secret?: boolean;
  lowercase?: boolean;
  /** An empty (or blank) value means "not set". */
  emptyIsUnset?: boolean;
  /** A whole-string pattern the trimmed value must match, with a description for the error. */
  pattern?: { test: (value: string) => boolean; describe: string };
}

export function string(options: StringOptions & { emptyIsUnset: true }): Parser<string | undefined>;
export function string(options?: StringOptions): Parser<string>;
export function string(options: StringOptions = {}): Parser<string | undefined> {
  return (raw, label) => {
    if (typeof raw !== 'string') {
      const shown = options.secret ? typeof raw : JSON.stringify(raw);
      throw new ConfigError(`${label}: expected a string, got ${shown}`);
    }
    let value = raw.trim();
    if (options.lowercase) value = value.toLowerCase();
    if (options.emptyIsUnset && value === '') return undefined;
    if (options.pattern && !options.pattern.test(value)) {
      throw new ConfigError(`${label}: ${options.pattern.describe} (got ${JSON.stringify(raw)})`);
    }
    return value;
  };
}

/** One of a fixed list, case-insensitive; `aliases` maps other spellings onto list members. */
export function oneOf<T extends string>(
  allowed: readonly T[],
  aliases: Readonly<Record<string, NoInfer<T>>> = {},
): Parser<T> {
  return (raw, label) => {
    const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim().toLowerCase() : raw;
    const value = typeof text === 'string' ? (aliases[text] ?? text) : text;
    if (!allowed.includes(value as T)) {
      throw new ConfigError(`${label}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return value as T;
  };
}

/** A setting that is JSON text (env) or already a value (config file): the value, or which JSON is off. */
export function jsonValue(raw: unknown, label: string): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${label}: not valid JSON (${(err as Error).message})`);
  }
}

/** A JSON object, given as JSON text (env, flags) or as an object (config file). */
export function jsonObject(what = 'a JSON object'): Parser<Record<string, unknown>> {
  return (raw, label) => {
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new ConfigError(`${label}: expected ${what}`);
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(`${label}: expected ${what}`);
    }
    return value as Record<string, unknown>;
  };
}

/** A JSON object whose values are all non-empty strings (e.g. model name → Bedrock id). */
export function stringMap(what: string, valueWhat: string): Parser<Record<string, string>> {
  const object = jsonObject(`a JSON object of ${what}`);
  return (raw, label) => {
    const map: Record<string, string> = {};
    for (const [name, target] of Object.entries(object(raw, label))) {
      if (typeof target !== 'string' || target === '') {
        throw new ConfigError(`${label}.${name}: expected ${valueWhat}`);
      }
      map[name] = target;
    }
    return map;
  };
}

/** Web origins (`scheme://host[:port]`), as a comma list or a JSON array; no wildcard, path or `null`. */
export const origins: Parser<string[]> = (raw, label) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (!items) throw new ConfigError(`${label}: expected a comma-separated list of origins`);
  const list: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new ConfigError(`${label}: expected origin strings`);
    const text = item.trim().replace(/\/$/, '');
    if (text === '') continue;
    let origin: string | undefined;
    try {
      origin = new URL(text).origin;
    } catch {}
    if (origin === undefined || origin === 'null' || origin !== text.toLowerCase() || origin.includes('*')) {
      throw new ConfigError(
        `${label}: ${JSON.stringify(item)} is not an origin; write scheme://host[:port], e.g. https://app.example.com`,
      );
    }
    list.push(origin);
  }
  return list;
};

/** A comma-separated list (env, flags) or a JSON list of strings (config file); empty means unset. */
export function commaList(options: { lowercase?: boolean } = {}): Parser<string[] | undefined> {
  return (raw, label) => {
    const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
    if (!items || items.some((item) => typeof item !== 'string')) {
      throw new ConfigError(`${label}: expected a comma-separated list, got ${JSON.stringify(raw)}`);
    }
    const list = items
      .map((item: string) => (options.lowercase ? item.trim().toLowerCase() : item.trim()))
      .filter((item) => item !== '');
    return list.length > 0 ? list : undefined;
  };
}

/** An http(s) URL; base URLs lose a trailing slash, an issuer keeps it (it must match `iss` exactly). */
export function httpUrl({ keepTrailingSlash = false } = {}): Parser<string | undefined> {
  return (raw, label) => {
    if (typeof raw !== 'string')
      throw new ConfigError(`${label}: expected a URL, got ${JSON.stringify(raw)}`);
    const text = raw.trim();
    if (text === '') return undefined;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(`${label}: expected an http(s) URL, got ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError(`${label}: expected an http(s) URL, got ${JSON.stringify(raw)}`);
    }
    return keepTrailingSlash ? text : text.replace(/\/+$/, '');
  };
}

/** A number within [min, max] (fractions allowed), e.g. a sampling ratio. */
export function decimal(min: number, max: number): Parser<number> {
  return (raw, label) => {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
    if (
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (typeof raw === 'string' && raw.trim() === '')
    ) {
      throw new ConfigError(`${label}: expected a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

/**
 * OpenTelemetry's `key1=value1,key2=value2` lists (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES;
 * values percent-decoded), or an object of strings in the config file. Empty means unset.
 */
export function keyValueList(options: { secret?: boolean } = {}): Parser<Record<string, string> | undefined> {
  return (raw, label) => {
    const map: Record<string, string> = {};
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value !== 'string') throw new ConfigError(`${label}.${key}: expected a string`);
        map[key] = value;
      }
      return Object.keys(map).length > 0 ? map : undefined;
    }
    if (typeof raw !== 'string') throw new ConfigError(`${label}: expected key=value,key=value`);
    for (const item of raw.split(',')) {
      if (item.trim() === '') continue;
      const eq = item.indexOf('=');
      const key = eq > 0 ? item.slice(0, eq).trim() : '';
      if (key === '') {
        const shown = options.secret ? 'an item' : JSON.stringify(item.trim());
        throw new ConfigError(`${label}: ${shown} is not key=value`);
      }
      let value = item.slice(eq + 1).trim();
      try {
        value = decodeURIComponent(value);
      } catch {}
      map[key] = value;
    }
    return Object.keys(map).length > 0 ? map : undefined;
  };
}

/** `oneOf`, where an empty value means "not set". */
export function optionalOneOf<T extends string>(allowed: readonly T[]): Parser<T | undefined> {
  const parse = oneOf(allowed);
  return (raw, label) => (typeof raw === 'string' && raw.trim() === '' ? undefined : parse(raw, label));
}
