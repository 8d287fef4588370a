/**
 * Building and editing key records from what an admin typed, shared by `abproxy keys` and the admin page.
 * Values arrive as text (flags, form fields) or numbers (JSON); problems are KeySpecErrors naming the
 * field, which each caller words its own way (`--budget-usd: …`, `budget_usd: …`).
 */

import { SERVICE_TIERS, type ServiceTier } from '../models/types.ts';
import type { KeyEdit, KeyRecord } from '../store/types.ts';
import { MAX_RECORD_TEXT } from '../usage/bounds.ts';
import { parseDuration } from './duration.ts';
import { checkImportableKey, displayPrefix, generateKey, hashKey, newKeyId } from './key-format.ts';
import { parseModelGlobs } from './model-globs.ts';

/** What defines a key; every field optional. Empty text or null means "not set". */
export interface KeySpec {
  name?: string | null;
  user?: string | null;
  serviceTier?: string | null;
  rateLimit?: string | number | null;
  tokensPerMinute?: string | number | null;
  budgetUsd?: string | number | null;
  /** Most model calls in flight at once (one count for a team). */
  concurrentRequests?: string | number | null;
  /** Web search/fetch allowed (default) or not; text `true`/`false` from forms. */
  webSearch?: boolean | string | null;
  /** Most web searches per UTC day. */
  webSearchDaily?: string | number | null;
  /** Comma-separated globs or a list. */
  models?: string | readonly string[] | null;
  /** A lifetime such as 30d (create only). */
  expires?: string | null;
  /** An existing secret to import instead of a new one (create only). */
  key?: string | null;
}

export type KeySpecField = keyof KeySpec;

export class KeySpecError extends Error {
  override name = 'KeySpecError';
  readonly field: KeySpecField;
  constructor(field: KeySpecField, message: string) {
    super(message);
    this.field = field;
  }
}

/** The stable JSON shape of a key (never the secret): `keys … --json` and the admin API. */
export interface KeyJson {
  id: string;
  prefix: string;
  name: string | null;
  user: string | null;
  service_tier: ServiceTier | null;
  models: string[] | null;
  rate_limit_rpm: number | null;
  tokens_per_minute: number | null;
  budget_usd: number | null;
  /** Most model calls in flight at once (one count for a team); null: no cap. */
  concurrent_requests: number | null;
  /** Whether the key may use the web search/fetch server tools. */
  web_search: boolean;
  /** Most web searches per UTC day; null: no cap. */
  web_search_daily: number | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  status: 'active' | 'revoked' | 'expired';
}

export function keyJson(record: KeyRecord, now = Date.now()): KeyJson {
  const status = record.revokedAt
    ? 'revoked'
    : record.expiresAt && Date.parse(record.expiresAt) <= now
      ? 'expired'
      : 'active';
  return {
    id: record.id,
    prefix: record.prefix,
    name: record.name ?? null,
    user: record.user ?? null,
    service_tier: record.serviceTier ?? null,
    models: record.models ?? null,
    rate_limit_rpm: record.limits.requestsPerMinute ?? null,
    tokens_per_minute: record.limits.tokensPerMinute ?? null,
    budget_usd: record.limits.budgetUsd ?? null,
    concurrent_requests: record.limits.concurrentRequests ?? null,
    web_search: record.limits.webTools !== false,
    web_search_daily: record.limits.webSearchesPerDay ?? null,
    created_at: record.createdAt,
    expires_at: record.expiresAt ?? null,
    revoked_at: record.revokedAt ?? null,
    status,
  };
}

function given<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/**
 * Bounds far above any real use: a limit of 1e21 requests a minute or a budget of 1e308 dollars is a
 * slip (or a probe), and numbers past 2^53 are no longer counted exactly.
 */
const MAX_LIMIT = 1_000_000_000;
const MAX_MODEL_GLOBS = 100;
const MAX_GLOB_LENGTH = 256;

/** A number written in decimal: Number() alone also reads 0x10, 0b11 and 0o17. */
const DECIMAL = /^\s*(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

function positive(field: KeySpecField, raw: string | number | null | undefined, integer: boolean) {
  if (!given(raw)) return undefined;
  const n = typeof raw === 'string' && !DECIMAL.test(raw) ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new KeySpecError(field, `expected a positive ${integer ? 'integer' : 'number'}, got '${raw}'`);
  }
  if (n > MAX_LIMIT)
    throw new KeySpecError(field, `at most ${MAX_LIMIT.toLocaleString('en-US')}, got '${raw}'`);
  return n;
}

function flag(field: KeySpecField, raw: boolean | string | null | undefined): boolean | undefined {
  if (!given(raw)) return undefined;
  if (typeof raw === 'boolean') return raw;
  // The admin API's JSON may hold anything here (a number, a list): a 400, not a TypeError's 500.
  if (typeof raw !== 'string') throw new KeySpecError(field, 'expected true or false');
  const value = raw.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(value)) return true;
  if (['false', 'no', 'off', '0'].includes(value)) return false;
  throw new KeySpecError(field, `expected true or false, got '${raw}'`);
}

