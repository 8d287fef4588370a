/**
 * The gateway's upstreams, built once at start-up from the settings: without `ABPROXY_UPSTREAMS` the one
 * BedrockUpstream of `AWS_REGION` exactly as before; with it, one BedrockUpstream per entry (its own
 * endpoint, credentials and connections) behind an UpstreamPool. Either way the handlers get one
 * BedrockRuntime. Each upstream reads its own catalogue (its control plane and credentials): a model is
 * routed only to upstreams that have it, and aliases resolve against all of them merged (the first one's
 * region and entries first).
 */
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Settings } from '../config/config.ts';
import { type BedrockControlClient, Catalogue, catalogueHas, mergeSnapshots } from '../models/catalogue.ts';
import type { CatalogueSnapshot } from '../models/types.ts';
import { BedrockUpstream, type BedrockUpstreamOptions } from './bedrock.ts';
import { type PoolObserver, UpstreamPool } from './pool.ts';
import type { BedrockRuntime } from './runtime.ts';
import { modelIdForUpstream, type UpstreamCredentials, type UpstreamSpec } from './upstreams.ts';

export interface Upstreams {
  runtime: BedrockRuntime;
  /** The pool, when several upstreams are configured (for metrics and `models`). */
  pool: UpstreamPool | undefined;
  /** Region whose catalogue the gateway reads. */
  catalogueRegion: string;
  control(region: string): BedrockControlClient;
  /** The ids the (first) upstream's bedrock-mantle host lists for a region. */
  mantleModels(region: string): Promise<readonly string[]>;
  /** Each configured upstream's own control plane (empty without `ABPROXY_UPSTREAMS`), for `doctor`. */
  each: UpstreamEntry[];
  /** With several upstreams: their catalogues merged (else undefined: one Catalogue of the region). */
  catalogue: { snapshot(): Promise<CatalogueSnapshot> } | undefined;
  /** Once a burst is over: closes the idle upstream connections but a few warm ones; how many closed. */
  closeIdle(): number;
  /** After listening: loads what the first call would, in the background (BedrockUpstream.warm). */
  warm(): void;
  destroy(): void;
}

export interface UpstreamEntry {
  name: string;
  region: string;
  spec: UpstreamSpec;
  control(): BedrockControlClient;
  /** This upstream's own catalogue (its endpoint and credentials), cached like the gateway's. */
  catalogue: Catalogue;
}

/** A pure id → id function remembered (the pool asks it for every upstream on every call; ids are few). */
function memoized(fn: (id: string) => string): (id: string) => string {
  const seen = new Map<string, string>();
  return (id) => {
    let out = seen.get(id);
    if (out === undefined) {
      if (seen.size >= 1_000) seen.clear();
      out = fn(id);
      seen.set(id, out);
    }
    return out;
  };
}

/** Longest the merged catalogue waits for an upstream other than the first on its first load. */
const OTHER_CATALOGUE_WAIT_MS = 3_000;

type UpstreamSettings = Pick<
  Settings,
  | 'region'
  | 'upstreamHttp'
  | 'upstreamIdleTimeoutMs'
  | 'upstreamMaxAttempts'
  | 'upstreamMaxConnections'
  | 'bedrockApiKey'
  | 'upstreams'
  | 'upstreamStrategy'
  | 'upstreamStrategies'
  | 'upstreamCooldownMs'
  | 'firstByteTimeoutMs'
  | 'mantleEndpoint'
>;

export interface UpstreamHooks {
  onConnectionWait?: BedrockUpstreamOptions['onConnectionWait'];
  observer?: PoolObserver;
  /** Wraps each upstream's runtime (OpenTelemetry attempt spans, when tracing is on). */
  wrapRuntime?: (runtime: BedrockRuntime, upstream: { name: string; region: string }) => BedrockRuntime;
  /** A failed refresh of one upstream's catalogue (the request path never sees it). */
  onCatalogueError?: (error: unknown, upstream: string, region: string) => void;
  /** One upstream's bedrock-mantle model list could not be read (its runtime catalogue still loads). */
  onMantleListError?: (error: unknown, upstream: string, region: string) => void;
}

/** Assumed-role credentials are cached and refreshed five minutes before they expire. */
function credentialsFor(
  credentials: UpstreamCredentials,
  region: string,
): {
  credentials?: AwsCredentialIdentityProvider;
  bearerToken?: string;
} {
  if (credentials === 'default') return {};
  if ('profile' in credentials) return { credentials: fromIni({ profile: credentials.profile }) };
  if ('roleArn' in credentials) {
    const assume = fromTemporaryCredentials({
      params: {
        RoleArn: credentials.roleArn,
        RoleSessionName: 'abproxy',
        ...(credentials.externalId === undefined ? {} : { ExternalId: credentials.externalId }),
      },
      clientConfig: { region },
    });
    const cached = memoizeIdentityProvider(assume, isIdentityExpired, doesIdentityRequireRefresh);
    return { credentials: cached as AwsCredentialIdentityProvider };
  }
  if ('bearerToken' in credentials) return { bearerToken: credentials.bearerToken };
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  const identity = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  return { credentials: async () => identity };
}

