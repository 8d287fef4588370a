/**
 * `abproxy doctor`'s checks of the way to Bedrock: the outbound proxy, the AWS credentials, the control
 * plane and its catalogue (the gateway's region, or each upstream of ABPROXY_UPSTREAMS through its own
 * endpoint and credentials), the models callable there, bedrock-mantle's model list, and with --deep one
 * tiny model call. A failure says which endpoint was called and the setting that chooses it.
 */
import type { Config } from '../config/config.ts';
import type { Catalogue } from '../models/catalogue.ts';
import type { CatalogueSnapshot } from '../models/types.ts';
import { runtimeOrigin } from '../upstream/endpoint.ts';
import {
  credentialChainProxyOptions,
  type ProxyEnv,
  proxyFor,
  proxySummary,
  readProxyEnv,
  sdkHandlerProxyOptions,
} from '../upstream/proxy.ts';
import { type Check, type Env, TIMEOUT_MS, withTimeout } from './doctor-check.ts';

/** The control-plane endpoint a check called, its region, and the setting that chooses it. */
interface CalledEndpoint {
  region: string;
  endpoint: string;
  setting: string;
}

/** The gateway's own control plane (no ABPROXY_UPSTREAMS). */
function defaultEndpoint(config: Config, env: Env): CalledEndpoint {
  return {
    region: config.region,
    endpoint: env.AWS_ENDPOINT_URL_BEDROCK ?? `https://bedrock.${config.region}.amazonaws.com`,
    setting: 'AWS_ENDPOINT_URL_BEDROCK',
  };
}

function awsErrorHint(err: unknown, called: CalledEndpoint): { detail: string; hint: string } {
  const { name = 'Error', message = String(err) } = (err ?? {}) as { name?: string; message?: string };
  const detail = `${name}: ${message}`;
  const code =
    (err as { code?: string; cause?: { code?: string } })?.code ??
    (err as { cause?: { code?: string } })?.cause?.code;
  if (name === 'AccessDeniedException') {
    return {
      detail,
      hint: 'allow the IAM identity bedrock:ListFoundationModels, bedrock:ListInferenceProfiles, bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream',
    };
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException'].includes(name)) {
    return { detail, hint: 'the AWS credentials are invalid or expired: refresh them (e.g. aws sso login)' };
  }
  if (
    name === 'TimeoutError' ||
    /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET|did not answer/.test(`${code ?? ''} ${message}`)
  ) {
    return {
      detail,
      hint: `cannot reach ${called.endpoint}: check the network, proxy, region and ${called.setting}`,
    };
  }
  return { detail, hint: `check the region (${called.region}) and that Bedrock is available there` };
}

/**
 * Whether the gateway needs the default credential chain: without ABPROXY_UPSTREAMS, or for an upstream
 * on `default` or a role (assumed with the default chain's credentials). Profiles, keys and bearer
 * tokens do not.
 */
export function usesDefaultChain(config: Config): boolean {
  return (
    config.upstreams === undefined ||
    config.upstreams.some((u) => u.credentials === 'default' || 'roleArn' in u.credentials)
  );
}

export async function checkCredentials(env: Env): Promise<Check> {
  if (env.AWS_BEARER_TOKEN_BEDROCK) {
    return { name: 'credentials', status: 'ok', detail: 'Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)' };
  }
  try {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    await withTimeout(
      fromNodeProviderChain(credentialChainProxyOptions(proxyEnvOrNone(env)))(),
      TIMEOUT_MS,
      'the AWS credential chain',
    );
    const where = env.AWS_ACCESS_KEY_ID
      ? 'environment'
      : env.AWS_PROFILE
        ? `profile ${env.AWS_PROFILE}`
        : 'default chain';
    return { name: 'credentials', status: 'ok', detail: `resolved (${where})` };
  } catch (err) {
    return {
      name: 'credentials',
      status: 'fail',
      detail: `no AWS credentials: ${(err as Error).message.split('\n')[0]}`,
      hint: 'run `aws configure` or `aws sso login`, set AWS_PROFILE, or set AWS_BEARER_TOKEN_BEDROCK to a Bedrock API key',
    };
  }
}

