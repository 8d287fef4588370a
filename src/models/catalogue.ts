/**
 * The live Bedrock catalogue (ListFoundationModels + ListInferenceProfiles), cached per region.
 *
 * - One BedrockClient per region, created on first use; endpoint, region and credentials come from the
 *   SDK's normal configuration (AWS_ENDPOINT_URL_BEDROCK, profiles, …).
 * - `snapshot()` is cached for `ttlMs` (default 1 h). Once a snapshot exists, a stale one is returned at
 *   once while a single background refresh runs (no request ever waits on Bedrock's control plane twice).
 * - A failed refresh keeps the last good snapshot; with none, the built-in Claude table stands in and
 *   the next attempt comes after `retryMs`. `snapshot()` never rejects.
 */
import type {
  BedrockClientConfig,
  FoundationModelSummary,
  InferenceProfileSummary,
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
} from '@aws-sdk/client-bedrock';
import { builtinSnapshot, claudeDisplayName, parseBedrockClaudeId, sameClaudeModel } from './aliases.ts';
import type { CatalogueModel, CatalogueProfile, CatalogueSnapshot } from './types.ts';

/** The part of BedrockClient the catalogue uses (a fake in tests). */
export interface BedrockControlClient {
  send(command: ListFoundationModelsCommand | ListInferenceProfilesCommand): Promise<unknown>;
}

type ControlSdk = typeof import('@aws-sdk/client-bedrock');
/** Once loaded, later loads send at once (no await before the first call). */
let controlSdk: ControlSdk | undefined;

export interface CatalogueOptions {
  /** Region used when snapshot() is called without one. */
  region: string;
  ttlMs?: number;
  /** Wait before retrying after a failed load when no good snapshot exists. */
  retryMs?: number;
  /** Client per region; defaults to `new BedrockClient({region, ...clientConfig})`. */
  clientFor?: (region: string) => BedrockControlClient;
  clientConfig?: Omit<BedrockClientConfig, 'region'>;
  now?: () => number;
  /** Told about failed refreshes (the request path never sees them). */
  onError?: (error: unknown, region: string) => void;
  /**
   * The ids the bedrock-mantle host lists for a region (its `/v1/models`), read with each load; absent:
   * the catalogue knows bedrock-runtime only. A failure leaves the snapshot without a mantle list.
   */
  mantleModels?: (region: string) => Promise<readonly string[]>;
  /** Told when the mantle list could not be read (the runtime catalogue still loads). */
  onMantleError?: (error: unknown, region: string) => void;
}

interface RegionState {
  good?: CatalogueSnapshot;
  /** When the current snapshot (good or builtin) stops being fresh. */
  expiresAt: number;
  fallback?: CatalogueSnapshot;
  inflight?: Promise<CatalogueSnapshot>;
}

const HOUR = 3_600_000;

export class Catalogue {
  readonly #options: CatalogueOptions;
  readonly #clients = new Map<string, BedrockControlClient>();
  readonly #regions = new Map<string, RegionState>();
  readonly #now: () => number;

