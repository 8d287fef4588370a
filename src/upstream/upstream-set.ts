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
import { withDeadline } from './abortable.ts';
import { BedrockUpstream, type BedrockUpstreamOptions } from './bedrock.ts';
import { type PoolObserver, UpstreamPool } from './pool.ts';
import { credentialChainProxyOptions, readProxyEnv, sdkHandlerProxyOptions } from './proxy.ts';
import type { BedrockRuntime } from './runtime.ts';
import { withStreamStart } from './stream-start.ts';
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

/** Longest the first requests wait for one upstream's first catalogue load. */
const FIRST_CATALOGUE_WAIT_MS = 3_000;

/** The snapshot if it comes within FIRST_CATALOGUE_WAIT_MS, else undefined (the load goes on). */
function withinFirstLoadWait(loading: Promise<CatalogueSnapshot>): Promise<CatalogueSnapshot | undefined> {
  // A catalogue's load never rejects (it falls back to the built-in list): a rejection is the deadline.
  return withDeadline(loading, FIRST_CATALOGUE_WAIT_MS, () => new Error('slow first load')).catch(
    () => undefined,
  );
}

type UpstreamSettings = Pick<
  Settings,
  | 'region'
  | 'upstreamHttp'
  | 'upstreamIdleTimeoutMs'
  | 'upstreamAnswerTimeoutMs'
  | 'upstreamMaxAttempts'
  | 'upstreamMaxConnections'
  | 'bedrockApiKey'
  | 'upstreams'
  | 'upstreamStrategy'
  | 'upstreamStrategies'
  | 'upstreamCooldownMs'
  | 'firstByteTimeoutMs'
  | 'streamStartTimeoutMs'
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

/**
 * Longest one AssumeRole may take. The SDK's STS client has no timeout of its own: an STS endpoint that
 * accepts and never answers held every call of its upstream for ever, failover included.
 */
export const ASSUME_ROLE_TIMEOUT_MS = 10_000;

/**
 * A failed AssumeRole, whatever STS said (AccessDenied is a 403): the gateway's identity on that
 * upstream is at fault, not the client's request, so the call fails over to the next upstream, or the
 * client gets the credentials error (502), not a permission_error about its own key.
 */
function assumeRoleFailed(err: unknown, roleArn: string): Error {
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return Object.assign(new Error(`Could not assume the upstream role ${roleArn} (${reason})`), {
    name: 'CredentialsProviderError',
  });
}

/**
 * Role credentials from STS, within ASSUME_ROLE_TIMEOUT_MS, cached and refreshed five minutes before
 * they expire. A failure is not cached: the next call asks STS again.
 */
export function assumedRole(
  role: { roleArn: string; externalId?: string },
  region: string,
  timeoutMs = ASSUME_ROLE_TIMEOUT_MS,
): AwsCredentialIdentityProvider {
  const assume = fromTemporaryCredentials({
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: 'abproxy',
      ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
    },
    // Its sockets give up too, so a hung STS call does not linger after the deadline below.
    clientConfig: {
      region,
      requestHandler: {
        connectionTimeout: timeoutMs,
        requestTimeout: timeoutMs,
        throwOnRequestTimeout: true,
        // Through the outbound proxy (HTTPS_PROXY), as the Bedrock calls are (agent options: the SDK
        // makes the agents).
        ...sdkHandlerProxyOptions(readProxyEnv()),
      },
    },
  });
  const bounded: AwsCredentialIdentityProvider = (options) =>
    withDeadline(
      assume(options),
      timeoutMs,
      () => new Error(`STS did not answer AssumeRole within ${timeoutMs} ms`),
    ).catch((err: unknown) => {
      throw assumeRoleFailed(err, role.roleArn);
    });
  return memoizeIdentityProvider(
    bounded,
    isIdentityExpired,
    doesIdentityRequireRefresh,
  ) as AwsCredentialIdentityProvider;
}

