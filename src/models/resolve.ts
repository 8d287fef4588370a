/**
 * Client model name → the Bedrock id to call and the capabilities of the model behind it. Pure.
 *
 * 1. An explicit override from config wins (exact name, or a `prefix*` pattern); its target is resolved
 *    like any other name, so `sonnet → qwen.qwen3-coder-480b-a35b-v1:0` gets Qwen capabilities.
 * 2. Claude-like names resolve against the catalogue to the best way to call that model in the region:
 *    the region's geo inference profile, then `global.`, then the bare id when it is on-demand. With no
 *    Claude models in the catalogue (Bedrock unreachable) the built-in table stands in.
 * 3. Anything else is a Bedrock model id, inference profile id or ARN, passed through unchanged — except
 *    a bare foundation id that the catalogue says cannot be called on demand (e.g. Llama 3.3, Claude 4):
 *    Bedrock would refuse it, so the region's inference profile for it is called instead.
 */
import { ApiError, echoed } from '../anthropic/errors.ts';
import {
  builtinSnapshot,
  type ClaudeName,
  canonicalClaudeId,
  claudeNameMatches,
  compareClaudeNewestFirst,
  geoPrefixesFor,
  isClaudeLike,
  PROFILE_PREFIX,
  parseBedrockClaudeId,
  parseClientClaudeName,
  sameClaudeModel,
} from './aliases.ts';
import { capabilitiesFor } from './capabilities.ts';
import type { CatalogueModel, CatalogueProfile, CatalogueSnapshot, ResolvedModel } from './types.ts';

export interface ResolveOptions {
  region: string;
  /** Client name (or `prefix*`) → Bedrock id / profile / ARN / another Claude name. */
  overrides?: Record<string, string>;
}

export function resolveModel(
  name: string,
  catalogue: CatalogueSnapshot,
  options: ResolveOptions,
): ResolvedModel {
  const requested = name;
  const override = findOverride(name.trim(), options.overrides);
  const target = override?.target ?? name.trim();
  const resolved = isClaudeLike(target)
    ? resolveClaude(target, catalogue, options.region)
    : passThrough(target, catalogue, options.region);
  return { requested, ...resolved, ...(override?.pattern ? { viaPattern: target } : {}) };
}

function findOverride(
  name: string,
  overrides: Record<string, string> | undefined,
): { target: string; pattern: boolean } | undefined {
  if (!overrides) return undefined;
  const lower = name.toLowerCase();
  let best: { length: number; target: string } | undefined;
  for (const [key, target] of Object.entries(overrides)) {
    const k = key.trim().toLowerCase();
    if (k === lower) return { target: target.trim(), pattern: false };
    // The longest matching prefix pattern wins, so `claude-opus-*` beats `claude-*`.
    if (k.endsWith('*') && lower.startsWith(k.slice(0, -1)) && (!best || k.length > best.length)) {
      best = { length: k.length, target: target.trim() };
    }
  }
  return best && { target: best.target, pattern: true };
}

type Resolution = Omit<ResolvedModel, 'requested'>;

function resolveClaude(name: string, snapshot: CatalogueSnapshot, region: string): Resolution {
  const wanted = parseClientClaudeName(name);
  const index = indexOf(fallback(snapshot, region));
  if (wanted) {
    for (const { baseModelId, parsed } of index.claude) {
      if (!claudeNameMatches(wanted, parsed)) continue;
      const modelId = invocationId(baseModelId, index, region);
      const metricsLabel = canonicalClaudeId(parsed);
      if (modelId)
        return {
          modelId,
          baseModelId,
          metricsLabel,
          caps: capabilitiesFor(baseModelId),
          ...servedBy(baseModelId, index),
        };
    }
  }
  // Anthropic's own wording, so clients show the familiar message.
  throw new ApiError('not_found_error', `model: ${echoed(name)}`);
}

function fallback(snapshot: CatalogueSnapshot, region: string): CatalogueSnapshot {
  return hasClaude(snapshot) ? snapshot : builtinFor(region);
}

