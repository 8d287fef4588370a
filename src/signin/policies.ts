/**
 * Sign-in policies (ABPROXY_POLICIES): an ordered list matched by IdP group or email domain, first
 * match wins, else the base policy. Each gives what a key gives (model globs, tier, RPM/TPM, monthly
 * budget) plus the Claude Code managed settings served at /managed/settings. Pure: no I/O here.
 */
import { createHash } from 'node:crypto';
import { SERVICE_TIERS, type ServiceTier } from '../models/types.ts';
import type { KeyLimits } from '../store/types.ts';

export interface Policy {
  name: string;
  /** Matches when the person is in any of these IdP groups… */
  groups: string[];
  /** …or their email's domain is one of these (lower-case). */
  emailDomains: string[];
  models?: string[];
  serviceTier?: ServiceTier;
  limits: KeyLimits;
  /** Claude Code managed settings; `availableModels` is enforced by the gateway too. */
  settings?: Record<string, unknown>;
}

export interface PolicySet {
  policies: Policy[];
  base?: Policy;
}

export const BASE_POLICY_NAME = 'base';

export class PolicyError extends Error {
  override name = 'PolicyError';
}

const POLICY_FIELDS = new Set([
  'name',
  'groups',
  'emailDomains',
  'models',
  'serviceTier',
  'requestsPerMinute',
  'tokensPerMinute',
  'monthlyBudgetUsd',
  'concurrentRequests',
  'webSearch',
  'webSearchesPerDay',
  'settings',
]);

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.trim() === '')) {
    throw new PolicyError(`${where}: expected a list of non-empty strings`);
  }
  return value.map((item: string) => item.trim());
}

