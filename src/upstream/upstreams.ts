/**
 * The list of Bedrock upstreams (regions, accounts) behind the gateway: `ABPROXY_UPSTREAMS` as JSON or
 * the config file's `upstreams` list. Pure parsing and validation; every error names the entry and the
 * field, so a typo in a ten-entry list is found at start-up and not on the first throttled request.
 */
import { ConfigError, jsonValue, type Parser } from '../config/parsers.ts';

/** Inference-profile prefix an upstream calls (`none`: the base model id). */
export const PROFILE_PREFIXES = ['global', 'us', 'eu', 'apac', 'none'] as const;
export type ProfilePrefix = (typeof PROFILE_PREFIXES)[number];

/** How calls pick among upstreams: list order, or least loaded by weight. */
export const STRATEGIES = ['failover', 'weighted'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** In the shape the setting is written, so a parsed list parses again unchanged (`config set`). */
export type UpstreamCredentials =
  | 'default'
  | { profile: string }
  | { roleArn: string; externalId?: string }
  | { bearerToken: string }
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export interface UpstreamSpec {
  name: string;
  region: string;
  /** Runtime endpoint override (else the SDK's env/config handling, then the region's rules). */
  endpoint?: string;
  /** Control-plane (catalogue) endpoint override. */
  controlEndpoint?: string;
  credentials: UpstreamCredentials;
  /** Share of calls under the `weighted` strategy. */
  weight: number;
  /** Model-id globs this upstream may serve (`*` any run of characters); absent: every model. */
  models?: string[];
  profilePrefix?: ProfilePrefix;
}

const FIELDS = new Set([
  'name',
  'region',
  'endpoint',
  'controlEndpoint',
  'credentials',
  'weight',
  'models',
  'profilePrefix',
]);

function text(entry: Record<string, unknown>, field: string, where: string, required: true): string;
function text(
  entry: Record<string, unknown>,
  field: string,
  where: string,
  required: false,
): string | undefined;
function text(entry: Record<string, unknown>, field: string, where: string, required: boolean) {
  const value = entry[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`${where}.${field}: expected a non-empty string`);
  }
  return value.trim();
}

function url(entry: Record<string, unknown>, field: string, where: string): string | undefined {
  const value = text(entry, field, where, false);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${where}.${field}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${where}.${field}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Never echoes a value: credentials fields may hold secrets. */
function credentials(raw: unknown, where: string): UpstreamCredentials {
  const at = `${where}.credentials`;
  if (raw === undefined || raw === 'default') return 'default';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      `${at}: expected "default" or an object with profile, roleArn, bearerToken or accessKeyId`,
    );
  }
  const c = raw as Record<string, unknown>;
  const field = (name: string, required: boolean): string | undefined => {
    const value = c[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '')
      throw new ConfigError(`${at}.${name}: expected a non-empty string`);
    return value;
  };
  const only = (...allowed: string[]) => {
    for (const key of Object.keys(c)) {
      if (!allowed.includes(key)) throw new ConfigError(`${at}.${key}: not allowed with ${allowed[0]}`);
    }
  };
  if (c.profile !== undefined) {
    only('profile');
    return { profile: field('profile', true)! };
  }
  if (c.roleArn !== undefined) {
    only('roleArn', 'externalId');
    const roleArn = field('roleArn', true)!;
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/\S+$/.test(roleArn)) {
      throw new ConfigError(`${at}.roleArn: expected an IAM role ARN (arn:aws:iam::123456789012:role/NAME)`);
    }
    const externalId = field('externalId', false);
    return externalId === undefined ? { roleArn } : { roleArn, externalId };
  }
  if (c.bearerToken !== undefined) {
    only('bearerToken');
    return { bearerToken: field('bearerToken', true)! };
  }
  if (c.accessKeyId !== undefined || c.secretAccessKey !== undefined) {
    only('accessKeyId', 'secretAccessKey', 'sessionToken');
    const accessKeyId = field('accessKeyId', true)!;
    const secretAccessKey = field('secretAccessKey', true)!;
    const sessionToken = field('sessionToken', false);
    return sessionToken === undefined
      ? { accessKeyId, secretAccessKey }
      : { accessKeyId, secretAccessKey, sessionToken };
  }
  throw new ConfigError(`${at}: expected one of profile, roleArn, bearerToken, accessKeyId`);
}