const builtins = new Map<string, CatalogueSnapshot>();
function builtinFor(region: string): CatalogueSnapshot {
  let snap = builtins.get(region);
  if (!snap) {
    snap = builtinSnapshot(region);
    builtins.set(region, snap);
  }
  return snap;
}

function hasClaude(snapshot: CatalogueSnapshot): boolean {
  return indexOf(snapshot).claude.length > 0;
}

/**
 * How to call a foundation model from `region`: geo profile, then global profile, then the bare id
 * when on-demand; null when the catalogue offers no way.
 */
export function invocationId(baseModelId: string, index: CatalogueIndex, region: string): string | null {
  for (const prefix of [...geoPrefixesFor(region), 'global']) {
    const id = `${prefix}.${baseModelId}`;
    if (index.profiles.get(id)?.active) return id;
  }
  return index.models.get(baseModelId)?.onDemand ? baseModelId : null;
}

function passThrough(requested: string, snapshot: CatalogueSnapshot, region: string): Resolution {
  const name = idOfArn(requested);
  const baseModelId = baseModelIdOf(name, snapshot);
  const index = indexOf(snapshot);
  const known = name === baseModelId ? index.models.get(name) : undefined;
  const modelId = known && !known.onDemand ? (invocationId(name, index, region) ?? name) : name;
  const claude = index.claude.find((c) => c.baseModelId === baseModelId);
  const catalogued = claude !== undefined || index.models.has(baseModelId);
  return {
    modelId,
    baseModelId,
    // A Claude model has one label however it was named (the door and Bedrock ids included).
    metricsLabel: claude ? canonicalClaudeId(claude.parsed) : catalogued ? baseModelId : 'unknown',
    caps: capabilitiesFor(baseModelId),
    ...servedBy(baseModelId, index),
  };
}

/**
 * The one host that serves a model, when the catalogues say so: mantle for a model only its list has,
 * runtime for one the runtime catalogue has and the mantle list (when read) lacks.
 */
function servedBy(baseModelId: string, index: CatalogueIndex): Pick<ResolvedModel, 'servedBy' | 'mantleId'> {
  const mantleId = index.mantle?.idOf.get(baseModelId);
  const id = mantleId === undefined ? {} : { mantleId };
  if (index.models.get(baseModelId)?.mantleOnly) return { servedBy: 'mantle', ...id };
  if (index.mantle && mantleId === undefined && index.onRuntime.has(baseModelId))
    return { servedBy: 'runtime' };
  return id;
}

/** Runtime foundation id → the id the mantle host lists for the same model (exact, else same Claude model). */
function mantleIdsOf(bases: Iterable<string>, mantle: readonly string[]): Map<string, string> {
  const listed = new Set(mantle);
  const claude = mantle.flatMap((id) => {
    const parsed = parseBedrockClaudeId(id);
    return parsed ? [{ id, parsed }] : [];
  });
  const idOf = new Map<string, string>();
  for (const base of bases) {
    if (listed.has(base)) {
      idOf.set(base, base);
      continue;
    }
    const parsed = parseBedrockClaudeId(base);
    const same = parsed && claude.find((c) => sameClaudeModel(parsed, c.parsed));
    if (same) idOf.set(base, same.id);
  }
  return idOf;
}

/**
 * The foundation id behind a model id, profile id or ARN: geo prefixes stripped, ARNs reduced to their
 * last path segment, application profiles looked up in the catalogue (left as given when unknown).
 */
export function baseModelIdOf(name: string, snapshot: CatalogueSnapshot): string {
  const index = indexOf(snapshot);
  let id = name;
  if (name.startsWith('arn:')) {
    const known = index.profilesByArn.get(name);
    if (known) return known.modelIds[0] ?? name;
    const resource = arnResource(name);
    const slash = resource.indexOf('/');
    const type = resource.slice(0, slash);
    if (type !== 'foundation-model' && type !== 'inference-profile') return name;
    id = resource.slice(slash + 1);
  }
  const profile = index.profiles.get(id);
  if (profile?.type === 'APPLICATION') return profile.modelIds[0] ?? id;
  return id.replace(PROFILE_PREFIX, '');
}

