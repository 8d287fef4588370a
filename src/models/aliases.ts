/**
 * Claude model names as clients spell them (`claude-sonnet-4-5-20250929`, `claude-3-7-sonnet-latest`,
 * `claude-opus-5-5`, `sonnet`) and as Bedrock spells them (`anthropic.claude-sonnet-4-5-20250929-v1:0`),
 * parsed into one comparable shape, plus the built-in Bedrock table used when the catalogue is unreachable.
 */
import type { CatalogueModel, CatalogueProfile, CatalogueSnapshot } from './types.ts';

export interface ClaudeName {
  /** sonnet, opus, haiku, fable, … (any word, so a new line of models needs no code change). */
  tier: string;
  /** [major, minor]; a bare major means minor 0 (`claude-sonnet-4` = `claude-sonnet-4-0`). */
  version: readonly [number, number] | null;
  /** yyyymmdd snapshot date, when named. */
  date: string | null;
  /** Bedrock's `-v2:0` revision (3.5 Sonnet v1/v2 share a name); 0 for client names. */
  revision: number;
}

const SHORTHANDS = new Set(['sonnet', 'opus', 'haiku', 'fable', 'mythos']);

/** True for names the gateway resolves itself; anything else is a Bedrock id, profile or ARN. */
export function isClaudeLike(name: string): boolean {
  const n = name.trim().toLowerCase();
  return n.startsWith('claude-') || SHORTHANDS.has(n);
}

/**
 * `claude-<tier>-<major>[-<minor>][-<date>]` (new) or `claude-<major>[-<minor>]-<tier>[-<date>|-latest]` (old);
 * also a bare tier (`sonnet`). Dots in versions and a `[1m]`-style suffix are tolerated.
 */
export function parseClientClaudeName(name: string): ClaudeName | null {
  let n = withoutBracketSuffix(name.trim().toLowerCase());
  if (SHORTHANDS.has(n)) return { tier: n, version: null, date: null, revision: 0 };
  if (!n.startsWith('claude-')) return null;
  n = n
    .slice('claude-'.length)
    .replace(/(\d)\.(\d)/g, '$1-$2')
    .replace(/@/, '-');
  if (n.endsWith('-latest')) n = n.slice(0, -'-latest'.length);
  return parseParts(n.split('-'), 0);
}

/**
 * `claude-sonnet-4-5[1m]` → `claude-sonnet-4-5`: the trailing `[…]` (no `]` inside) is dropped. Found
 * with indexOf rather than a regex, which retried from every `[` of a client-chosen name (quadratic).
 */
export function withoutBracketSuffix(name: string): string {
  if (!name.endsWith(']')) return name;
  const open = name.indexOf('[', name.lastIndexOf(']', name.length - 2) + 1);
  return open === -1 ? name : name.slice(0, open);
}

/** `anthropic.claude-sonnet-4-5-20250929-v1:0` / `anthropic.claude-opus-4-6-v1` / `anthropic.claude-opus-5-5`. */
export function parseBedrockClaudeId(baseModelId: string): ClaudeName | null {
  const m = /^anthropic\.claude-(.+?)(?:-v(\d+)(?::\d+)?)?(?::\d+k)?$/.exec(baseModelId.toLowerCase());
  if (!m) return null;
  return parseParts(m[1]!.split('-'), m[2] ? Number(m[2]) : 0);
}

function parseParts(parts: string[], revision: number): ClaudeName | null {
  let date: string | null = null;
  if (parts.length > 0 && /^\d{8}$/.test(parts[parts.length - 1]!)) date = parts.pop()!;
  // At most tier + major + minor; checked first, so a name of 100,000 parts is refused at once.
  if (parts.length > 3) return null;
  const numbers: number[] = [];
  let tier: string | null = null;
  // New style: tier first, then numbers. Old style: numbers, then tier.
  if (parts.length > 0 && /^[a-z]+$/.test(parts[0]!)) {
    tier = parts[0]!;
    for (const p of parts.slice(1)) {
      if (!/^\d{1,2}$/.test(p)) return null;
      numbers.push(Number(p));
    }
  } else {
    let i = 0;
    while (i < parts.length && /^\d{1,2}$/.test(parts[i]!)) numbers.push(Number(parts[i++]));
    if (i !== parts.length - 1 || !/^[a-z]+$/.test(parts[i]!)) return null;
    tier = parts[i]!;
  }
  if (numbers.length > 2) return null;
  const version = numbers.length === 0 ? null : ([numbers[0]!, numbers[1] ?? 0] as const);
  return { tier, version, date, revision };
}

/** Does the Bedrock model `candidate` serve the client name `wanted`? */
export function claudeNameMatches(wanted: ClaudeName, candidate: ClaudeName): boolean {
  if (wanted.tier !== candidate.tier) return false;
  if (wanted.version && (!candidate.version || !sameVersion(wanted.version, candidate.version))) return false;
  if (wanted.date && wanted.date !== candidate.date) return false;
  return true;
}

/**
 * Whether two Bedrock spellings name the same Claude model: the runtime's foundation id
 * (`anthropic.claude-haiku-4-5-20251001-v1:0`) and the mantle host's (`anthropic.claude-haiku-4-5`, no date
 * or revision). Same tier and version; a date only counts when both have one.
 */
export function sameClaudeModel(a: ClaudeName, b: ClaudeName): boolean {
  if (a.tier !== b.tier || !a.version || !b.version || !sameVersion(a.version, b.version)) return false;
  return !a.date || !b.date || a.date === b.date;
}