function upstreamFor(spec: UpstreamSpec, settings: UpstreamSettings, hooks: UpstreamHooks): BedrockUpstream {
  return new BedrockUpstream({
    region: spec.region,
    http: settings.upstreamHttp,
    maxAttempts: settings.upstreamMaxAttempts,
    maxConnections: settings.upstreamMaxConnections,
    idleTimeoutMs: settings.upstreamIdleTimeoutMs,
    onConnectionWait: hooks.onConnectionWait,
    mantleEndpoint: settings.mantleEndpoint,
    ...(spec.endpoint === undefined ? {} : { endpoint: spec.endpoint }),
    ...(spec.controlEndpoint === undefined ? {} : { controlEndpoint: spec.controlEndpoint }),
    ...credentialsFor(spec.credentials, spec.region),
  });
}

export function createUpstreams(settings: UpstreamSettings, hooks: UpstreamHooks = {}): Upstreams {
  if (settings.upstreams === undefined) {
    const single = new BedrockUpstream({
      region: settings.region,
      http: settings.upstreamHttp,
      maxAttempts: settings.upstreamMaxAttempts,
      maxConnections: settings.upstreamMaxConnections,
      idleTimeoutMs: settings.upstreamIdleTimeoutMs,
      bearerToken: settings.bedrockApiKey,
      onConnectionWait: hooks.onConnectionWait,
      mantleEndpoint: settings.mantleEndpoint,
    });
    return {
      runtime:
        hooks.wrapRuntime?.(single.runtime, { name: 'default', region: settings.region }) ?? single.runtime,
      pool: undefined,
      catalogueRegion: settings.region,
      control: (region) => single.control(region),
      mantleModels: (region) => single.mantleModels(region),
      each: [],
      catalogue: undefined,
      closeIdle: () => single.closeIdle(),
      warm: () => single.warm(),
      destroy: () => single.destroy(),
    };
  }
  const specs = settings.upstreams;
  const members = specs.map((spec) => {
    const upstream = upstreamFor(spec, settings, hooks);
    const catalogue = new Catalogue({
      region: spec.region,
      clientFor: (region) => upstream.control(region),
      onError: (err, region) => hooks.onCatalogueError?.(err, spec.name, region),
      mantleModels: (region) => upstream.mantleModels(region),
      onMantleError: (err, region) => hooks.onMantleListError?.(err, spec.name, region),
    });
    return { spec, upstream, catalogue };
  });
  const pool = new UpstreamPool(
    members.map(({ spec, upstream, catalogue }) => ({
      name: spec.name,
      runtime: hooks.wrapRuntime?.(upstream.runtime, spec) ?? upstream.runtime,
      weight: spec.weight,
      ...(spec.models === undefined ? {} : { models: spec.models }),
      profileFor: memoized((modelId: string) => modelIdForUpstream(modelId, spec.region, spec.profilePrefix)),
      // Kept fresh by the calls themselves, whatever route made them (a stale catalogue refreshes
      // behind); before its first load it cannot tell.
      has: (calledId: string) => catalogueHas(catalogue.current(), calledId),
    })),
    {
      strategy: settings.upstreamStrategy,
      ...(settings.upstreamStrategies === undefined ? {} : { strategies: settings.upstreamStrategies }),
      maxAttempts: specs.length,
      breaker: { openMs: settings.upstreamCooldownMs },
      firstByteTimeoutMs: settings.firstByteTimeoutMs,
      observer: hooks.observer,
    },
  );
  const primary = members[0]!;
  let merged: { parts: CatalogueSnapshot[]; result?: CatalogueSnapshot } = { parts: [] };
  return {
    runtime: pool,
    pool,
    catalogueRegion: primary.spec.region,
    control: (region) => primary.upstream.control(region),
    mantleModels: (region) => primary.upstream.mantleModels(region),
    each: members.map(({ spec, upstream, catalogue }) => ({
      name: spec.name,
      region: spec.region,
      spec,
      control: () => upstream.control(spec.region),
      catalogue,
    })),
    catalogue: {
      snapshot: async () => {
        // Every request reads it: when no part changed (stale ones refresh behind, as
        // Catalogue.snapshot does), the merged snapshot is answered without a promise per part.
        let same = merged.result !== undefined && merged.parts.length === members.length;
        for (let i = 0; i < members.length; i++) {
          if (members[i]!.catalogue.current() !== merged.parts[i]) same = false;
        }
        if (same) return merged.result!;
        const [first, ...others] = members;
        const primarySnapshot = await first!.catalogue.snapshot();
        const rest = others.map(({ catalogue }) => {
          const current = catalogue.current();
          if (current) return current;
          const loading = catalogue.snapshot();
          let timer: NodeJS.Timeout | undefined;
          const giveUp = new Promise<CatalogueSnapshot | undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), OTHER_CATALOGUE_WAIT_MS);
            timer.unref();
          });
          return Promise.race([loading, giveUp]).finally(() => clearTimeout(timer));
        });
        const loaded = await Promise.all(rest);
        const snapshots = [primarySnapshot, ...loaded].filter((s): s is CatalogueSnapshot => s !== undefined);
        // Merged once per change of any part, not per request.
        if (snapshots.length !== merged.parts.length || snapshots.some((s, i) => s !== merged.parts[i])) {
          merged = { parts: snapshots, result: mergeSnapshots(snapshots) };
        }
        return merged.result!;
      },
    },
    closeIdle: () => members.reduce((closed, { upstream }) => closed + upstream.closeIdle(), 0),
    warm: () => {
      for (const { upstream } of members) upstream.warm();
    },
    destroy: () => {
      for (const { upstream } of members) upstream.destroy();
    },
  };
}