/** The proxy variables, or none when they are unusable (checkProxy reports that). */
function proxyEnvOrNone(env: Env): ProxyEnv {
  try {
    return readProxyEnv(env);
  } catch {
    return readProxyEnv({});
  }
}

/**
 * The outbound proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY) the gateway's Bedrock calls go through, if
 * any: shown without its credentials; a proxy URL it cannot use, or the HTTP/2 transport behind one,
 * fails as `serve` would.
 */
export function checkProxy(config: Config, env: Env): Check {
  let proxies: ProxyEnv;
  try {
    proxies = readProxyEnv(env);
  } catch (err) {
    return {
      name: 'proxy',
      status: 'fail',
      detail: (err as Error).message,
      hint: 'set HTTPS_PROXY to http://[user:password@]host:port',
    };
  }
  const origin = runtimeOrigin(config.region, undefined, env);
  let summary: string | undefined;
  try {
    summary = proxySummary(proxies, origin);
  } catch {
    summary = undefined;
  }
  if (summary === undefined) {
    return {
      name: 'proxy',
      status: 'ok',
      detail: 'none (HTTPS_PROXY and HTTP_PROXY unset): Bedrock directly',
    };
  }
  if (config.upstreamHttp === '2' && proxyFor(proxies, origin)) {
    return {
      name: 'proxy',
      status: 'fail',
      detail: `${summary}, but ABPROXY_UPSTREAM_HTTP=2 cannot go through a proxy`,
      hint: 'use ABPROXY_UPSTREAM_HTTP=1.1 (the default), or add the Bedrock hosts to NO_PROXY',
    };
  }
  return { name: 'proxy', status: 'ok', detail: summary };
}

/**
 * Bedrock's control plane where `serve` reads its catalogue: the region's (AWS_ENDPOINT_URL_BEDROCK), or
 * with ABPROXY_UPSTREAMS the first upstream's, through its own endpoint and credentials (serve never
 * calls the default endpoint then: checking it failed doctor for a pool reachable only by its endpoints).
 */
export async function checkBedrock(
  config: Config,
  env: Env,
): Promise<{ check: Check; snapshot?: CatalogueSnapshot }> {
  const { Catalogue } = await import('../models/catalogue.ts');
  if (!config.upstreams) {
    const called = defaultEndpoint(config, env);
    return readCatalogue(
      { name: 'bedrock', what: 'Bedrock', where: config.region, called },
      (onError) =>
        new Catalogue({
          region: config.region,
          clientConfig: { maxAttempts: 1, requestHandler: sdkHandlerProxyOptions(proxyEnvOrNone(env)) },
          onError,
        }),
    );
  }
  const upstreams = (await import('../upstream/upstream-set.ts')).createUpstreams(config);
  try {
    const { name, region, spec, control } = upstreams.each[0]!;
    const called = upstreamEndpoint(config, env, name, region, spec.controlEndpoint);
    const where = `${region} (upstream ${name})`;
    return await readCatalogue(
      { name: 'bedrock', what: 'Bedrock', where, called },
      (onError) => new Catalogue({ region, clientFor: control, onError }),
    );
  } finally {
    upstreams.destroy();
  }
}

/**
 * One catalogue read under the deadline, as the check `name`: its counts `where` it was read, and the
 * snapshot for the checks that need it; or the fault and its fix, naming the endpoint `called`.
 */