function sameVersion(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/**
 * YYYYMMDD strings in order. Not localeCompare: its first call loads ICU's collator into the serving
 * process for good (measured: ~7 MB of RSS, half of it malloc'd), for digits that sort as they are.
 */
const compareDates = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Newer first: version, then date, then Bedrock revision. */
export function compareClaudeNewestFirst(a: ClaudeName, b: ClaudeName): number {
  const av = a.version ?? [0, 0];
  const bv = b.version ?? [0, 0];
  return (
    bv[0] - av[0] || bv[1] - av[1] || compareDates(b.date ?? '', a.date ?? '') || b.revision - a.revision
  );
}

/**
 * A Claude model's Anthropic id for its Bedrock base id (`anthropic.claude-sonnet-4-5-20250929-v1:0` →
 * `claude-sonnet-4-5-20250929`), as a list: empty for any other family (for flatMap).
 */
export function anthropicIdsOf(baseModelId: string): string[] {
  const parsed = parseBedrockClaudeId(baseModelId);
  return parsed ? [canonicalClaudeId(parsed)] : [];
}

/** The id Anthropic's API would list: `claude-sonnet-4-5-20250929`, `claude-3-7-sonnet-20250219`, `claude-opus-4-6`. */
export function canonicalClaudeId(n: ClaudeName): string {
  return [...claudeStem(n, false), ...(n.date ? [n.date] : [])].join('-');
}

/** The dateless alias: `claude-sonnet-4-5`, `claude-sonnet-4-0`, `claude-3-7-sonnet`. */
export function claudeAlias(n: ClaudeName): string {
  return claudeStem(n, true).join('-');
}

function claudeStem(n: ClaudeName, keepZeroMinor: boolean): string[] {
  if (!n.version) return ['claude', n.tier];
  const [major, minor] = n.version;
  // Anthropic's aliases spell a zero minor from generation 4 on (`claude-sonnet-4-0`), not before.
  const spellMinor = minor !== 0 || (keepZeroMinor && major >= 4);
  const nums = spellMinor ? [String(major), String(minor)] : [String(major)];
  // Generation 3 put the version before the tier; from 4 on it follows it.
  return major <= 3 ? ['claude', ...nums, n.tier] : ['claude', n.tier, ...nums];
}

export function claudeDisplayName(n: ClaudeName): string {
  const tier = n.tier.charAt(0).toUpperCase() + n.tier.slice(1);
  if (!n.version) return `Claude ${tier}`;
  const [major, minor] = n.version;
  const v = minor === 0 && major >= 4 ? String(major) : `${major}.${minor}`;
  return major <= 3 ? `Claude ${v === `${major}.0` ? major : v} ${tier}` : `Claude ${tier} ${v}`;
}

/**
 * Foundation ids of the Claude models Claude Code 2.1.331 maps to Bedrock (protocol-notes.md). Used only
 * when the live catalogue cannot be read, so that Claude aliases keep working offline.
 */
const BUILTIN_CLAUDE_MODELS: readonly string[] = [
  'anthropic.claude-3-5-haiku-20241022-v1:0',
  'anthropic.claude-haiku-4-5-20251001-v1:0',
  'anthropic.claude-haiku-5-5',
  'anthropic.claude-3-5-sonnet-20241022-v2:0',
  'anthropic.claude-3-7-sonnet-20250219-v1:0',
  'anthropic.claude-sonnet-4-20250514-v1:0',
  'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'anthropic.claude-sonnet-4-6',
  'anthropic.claude-sonnet-5',
  'anthropic.claude-sonnet-5-5',
  'anthropic.claude-opus-4-20250514-v1:0',
  'anthropic.claude-opus-4-1-20250805-v1:0',
  'anthropic.claude-opus-4-5-20251101-v1:0',
  'anthropic.claude-opus-4-6-v1',
  'anthropic.claude-opus-4-7',
  'anthropic.claude-opus-4-8',
  'anthropic.claude-opus-5',
  'anthropic.claude-opus-5-5',
  'anthropic.claude-fable-5',
  'anthropic.claude-fable-5-1',
  'anthropic.claude-fable-5-2',
];

/** Geo prefixes of system inference profiles, most specific first, for a region. */
export function geoPrefixesFor(region: string): string[] {
  const r = region.toLowerCase();
  if (r.startsWith('us-gov-')) return ['us-gov'];
  if (r.startsWith('us-')) return ['us'];
  if (r.startsWith('eu-')) return ['eu'];
  if (r === 'ap-northeast-1' || r === 'ap-northeast-3') return ['jp', 'apac'];
  if (r === 'ap-southeast-2' || r === 'ap-southeast-4') return ['au', 'apac'];
  if (r.startsWith('ap-')) return ['apac'];
  if (r.startsWith('ca-')) return ['ca', 'us'];
  return [];
}

/** Every prefix Bedrock puts before a foundation id to name a system inference profile. */
export const PROFILE_PREFIX = /^(?:us-gov|us|eu|apac|jp|au|ca|global)\./;

/** The built-in snapshot: Claude models reachable through the region's geo profile (or global). */
export function builtinSnapshot(region: string, now = 0): CatalogueSnapshot {
  const prefix = geoPrefixesFor(region)[0] ?? 'global';
  const models: CatalogueModel[] = BUILTIN_CLAUDE_MODELS.map((modelId) => ({
    modelId,
    provider: 'Anthropic',
    inputModalities: ['TEXT', 'IMAGE'],
    outputModalities: ['TEXT'],
    onDemand: false,
    active: true,
  }));
  const profiles: CatalogueProfile[] = BUILTIN_CLAUDE_MODELS.map((modelId) => ({
    id: `${prefix}.${modelId}`,
    arn: `arn:aws:bedrock:${region}::inference-profile/${prefix}.${modelId}`,
    type: 'SYSTEM_DEFINED',
    active: true,
    modelIds: [modelId],
  }));
  return { region, source: 'builtin', fetchedAt: now, models, profiles };
}