function text(field: KeySpecField, raw: unknown, maxLength = Number.POSITIVE_INFINITY): string | undefined {
  if (!given(raw)) return undefined;
  if (typeof raw !== 'string') throw new KeySpecError(field, 'expected text');
  // Refused rather than cut: a stored label is shown back to the admin as typed.
  if (raw.length > maxLength)
    throw new KeySpecError(field, `at most ${maxLength} characters (got ${raw.length})`);
  return raw;
}

/** The editable fields (name, user, tier, models, limits) as they would be stored. */
export function keyEdit(spec: KeySpec): KeyEdit {
  const edit: KeyEdit = { limits: {} };
  const name = text('name', spec.name, MAX_RECORD_TEXT);
  const user = text('user', spec.user, MAX_RECORD_TEXT);
  if (name !== undefined) edit.name = name;
  if (user !== undefined) edit.user = user;
  const tierText = text('serviceTier', spec.serviceTier);
  if (tierText !== undefined) {
    const tier = tierText.trim().toLowerCase() as ServiceTier;
    if (!(SERVICE_TIERS as readonly string[]).includes(tier)) {
      throw new KeySpecError('serviceTier', `expected one of ${SERVICE_TIERS.join(', ')}, got '${tierText}'`);
    }
    edit.serviceTier = tier;
  }
  if (spec.models !== undefined && spec.models !== null) {
    // JSON callers (the admin API) may send anything: only text globs are read, never stringified objects.
    if (
      typeof spec.models !== 'string' &&
      (!Array.isArray(spec.models) || !spec.models.every((g) => typeof g === 'string'))
    ) {
      throw new KeySpecError('models', 'expected comma-separated model globs or a list of them');
    }
    const models =
      typeof spec.models === 'string'
        ? parseModelGlobs(spec.models)
        : spec.models.map((glob) => glob.trim()).filter((glob) => glob !== '');
    // An empty field means every model; an explicit empty list or only commas is a slip.
    if (models.length === 0 && (typeof spec.models !== 'string' || spec.models.trim() !== '')) {
      throw new KeySpecError('models', 'give at least one model glob');
    }
    if (models.length > MAX_MODEL_GLOBS) {
      throw new KeySpecError('models', `at most ${MAX_MODEL_GLOBS} model globs (got ${models.length})`);
    }
    const long = models.find((glob) => glob.length > MAX_GLOB_LENGTH);
    if (long !== undefined) {
      throw new KeySpecError(
        'models',
        `a model glob has at most ${MAX_GLOB_LENGTH} characters (got ${long.length})`,
      );
    }
    if (models.length > 0) edit.models = models;
  }
  const limits = {
    requestsPerMinute: positive('rateLimit', spec.rateLimit, true),
    tokensPerMinute: positive('tokensPerMinute', spec.tokensPerMinute, true),
    budgetUsd: positive('budgetUsd', spec.budgetUsd, false),
    concurrentRequests: positive('concurrentRequests', spec.concurrentRequests, true),
  };
  for (const name of Object.keys(limits) as Array<keyof typeof limits>) {
    if (limits[name] !== undefined) edit.limits[name] = limits[name];
  }
  // Only a refusal is stored: keys made before web tools existed, and keys without the flag, are allowed.
  if (flag('webSearch', spec.webSearch) === false) edit.limits.webTools = false;
  const daily = positive('webSearchDaily', spec.webSearchDaily, true);
  if (daily !== undefined) edit.limits.webSearchesPerDay = daily;
  return edit;
}

/** The record a create would store (pure apart from the random secret and id). */
export function newKeyRecord(spec: KeySpec, now: Date): { record: KeyRecord; secret: string } {
  const imported = text('key', spec.key);
  if (imported !== undefined) {
    const problem = checkImportableKey(imported);
    if (problem) throw new KeySpecError('key', problem);
  }
  const secret = imported ?? generateKey();
  const edit = keyEdit(spec);
  let expiresAt: string | undefined;
  const expires = text('expires', spec.expires);
  if (expires !== undefined) {
    const ms = parseDuration(expires);
    if (ms === undefined) {
      throw new KeySpecError(
        'expires',
        `expected a duration such as 30d, 12h or 90m (at most 100 years), got '${expires}'`,
      );
    }
    expiresAt = new Date(now.getTime() + ms).toISOString();
  }
  const record: KeyRecord = {
    id: newKeyId(),
    hash: hashKey(secret),
    prefix: displayPrefix(secret),
    limits: edit.limits,
    createdAt: now.toISOString(),
  };
  if (edit.name !== undefined) record.name = edit.name;
  if (edit.user !== undefined) record.user = edit.user;
  if (edit.serviceTier) record.serviceTier = edit.serviceTier;
  if (edit.models) record.models = edit.models;
  if (expiresAt) record.expiresAt = expiresAt;
  return { record, secret };
}
