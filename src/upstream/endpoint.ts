/**
 * Where a region's Bedrock runtime lives, decided by the SDK's own configuration so our transport and
 * the SDK always agree: an explicit endpoint, AWS_ENDPOINT_URL_BEDROCK_RUNTIME / the config file's
 * service endpoint, or the rule set for the region (FIPS, dual-stack).
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

export interface Endpoint {
  origin: string;
  host: string;
  /** Path prefix of a configured endpoint URL, without the trailing slash. */
  basePath: string;
}

/**
 * The runtime host's URL before the SDK resolves it (an endpoint setting, else the region's host): what
 * the proxy rules and the start-up log look at. FIPS and dual-stack host variants are not told apart.
 */
export function runtimeOrigin(region: string, endpoint?: string, env = process.env): string {
  return (
    endpoint ?? env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ?? `https://bedrock-runtime.${region}.amazonaws.com`
  );
}

export async function resolveEndpoint(client: BedrockRuntimeClient, region: string): Promise<Endpoint> {
  const config = client.config as unknown as {
    endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
    serviceConfiguredEndpoint?: () => Promise<string | undefined>;
    ignoreConfiguredEndpointUrls?: boolean;
    useFipsEndpoint: () => Promise<boolean>;
    useDualstackEndpoint: () => Promise<boolean>;
    endpointProvider: (params: Record<string, unknown>) => { url: URL };
  };
  // Renamed: names starting with `use` read as React hooks to the linter.
  const { useFipsEndpoint: fipsEndpoint, useDualstackEndpoint: dualstackEndpoint } = config;
  let configured: string | undefined;
  if (config.endpoint) {
    const e = await config.endpoint();
    configured = `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path}`;
  } else if (!config.ignoreConfiguredEndpointUrls) {
    configured = await config.serviceConfiguredEndpoint?.();
  }
  const { url } = config.endpointProvider({
    Region: region,
    UseFIPS: await fipsEndpoint(),
    UseDualStack: await dualstackEndpoint(),
    Endpoint: configured,
  });
  return { origin: url.origin, host: url.host, basePath: url.pathname.replace(/\/+$/, '') };
}