function entry(raw: unknown, index: number): UpstreamSpec {
  let where = `[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${where}: expected an object with at least name and region`);
  }
  const e = raw as Record<string, unknown>;
  const name = text(e, 'name', where, true);
  if (!/^[\w.-]{1,64}$/.test(name)) {
    throw new ConfigError(
      `${where}.name: letters, digits, '.', '_' and '-' only (it becomes a header and a label)`,
    );
  }
  where = `[${index}] (${name})`;
  for (const key of Object.keys(e)) {
    if (!FIELDS.has(key))
      throw new ConfigError(`${where}.${key}: unknown field (known: ${[...FIELDS].join(', ')})`);
  }
  const region = text(e, 'region', where, true);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ConfigError(
      `${where}.region: expected an AWS region like us-east-1, got ${JSON.stringify(region)}`,
    );
  }
  const spec: UpstreamSpec = { name, region, credentials: credentials(e.credentials, where), weight: 1 };
  const endpoint = url(e, 'endpoint', where);
  if (endpoint !== undefined) spec.endpoint = endpoint;
  const controlEndpoint = url(e, 'controlEndpoint', where);
  if (controlEndpoint !== undefined) spec.controlEndpoint = controlEndpoint;
  if (e.weight !== undefined) {
    if (typeof e.weight !== 'number' || !Number.isFinite(e.weight) || e.weight <= 0) {
      throw new ConfigError(`${where}.weight: expected a positive number, got ${JSON.stringify(e.weight)}`);
    }
    spec.weight = e.weight;
  }
  if (e.models !== undefined) {
    if (
      !Array.isArray(e.models) ||
      e.models.length === 0 ||
      !e.models.every((m) => typeof m === 'string' && m !== '')
    ) {
      throw new ConfigError(`${where}.models: expected a non-empty list of model-id globs`);
    }
    spec.models = e.models as string[];
  }
  if (e.profilePrefix !== undefined) {
    if (!PROFILE_PREFIXES.includes(e.profilePrefix as ProfilePrefix)) {
      throw new ConfigError(
        `${where}.profilePrefix: expected one of ${PROFILE_PREFIXES.join(', ')}, got ${JSON.stringify(e.profilePrefix)}`,
      );
    }
    spec.profilePrefix = e.profilePrefix as ProfilePrefix;
  }
  return spec;
}

/** JSON text (env) or a list (config file) → validated upstreams; errors name `label[i] (name).field`. */
export const parseUpstreams: Parser<UpstreamSpec[]> = (raw, label) => {
  const value = jsonValue(raw, label);
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(`${label}: expected a non-empty JSON list of upstreams`);
  }
  const specs: UpstreamSpec[] = [];
  const names = new Set<string>();
  for (const [index, item] of value.entries()) {
    let spec: UpstreamSpec;
    try {
      spec = entry(item, index);
    } catch (err) {
      throw new ConfigError(`${label}${(err as Error).message}`);
    }
    if (names.has(spec.name)) throw new ConfigError(`${label}[${index}].name: "${spec.name}" is used twice`);
    names.add(spec.name);
    specs.push(spec);
  }
  return specs;
};

/**
 * Strategy per model: JSON object (env) or object (config file) of model-id glob → `failover` | `weighted`,
 * e.g. `{"*claude-haiku*": "weighted"}`; errors name `label["glob"]`.
 */
export const parseStrategies: Parser<Record<string, Strategy> | undefined> = (raw, label) => {
  if (raw === undefined || raw === '') return undefined;
  const value = jsonValue(raw, label);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${label}: expected a JSON object of model-id glob → ${STRATEGIES.join(' | ')}`);
  }
  const out: Record<string, Strategy> = {};
  for (const [glob, strategy] of Object.entries(value)) {
    if (glob.trim() === '') throw new ConfigError(`${label}[""]: a model-id glob may not be empty`);
    if (!STRATEGIES.includes(strategy as Strategy)) {
      throw new ConfigError(
        `${label}[${JSON.stringify(glob)}]: expected one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`,
      );
    }
    out[glob.trim()] = strategy as Strategy;
  }
  return out;
};

/** A model-id glob (`*` any run, `?` one character) as a whole-id test. */
export function globMatcher(glob: string): (id: string) => boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const re = new RegExp(`^${pattern}$`);
  return (id) => re.test(id);
}

const PROFILE_ID = /^(global|us|us-gov|eu|apac|jp|au|ca)\.(.+)$/;

/** The foundation-model id under an inference-profile id (`us.anthropic.x` → `anthropic.x`). */
export function baseModelId(modelId: string): string {
  if (modelId.startsWith('arn:')) return modelId;
  return PROFILE_ID.exec(modelId)?.[2] ?? modelId;
}

/** The id an upstream with `prefix` calls for `modelId`; ARNs and unprefixed configs pass through. */
export function modelIdFor(modelId: string, prefix: ProfilePrefix | undefined): string {
  if (prefix === undefined || modelId.startsWith('arn:')) return modelId;
  const base = baseModelId(modelId);
  return prefix === 'none' ? base : `${prefix}.${base}`;
}

/** Names of the upstreams whose `models` globs admit `modelId` (all without globs), in list order. */
export function upstreamsServing(
  specs: readonly Pick<UpstreamSpec, 'name' | 'models'>[],
  modelId: string,
): string[] {
  return specs
    .filter((spec) => spec.models === undefined || spec.models.some((glob) => globMatcher(glob)(modelId)))
    .map((spec) => spec.name);
}

/**
 * An upstream without `profilePrefix` calls geographic profiles of its own geography: a `us.` id
 * resolved from the first upstream's catalogue becomes `eu.` for an eu-west-1 upstream. `global.` ids,
 * base ids and regions outside us/eu/ap stay as they are.
 */
export function defaultProfilePrefix(region: string): ProfilePrefix | undefined {
  if (region.startsWith('us-') && !region.startsWith('us-gov-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return undefined;
}

/** The id an upstream in `region` calls: its own `profilePrefix`, else its geography for geographic ids. */
export function modelIdForUpstream(
  modelId: string,
  region: string,
  prefix: ProfilePrefix | undefined,
): string {
  if (prefix !== undefined) return modelIdFor(modelId, prefix);
  const geo = /^(us|eu|apac)\./.exec(modelId)?.[1];
  const own = defaultProfilePrefix(region);
  return geo !== undefined && own !== undefined && geo !== own ? modelIdFor(modelId, own) : modelId;
}
