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
import { builtinSnapshot } from './aliases.ts';
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
    return {
      region,
      source: 'live',
      fetchedAt: this.#now(),
      models: (models.modelSummaries ?? []).flatMap(toModel),
      profiles: [...systemProfiles, ...appProfiles].flatMap(toProfile),
    };
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
  for (const s of parts) {
    for (const m of s.models) if (!models.has(m.modelId)) models.set(m.modelId, m);
    for (const p of s.profiles) if (!profiles.has(p.id)) profiles.set(p.id, p);
  }
  return {
    region: first.region,
    source: 'live',
    fetchedAt: Math.min(...parts.map((s) => s.fetchedAt)),
    models: [...models.values()],
    profiles: [...profiles.values()],
  };
}