  constructor(options: CatalogueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async snapshot(region: string = this.#options.region): Promise<CatalogueSnapshot> {
    const state = this.#state(region);
    const current = state.good ?? state.fallback;
    if (current && this.#now() < state.expiresAt) return current;
    const refresh = this.refresh(region);
    // Stale but usable: answer now, refresh behind.
    return current ?? refresh;
  }

  /**
   * What `snapshot()` would answer, without a promise (callers on every request): a stale snapshot starts
   * the refresh behind it; before the first load finished, undefined (and that load is started).
   */
  current(region: string = this.#options.region): CatalogueSnapshot | undefined {
    const state = this.#state(region);
    const current = state.good ?? state.fallback;
    if (current === undefined || this.#now() >= state.expiresAt) void this.refresh(region);
    return current;
  }

  /** The last snapshot without waiting (undefined before the first load finished). */
  peek(region: string = this.#options.region): CatalogueSnapshot | undefined {
    const state = this.#regions.get(region);
    return state?.good ?? state?.fallback;
  }

  /** Loads now (joining a load already running); resolves to the snapshot in use afterwards. */
  refresh(region: string = this.#options.region): Promise<CatalogueSnapshot> {
    const state = this.#state(region);
    state.inflight ??= this.#load(region)
      .then((snap) => {
        state.good = snap;
        state.expiresAt = this.#now() + (this.#options.ttlMs ?? HOUR);
        return snap;
      })
      .catch((error: unknown) => {
        // A background refresh has no one awaiting it: a throwing reporter must not become an unhandled rejection.
        try {
          this.#options.onError?.(error, region);
        } catch {}
        if (!state.good) {
          state.fallback ??= builtinSnapshot(region, this.#now());
          state.expiresAt = this.#now() + (this.#options.retryMs ?? 60_000);
          return state.fallback;
        }
        // Keep serving the last good snapshot; try again after another retry interval.
        state.expiresAt = this.#now() + (this.#options.retryMs ?? 60_000);
        return state.good;
      })
      .finally(() => {
        state.inflight = undefined;
      });
    return state.inflight;
  }

  #state(region: string): RegionState {
    let state = this.#regions.get(region);
    if (!state) {
      state = { expiresAt: 0 };
      this.#regions.set(region, state);
    }
    return state;
  }

  #client(region: string, sdk: ControlSdk): BedrockControlClient {
    let client = this.#clients.get(region);
    if (!client) {
      client =
        this.#options.clientFor?.(region) ?? new sdk.BedrockClient({ ...this.#options.clientConfig, region });
      this.#clients.set(region, client);
    }
    return client;
  }

  async #load(region: string): Promise<CatalogueSnapshot> {
    const { mantleModels, onMantleError } = this.#options;
    // Mantle's list is asked first, so it runs beside the control plane's (and the SDK's loading).
    const mantle = mantleModels?.(region).catch((error: unknown) => {
      try {
        onMantleError?.(error, region);
      } catch {}
      return undefined;
    });
    // The control plane's SDK loads with the first catalogue read (after `serve` listens), not at start.
    controlSdk ??= await import('@aws-sdk/client-bedrock');
    const sdk = controlSdk;
    const client = this.#client(region, sdk);
    const [models, systemProfiles, appProfiles] = await Promise.all([
      client.send(new sdk.ListFoundationModelsCommand({})) as Promise<{
        modelSummaries?: FoundationModelSummary[];
      }>,
      listProfiles(client, sdk, 'SYSTEM_DEFINED'),
      // Application profiles are optional extras: a caller without that permission still gets a catalogue.
      listProfiles(client, sdk, 'APPLICATION').catch(() => []),
    ]);
    const snapshot: CatalogueSnapshot = {
      region,
      source: 'live',
      fetchedAt: this.#now(),
      models: (models.modelSummaries ?? []).flatMap(toModel),
      profiles: [...systemProfiles, ...appProfiles].flatMap(toProfile),
    };
    const mantleIds = await mantle;
    return mantleIds ? withMantleModels(snapshot, mantleIds) : snapshot;
  }
}

async function listProfiles(
  client: BedrockControlClient,
  sdk: ControlSdk,
  typeEquals: 'SYSTEM_DEFINED' | 'APPLICATION',
): Promise<InferenceProfileSummary[]> {
  const all: InferenceProfileSummary[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const out = (await client.send(
      new sdk.ListInferenceProfilesCommand({ typeEquals, maxResults: 1000, nextToken }),
    )) as {
      inferenceProfileSummaries?: InferenceProfileSummary[];
      nextToken?: string;
    };
    all.push(...(out.inferenceProfileSummaries ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return all;
}

function toModel(m: FoundationModelSummary): CatalogueModel[] {
  if (!m.modelId) return [];
  return [
    {
      modelId: m.modelId,
      modelArn: m.modelArn,
      name: m.modelName,
      provider: m.providerName,
      inputModalities: m.inputModalities ?? [],
      outputModalities: m.outputModalities ?? [],
      onDemand: (m.inferenceTypesSupported ?? []).includes('ON_DEMAND'),
      active: (m.modelLifecycle?.status ?? 'ACTIVE') === 'ACTIVE',
    },
  ];
}

function toProfile(p: InferenceProfileSummary): CatalogueProfile[] {
  if (!p.inferenceProfileId) return [];
  return [
    {
      id: p.inferenceProfileId,
      arn: p.inferenceProfileArn ?? '',
      type: p.type === 'APPLICATION' ? 'APPLICATION' : 'SYSTEM_DEFINED',
      active: (p.status ?? 'ACTIVE') === 'ACTIVE',
      // arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-… → the id after the slash.
      modelIds: [
        ...new Set(
          (p.models ?? []).flatMap((m) =>
            m.modelArn ? [m.modelArn.slice(m.modelArn.indexOf('/') + 1)] : [],
          ),
        ),
      ],
    },
  ];
}

/**
 * A runtime snapshot with what the bedrock-mantle host lists: the list itself, and each Claude model
 * the runtime catalogue does not have (neither a foundation model nor behind a system profile) as a
 * `mantleOnly` model called by its bare id. Other families on mantle speak OpenAI's APIs, which the
 * gateway does not call, so they are left out. Pure.
 */
export function withMantleModels(
  snapshot: CatalogueSnapshot,
  mantleIds: readonly string[],
): CatalogueSnapshot {
  const onRuntime = new Set(snapshot.models.map((m) => m.modelId));
  for (const p of snapshot.profiles)
    if (p.type === 'SYSTEM_DEFINED') for (const id of p.modelIds) onRuntime.add(id);
  const runtimeClaude = [...onRuntime].flatMap((id) => parseBedrockClaudeId(id) ?? []);
  const added: CatalogueModel[] = [];
  for (const modelId of new Set(mantleIds)) {
    if (onRuntime.has(modelId)) continue;
    const parsed = parseBedrockClaudeId(modelId);
    // Mantle spells ids without date or revision: the runtime's Haiku 4.5 listed as `…-haiku-4-5` there.
    if (!parsed || runtimeClaude.some((r) => sameClaudeModel(parsed, r))) continue;
    added.push({
      modelId,
      name: claudeDisplayName(parsed),
      provider: 'Anthropic',
      inputModalities: ['TEXT', 'IMAGE'],
      outputModalities: ['TEXT'],
      onDemand: true,
      active: true,
      mantleOnly: true,
    });
  }
  return { ...snapshot, models: [...snapshot.models, ...added], mantle: [...mantleIds] };
}

/**
 * The model ids in the mantle host's `GET /v1/models` answer (OpenAI's list shape, `{data: [{id}]}`);
 * throws on anything else, so a wrong answer is reported rather than read as "no models".
 */
export function mantleModelIds(body: unknown): string[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error('the bedrock-mantle model list has no data array');
  const ids: string[] = [];
  for (const m of data) {
    const id = (m as { id?: unknown } | null)?.id;
    // A model id is short; a list of thousands is not a model list (each id is matched at every load).
    if (typeof id === 'string' && id.length <= MAX_MANTLE_ID_CHARS) ids.push(id);
    if (ids.length === MAX_MANTLE_IDS) break;
  }
  return ids;
}
const MAX_MANTLE_IDS = 2000;
const MAX_MANTLE_ID_CHARS = 256;

/**
 * Whether an upstream's catalogue has the id it would call: an inference profile it lists, or a
 * foundation model it lists. `undefined` when the snapshot cannot tell (not live, or an ARN).
 */
export function catalogueHas(snapshot: CatalogueSnapshot | undefined, modelId: string): boolean | undefined {
  if (snapshot?.source !== 'live' || modelId.startsWith('arn:')) return undefined;
  let ids = CALLABLE_IDS.get(snapshot);
  if (!ids) {
    ids = new Set([
      ...snapshot.profiles.filter((p) => p.active).map((p) => p.id),
      ...snapshot.models.filter((m) => m.active).map((m) => m.modelId),
    ]);
    CALLABLE_IDS.set(snapshot, ids);
  }
  return ids.has(modelId);
}

/** The ids a snapshot lists, built once per snapshot (a pool checks one on every call). */
const CALLABLE_IDS = new WeakMap<CatalogueSnapshot, Set<string>>();

/**
 * Several upstreams' catalogues as one (for alias resolution and `/v1/models`): the first snapshot's
 * region, its entries first, then what the others add. Live when any of them is live; built-in ones are
 * left out once a live one exists.
 */
export function mergeSnapshots(snapshots: readonly CatalogueSnapshot[]): CatalogueSnapshot {
  const live = snapshots.filter((s) => s.source === 'live');
  const first = snapshots[0]!;
  if (live.length === 0) return first;
  const parts = first.source === 'live' ? live : [first, ...live].filter((s) => s.source === 'live');
  if (parts.length === 1) return { ...parts[0]!, region: first.region };
  const models = new Map<string, CatalogueModel>();
  const profiles = new Map<string, CatalogueProfile>();
  let mantle: Set<string> | undefined;
  for (const s of parts) {
    for (const m of s.models) {
      // A model one upstream's runtime serves is not mantle-only because another's mantle lists it.
      const seen = models.get(m.modelId);
      if (!seen || (seen.mantleOnly && !m.mantleOnly)) models.set(m.modelId, m);
    }
    for (const p of s.profiles) if (!profiles.has(p.id)) profiles.set(p.id, p);
    if (s.mantle) mantle = new Set([...(mantle ?? []), ...s.mantle]);
  }
  const runtimeBases = new Set<string>();
  for (const m of models.values()) if (!m.mantleOnly) runtimeBases.add(m.modelId);
  for (const p of profiles.values())
    if (p.type === 'SYSTEM_DEFINED') for (const id of p.modelIds) runtimeBases.add(id);
  const runtimeClaude = [...runtimeBases].flatMap((id) => parseBedrockClaudeId(id) ?? []);
  const servedByARuntime = (m: CatalogueModel) => {
    if (runtimeBases.has(m.modelId)) return true;
    const parsed = parseBedrockClaudeId(m.modelId);
    return parsed !== null && runtimeClaude.some((r) => sameClaudeModel(parsed, r));
  };
  return {
    region: first.region,
    source: 'live',
    fetchedAt: Math.min(...parts.map((s) => s.fetchedAt)),
    // Served by another upstream's runtime (by any spelling): not mantle-only in the merge.
    models: [...models.values()].filter((m) => !(m.mantleOnly && servedByARuntime(m))),
    profiles: [...profiles.values()],
    ...(mantle ? { mantle: [...mantle] } : {}),
  };
}
