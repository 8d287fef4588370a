/**
 * The gateway's upstreams, built once at start-up from the settings: without `ABPROXY_UPSTREAMS` the one
 * BedrockUpstream of `AWS_REGION` exactly as before; with it, one BedrockUpstream per entry (its own
 * endpoint, credentials and connections) behind an UpstreamPool. Either way the handlers get one
 * BedrockRuntime. The model catalogue is read through the first upstream's control plane.
 */
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Settings } from '../config/config.ts';
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
  control(region: string): BedrockClient;
  /** Each configured upstream's own control plane (empty without `ABPROXY_UPSTREAMS`), for `doctor`. */
  each: { name: string; region: string; control(): BedrockClient }[];
  destroy(): void;
}

type UpstreamSettings = Pick<
  Settings,
  | 'region'
  | 'upstreamHttp'
  | 'upstreamMaxAttempts'
  | 'upstreamMaxConnections'
  | 'bedrockApiKey'
  | 'upstreams'
  | 'upstreamStrategy'
  | 'upstreamCooldownMs'
  | 'firstByteTimeoutMs'
  | 'mantleEndpoint'
>;

export interface UpstreamHooks {
  onConnectionWait?: BedrockUpstreamOptions['onConnectionWait'];
  observer?: PoolObserver;
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
      bearerToken: settings.bedrockApiKey,
      onConnectionWait: hooks.onConnectionWait,
      mantleEndpoint: settings.mantleEndpoint,
    });
    return {
      runtime: single.runtime,
      pool: undefined,
      catalogueRegion: settings.region,
      control: (region) => single.control(region),
      each: [],
      destroy: () => single.destroy(),
    };
  }
  const specs = settings.upstreams;
  const members = specs.map((spec) => ({ spec, upstream: upstreamFor(spec, settings, hooks) }));
  const pool = new UpstreamPool(
    members.map(({ spec, upstream }) => ({
      name: spec.name,
      runtime: upstream.runtime,
      weight: spec.weight,
      ...(spec.models === undefined ? {} : { models: spec.models }),
      profileFor: (modelId: string) => modelIdForUpstream(modelId, spec.region, spec.profilePrefix),
    })),
    {
      strategy: settings.upstreamStrategy,
      maxAttempts: specs.length,
      breaker: { openMs: settings.upstreamCooldownMs },
      firstByteTimeoutMs: settings.firstByteTimeoutMs,
      observer: hooks.observer,
    },
  );
  const primary = members[0]!;
  return {
    runtime: pool,
    pool,
    catalogueRegion: primary.spec.region,
    control: (region) => primary.upstream.control(region),
    each: members.map(({ spec, upstream }) => ({
      name: spec.name,
      region: spec.region,
      control: () => upstream.control(spec.region),
    })),
    destroy: () => {
      for (const { upstream } of members) upstream.destroy();
    },
  };
}