/** Credentials of one upstream entry: the default chain, a profile, a role, static keys or a bearer token. */
function credentialsFor(
  credentials: UpstreamCredentials,
  region: string,
): {
  credentials?: AwsCredentialIdentityProvider;
  bearerToken?: string;
} {
  if (credentials === 'default') return {};
  if ('profile' in credentials)
    return {
      credentials: fromIni({
        profile: credentials.profile,
        ...credentialChainProxyOptions(readProxyEnv()),
      }),
    };
  if ('roleArn' in credentials) return { credentials: assumedRole(credentials, region) };
  if ('bearerToken' in credentials) return { bearerToken: credentials.bearerToken };
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  const identity = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  return { credentials: async () => identity };
}

/** What every upstream takes from the settings, whichever region and credentials it has. */
function sharedOptions(settings: UpstreamSettings, hooks: UpstreamHooks) {
  return {
    http: settings.upstreamHttp,
    maxAttempts: settings.upstreamMaxAttempts,
    maxConnections: settings.upstreamMaxConnections,
    idleTimeoutMs: settings.upstreamIdleTimeoutMs,
    answerTimeoutMs: settings.upstreamAnswerTimeoutMs,
    onConnectionWait: hooks.onConnectionWait,
    mantleEndpoint: settings.mantleEndpoint,
  } satisfies Partial<BedrockUpstreamOptions>;
}

function upstreamFor(
  spec: UpstreamSpec,
  settings: UpstreamSettings,
  hooks: UpstreamHooks,
  pooled: boolean,
): BedrockUpstream {
  return new BedrockUpstream({
    region: spec.region,
    ...sharedOptions(settings, hooks),
    // Behind a pool of several, a connection fault moves the call to the next upstream: retrying it
    // here too sent one request up to attempts × upstreams times, and a reset may come after Bedrock
    // had the request.
    ...(pooled ? { runtimeMaxAttempts: 1 } : {}),
    ...(spec.endpoint === undefined ? {} : { endpoint: spec.endpoint }),
    ...(spec.controlEndpoint === undefined ? {} : { controlEndpoint: spec.controlEndpoint }),
    ...credentialsFor(spec.credentials, spec.region),
  });
}

export function createUpstreams(settings: UpstreamSettings, hooks: UpstreamHooks = {}): Upstreams {
  if (settings.upstreams === undefined) {
    const single = new BedrockUpstream({
      region: settings.region,
      ...sharedOptions(settings, hooks),
      bearerToken: settings.bedrockApiKey,
    });
    const runtime =
      hooks.wrapRuntime?.(single.runtime, { name: 'default', region: settings.region }) ?? single.runtime;
    return {
      // A silent region held a stream to the 10-minute answer timeout, past what clients wait for.
      runtime: withStreamStart(runtime, settings.streamStartTimeoutMs, settings.firstByteTimeoutMs),
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
    const upstream = upstreamFor(spec, settings, hooks, specs.length > 1);
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
      streamStartTimeoutMs: settings.streamStartTimeoutMs,
      observer: hooks.observer,
    },
  );
  const primary = members[0]!;
  /** The last merge: what each upstream's catalogue answered then, and the result. */
  let merged: { from: (CatalogueSnapshot | undefined)[]; result?: CatalogueSnapshot } = { from: [] };
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
        let same = merged.result !== undefined;
        for (let i = 0; same && i < members.length; i++) {
          if (members[i]!.catalogue.current() !== merged.from[i]) same = false;
        }
        if (same) return merged.result!;
        const currents = members.map(({ catalogue }) => catalogue.current());
        let parts = currents;
        // The first requests wait for the catalogues' first loads, but not for one that is slow (an
        // STS that hangs, a region that does not answer) while others have loaded: it joins the merge
        // once it has. Later requests never wait (current() has started the loads).
        if (merged.result === undefined && currents.includes(undefined)) {
          parts = await Promise.all(
            members.map(({ catalogue }, i) => currents[i] ?? withinFirstLoadWait(catalogue.snapshot())),
          );
        }
        let snapshots = parts.filter((s): s is CatalogueSnapshot => s !== undefined);
        // None has loaded: wait for the first, as with one upstream.
        if (snapshots.length === 0) snapshots = [await members[0]!.catalogue.snapshot()];
        // Merged once per change of any part, not per request.
        const result = mergeSnapshots(snapshots);
        merged = { from: currents, result };
        return result;
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