async function readCatalogue(
  { name, what, where, called }: { name: string; what: string; where: string; called: CalledEndpoint },
  open: (onError: (err: unknown) => void) => Catalogue,
): Promise<{ check: Check; snapshot?: CatalogueSnapshot }> {
  let failure: unknown;
  const catalogue = open((err) => {
    failure = err;
  });
  try {
    const snapshot = await withTimeout(catalogue.refresh(), TIMEOUT_MS, what);
    if (snapshot.source === 'live') {
      const detail = `${snapshot.models.length} foundation models, ${snapshot.profiles.length} inference profiles in ${where}`;
      return { check: { name, status: 'ok', detail }, snapshot };
    }
  } catch (err) {
    failure = err;
  }
  const { detail, hint } = awsErrorHint(failure, called);
  return { check: { name, status: 'fail', detail, hint } };
}

/** An upstream's control plane: its own `controlEndpoint`, else the region's as the SDK picks it. */
function upstreamEndpoint(
  config: Config,
  env: Env,
  name: string,
  region: string,
  controlEndpoint: string | undefined,
): CalledEndpoint {
  return controlEndpoint
    ? { region, endpoint: controlEndpoint, setting: `ABPROXY_UPSTREAMS (${name}).controlEndpoint` }
    : { ...defaultEndpoint({ ...config, region }, env), region };
}

/** With `ABPROXY_UPSTREAMS`: each upstream's credentials and catalogue, through its own endpoint. */
export async function checkUpstreams(config: Config, env: Env): Promise<Check[]> {
  if (!config.upstreams) return [];
  const { Catalogue } = await import('../models/catalogue.ts');
  const { createUpstreams } = await import('../upstream/upstream-set.ts');
  const upstreams = createUpstreams(config);
  try {
    return await Promise.all(
      upstreams.each.map(async ({ name, region, spec, control }) => {
        // Its own endpoint (as BedrockUpstream.control picks it), not the gateway's default one.
        const called = upstreamEndpoint(config, env, name, region, spec.controlEndpoint);
        const check = `upstream ${name}`;
        const read = await readCatalogue(
          { name: check, what: check, where: region, called },
          (onError) => new Catalogue({ region, clientFor: control, onError }),
        );
        return read.check;
      }),
    );
  } finally {
    upstreams.destroy();
  }
}

export async function checkModels(snapshot: CatalogueSnapshot, config: Config): Promise<Check> {
  const { collectModels } = await import('./models.ts');
  const report = collectModels(snapshot, { modelMap: config.modelMap });
  const claude = report.models.filter((m) => m.family === 'claude').length;
  const open = report.models.length - claude;
  if (report.models.length === 0) {
    return {
      name: 'models',
      status: 'fail',
      detail: `no text model can be called in ${config.region}`,
      hint: 'pick a region where Bedrock offers the models you need (AWS_REGION)',
    };
  }
  const broken = report.aliases.filter((a) => a.via === 'config' && a.bedrockId === null);
  if (broken.length > 0) {
    return {
      name: 'models',
      status: 'warn',
      detail: `model map entries that do not resolve: ${broken.map((a) => a.alias).join(', ')}`,
      hint: 'fix modelMap (abproxy config get modelMap)',
    };
  }
  return {
    name: 'models',
    status: claude > 0 ? 'ok' : 'warn',
    detail: `${claude} Claude and ${open} other text models callable`,
    ...(claude > 0
      ? {}
      : { hint: 'no Claude model here: use --model with an open model for abproxy claude' }),
  };
}

/**
 * The bedrock-mantle host's model list, as `serve` reads it: which Claude models only mantle serves
 * (the gateway sends them there by itself). Unreadable is a warning: such models answer 404 then.
 */