function positive(value: unknown, where: string, integer: boolean): number {
  if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value))) {
    throw new PolicyError(`${where}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

function parsePolicy(raw: unknown, where: string, isBase: boolean): Policy {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PolicyError(`${where}: expected an object`);
  }
  const entry = raw as Record<string, unknown>;
  for (const field of Object.keys(entry)) {
    if (!POLICY_FIELDS.has(field)) {
      throw new PolicyError(`${where}.${field}: unknown field (known: ${[...POLICY_FIELDS].join(', ')})`);
    }
  }
  let name = BASE_POLICY_NAME;
  if (!isBase || entry.name !== undefined) {
    if (typeof entry.name !== 'string' || !/^[\w.-]{1,64}$/.test(entry.name)) {
      throw new PolicyError(`${where}.name: expected 1-64 of A-Z a-z 0-9 _ . -`);
    }
    name = entry.name;
  }
  const label = `${where} (${name})`;
  const policy: Policy = {
    name,
    groups: entry.groups === undefined ? [] : stringList(entry.groups, `${label}.groups`),
    emailDomains:
      entry.emailDomains === undefined
        ? []
        : stringList(entry.emailDomains, `${label}.emailDomains`).map((d) =>
            d.toLowerCase().replace(/^@/, ''),
          ),
    limits: {},
  };
  if (isBase && (policy.groups.length > 0 || policy.emailDomains.length > 0)) {
    throw new PolicyError(`${label}: the base policy matches everyone; it takes no groups or emailDomains`);
  }
  if (!isBase && policy.groups.length === 0 && policy.emailDomains.length === 0) {
    throw new PolicyError(`${label}: give groups or emailDomains (or make it the base policy)`);
  }
  if (entry.models !== undefined) policy.models = stringList(entry.models, `${label}.models`);
  if (entry.serviceTier !== undefined) {
    if (!SERVICE_TIERS.includes(entry.serviceTier as ServiceTier)) {
      throw new PolicyError(`${label}.serviceTier: expected one of ${SERVICE_TIERS.join(', ')}`);
    }
    policy.serviceTier = entry.serviceTier as ServiceTier;
  }
  if (entry.requestsPerMinute !== undefined) {
    policy.limits.requestsPerMinute = positive(entry.requestsPerMinute, `${label}.requestsPerMinute`, true);
  }
  if (entry.tokensPerMinute !== undefined) {
    policy.limits.tokensPerMinute = positive(entry.tokensPerMinute, `${label}.tokensPerMinute`, true);
  }
  if (entry.monthlyBudgetUsd !== undefined) {
    policy.limits.budgetUsd = positive(entry.monthlyBudgetUsd, `${label}.monthlyBudgetUsd`, false);
  }
  if (entry.concurrentRequests !== undefined) {
    policy.limits.concurrentRequests = positive(
      entry.concurrentRequests,
      `${label}.concurrentRequests`,
      true,
    );
  }
  if (entry.webSearch !== undefined) {
    if (typeof entry.webSearch !== 'boolean')
      throw new PolicyError(`${label}.webSearch: expected true or false`);
    // Only a refusal is stored, as on keys (src/tools/web/quota.ts).
    if (!entry.webSearch) policy.limits.webTools = false;
  }
  if (entry.webSearchesPerDay !== undefined) {
    policy.limits.webSearchesPerDay = positive(entry.webSearchesPerDay, `${label}.webSearchesPerDay`, true);
  }
  if (entry.settings !== undefined) {
    const settings = entry.settings;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      throw new PolicyError(`${label}.settings: expected a JSON object (Claude Code managed settings)`);
    }
    const available = (settings as Record<string, unknown>).availableModels;
    if (available !== undefined) stringList(available, `${label}.settings.availableModels`);
    policy.settings = settings as Record<string, unknown>;
  }
  return policy;
}

/**
 * `{"policies": [...], "base": {...}}` or just the list. Errors name the entry and the field
 * (`policies[1] (ml).serviceTier: …`).
 */
export function parsePolicies(raw: unknown): PolicySet {
  const document = Array.isArray(raw) ? { policies: raw } : raw;
  if (typeof document !== 'object' || document === null) {
    throw new PolicyError('expected {"policies": [...], "base": {...}} or a list of policies');
  }
  const { policies = [], base, ...rest } = document as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new PolicyError(`${unknown[0]}: unknown field (known: policies, base)`);
  if (!Array.isArray(policies)) throw new PolicyError('policies: expected a list');
  const set: PolicySet = {
    policies: policies.map((entry, i) => parsePolicy(entry, `policies[${i}]`, false)),
  };
  const names = new Set<string>([BASE_POLICY_NAME]);
  for (const [i, policy] of set.policies.entries()) {
    if (names.has(policy.name)) throw new PolicyError(`policies[${i}].name: '${policy.name}' is used twice`);
    names.add(policy.name);
  }
  if (base !== undefined) set.base = parsePolicy(base, 'base', true);
  return set;
}

/** The first policy whose groups or email domains fit, else the base policy, else none. */
export function matchPolicy(
  set: PolicySet,
  who: { email: string; groups: readonly string[] },
): Policy | undefined {
  const domain = who.email.slice(who.email.lastIndexOf('@') + 1).toLowerCase();
  const found = set.policies.find(
    (policy) =>
      policy.groups.some((group) => who.groups.includes(group)) || policy.emailDomains.includes(domain),
  );
  return found ?? set.base;
}

export function policyByName(set: PolicySet, name: string | undefined): Policy | undefined {
  if (name === undefined) return undefined;
  if (name === BASE_POLICY_NAME) return set.base;
  return set.policies.find((policy) => policy.name === name);
}

/** JSON with object keys sorted at every level and no whitespace (the checksum's input). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What Claude Code compares: `sha256:` + hex SHA-256 of the canonical settings JSON. */
export function settingsChecksum(settings: Record<string, unknown>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(settings)).digest('hex')}`;
}

/**
 * `availableModels` entries are Claude Code names or aliases (`sonnet`, `claude-opus-4-5`); the gateway
 * allows a model when an entry appears in any of its names (an entry may also be a glob).
 */
export function availableModelGlobs(settings: Record<string, unknown> | undefined): string[] | undefined {
  const available = settings?.availableModels;
  if (!Array.isArray(available)) return undefined;
  return available.map((entry: string) => (/[*?]/.test(entry) ? entry : `*${entry}*`));
}