/**
 * The id an ARN of a foundation model or a system-defined inference profile stands for, which is the
 * same in every account: the ARN's region and account are the client's words (its own account, or the
 * first upstream's as the door lists them), and Bedrock refuses an ARN of another region than the
 * endpoint's or another account's profile, so the upstream that serves the call — any region or account
 * of the pool, which maps a profile id to its own geography — gets the id. Other ARNs (application
 * inference profiles, provisioned or custom models) name one account's resource and stay as they are.
 */
export function idOfArn(name: string): string {
  if (!name.startsWith('arn:') || name.split(':', 3)[2] !== 'bedrock') return name;
  const resource = arnResource(name);
  const slash = resource.indexOf('/');
  const type = resource.slice(0, slash);
  const id = resource.slice(slash + 1);
  if (id === '' || id.includes('/')) return name;
  return type === 'foundation-model' || type === 'inference-profile' ? id : name;
}

/**
 * What a key's model globs may read of a name: an ARN's resource id (`inference-profile/<id>` → `<id>`)
 * rather than the whole ARN, whose partition, region and account are the caller's text and name no
 * model (`arn:aws:bedrock:us-east-1:haiku:inference-profile/…opus…` must not pass `*haiku*`).
 */
export function modelNameForGlobs(name: string): string {
  if (!name.startsWith('arn:')) return name;
  const resource = arnResource(name);
  return resource.slice(resource.indexOf('/') + 1);
}

/** arn:partition:service:region:account:<resource> — the resource may itself hold colons (`-v1:0`). */
function arnResource(arn: string): string {
  let at = -1;
  for (let i = 0; i < 5; i++) {
    at = arn.indexOf(':', at + 1);
    if (at === -1) return '';
  }
  return arn.slice(at + 1);
}

// ---- a per-snapshot index, built once (snapshots are immutable) ----

export interface CatalogueIndex {
  models: Map<string, CatalogueModel>;
  profiles: Map<string, CatalogueProfile>;
  profilesByArn: Map<string, CatalogueProfile>;
  /** Claude foundation models, active first, newest first. */
  claude: Array<{ baseModelId: string; parsed: ClaudeName; active: boolean }>;
  /** Foundation ids bedrock-runtime serves (its models and what its system profiles route to). */
  onRuntime: Set<string>;
  /** The bedrock-mantle host's list, when read: foundation id → the id mantle lists for that model. */
  mantle: { idOf: Map<string, string> } | undefined;
}

const indexes = new WeakMap<CatalogueSnapshot, CatalogueIndex>();

export function indexOf(snapshot: CatalogueSnapshot): CatalogueIndex {
  let index = indexes.get(snapshot);
  if (index) return index;
  const models = new Map(snapshot.models.map((m) => [m.modelId, m] as const));
  const profiles = new Map(snapshot.profiles.map((p) => [p.id, p] as const));
  const profilesByArn = new Map(snapshot.profiles.map((p) => [p.arn, p] as const));
  // Profile-only models (launched cross-region only) may be missing from the model list; take both.
  const bases = new Set<string>(snapshot.models.map((m) => m.modelId));
  for (const p of snapshot.profiles)
    if (p.type === 'SYSTEM_DEFINED') for (const m of p.modelIds) bases.add(m);
  const onRuntime = new Set<string>();
  for (const id of bases) if (!models.get(id)?.mantleOnly) onRuntime.add(id);
  const claude: CatalogueIndex['claude'] = [];
  for (const baseModelId of bases) {
    const parsed = parseBedrockClaudeId(baseModelId);
    if (parsed) claude.push({ baseModelId, parsed, active: models.get(baseModelId)?.active ?? true });
  }
  claude.sort((a, b) => Number(b.active) - Number(a.active) || compareClaudeNewestFirst(a.parsed, b.parsed));
  index = {
    models,
    profiles,
    profilesByArn,
    claude,
    onRuntime,
    mantle: snapshot.mantle ? { idOf: mantleIdsOf(bases, snapshot.mantle) } : undefined,
  };
  indexes.set(snapshot, index);
  return index;
}