export async function checkMantle(snapshot: CatalogueSnapshot, config: Config, env: Env): Promise<Check> {
  const [{ mantleModelLister }, { fromNodeProviderChain }, { withMantleModels }, { anthropicIdsOf }] =
    await Promise.all([
      import('../upstream/mantle-models.ts'),
      import('@aws-sdk/credential-providers'),
      import('../models/catalogue.ts'),
      import('../models/aliases.ts'),
    ]);
  const lister = mantleModelLister({
    credentials: fromNodeProviderChain(credentialChainProxyOptions(proxyEnvOrNone(env))),
    ...(config.mantleEndpoint === undefined ? {} : { endpoint: config.mantleEndpoint }),
    ...(config.bedrockApiKey === undefined ? {} : { bearerToken: config.bedrockApiKey }),
  });
  try {
    const ids = await lister(config.region);
    const only = withMantleModels(snapshot, ids).models.flatMap((m) =>
      m.mantleOnly ? anthropicIdsOf(m.modelId) : [],
    );
    return {
      name: 'mantle',
      status: 'ok',
      detail: `${ids.length} models listed on bedrock-mantle; Claude only there: ${only.length > 0 ? only.join(', ') : 'none'}`,
    };
  } catch (err) {
    const { name, message } = err as { name?: string; message?: string };
    return {
      name: 'mantle',
      status: 'warn',
      detail: `the bedrock-mantle model list is not readable (${name ?? 'Error'}: ${(message ?? String(err)).split('\n')[0]}): Claude models only mantle serves answer 404`,
      hint: 'allow bedrock-mantle in IAM or check AWS_ENDPOINT_URL_BEDROCK_MANTLE; or give abproxy claude a --model from `abproxy models`',
    };
  }
}

/** --deep: one tiny Converse call, the only proof that model access is granted. */
export async function checkInvoke(
  snapshot: CatalogueSnapshot,
  config: Config,
  env: Env,
  model?: string,
): Promise<Check> {
  const { resolveModel } = await import('../models/resolve.ts');
  const name = model ?? 'haiku';
  let modelId: string;
  try {
    modelId = resolveModel(name, snapshot, { region: config.region, overrides: config.modelMap }).modelId;
  } catch (err) {
    return {
      name: 'invoke',
      status: 'fail',
      detail: `${name}: ${(err as Error).message}`,
      hint: 'pass --model with a model from `abproxy models`',
    };
  }
  const input = {
    modelId,
    messages: [{ role: 'user' as const, content: [{ text: 'ping' }] }],
    inferenceConfig: { maxTokens: 1 },
  };
  let called = defaultEndpoint(config, env);
  let converse: () => Promise<unknown>;
  let served = () => '';
  let close: () => void;
  if (config.upstreams) {
    // Through the pool, as serve calls it (its endpoints and credentials, failover included).
    const [{ createUpstreams }, { traceCallsWith }] = await Promise.all([
      import('../upstream/upstream-set.ts'),
      import('../upstream/trace.ts'),
    ]);
    const set = createUpstreams(config);
    const first = set.each[0]!;
    called = upstreamEndpoint(config, env, first.name, first.region, first.spec.controlEndpoint);
    const signal = new AbortController().signal;
    const trace: { served?: string; failedAttempts: number } = { failedAttempts: 0 };
    traceCallsWith(signal, trace);
    converse = () => set.runtime.converse(input, signal);
    served = () => (trace.served ? ` (upstream ${trace.served})` : '');
    close = () => set.destroy();
  } else {
    const { BedrockRuntimeClient, ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const client = new BedrockRuntimeClient({
      region: config.region,
      maxAttempts: 1,
      requestHandler: sdkHandlerProxyOptions(proxyEnvOrNone(env)),
    });
    converse = () => client.send(new ConverseCommand(input));
    close = () => client.destroy();
  }
  try {
    await withTimeout(converse(), 30_000, 'Bedrock Converse');
    return { name: 'invoke', status: 'ok', detail: `${modelId} answered${served()}` };
  } catch (err) {
    const { detail, hint } = awsErrorHint(err, called);
    const access = (err as { name?: string }).name === 'AccessDeniedException';
    return {
      name: 'invoke',
      status: 'fail',
      detail: `${modelId}: ${detail}`,
      hint: access
        ? 'request access to the model in the Bedrock console (Model access), or allow bedrock:InvokeModel'
        : hint,
    };
  } finally {
    close();
  }
}
