/**
 * The bedrock-mantle host's model list: `GET /v1/models` (OpenAI's list shape; AWS: "use the
 * OpenAI-compatible /models endpoint to list the models available on bedrock-mantle"), signed like the
 * Messages API calls there (SigV4 service `bedrock-mantle`, or the Bedrock API key as a bearer token).
 * Read with the model catalogue (once an hour, off the request path), never per request.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { mantleModelIds } from '../models/catalogue.ts';
import { withAwsClock } from './aws-clock.ts';
import { httpError } from './codec.ts';
import { MESSAGES_API_SIGNING_SERVICE, mantleEndpoint } from './messages-api.ts';
import { type ProxyEnv, proxiedConnect, readProxyEnv } from './proxy.ts';
import { readCapped } from './read-capped.ts';
import { SigV4Signer } from './sigv4.ts';
import { Pool } from './undici-core.ts';

export const MANTLE_MODELS_PATH = '/v1/models';
/** A catalogue load waits this long at most for the mantle host (the runtime catalogue is not held up longer). */
const TIMEOUT_MS = 3000;
/**
 * The most of the list's answer read (AWS's is a few KB): a broken or hostile endpoint cannot make the
 * gateway hold and parse gigabytes (a 400 MB list held 2.4 GB before it was cut here).
 */
export const MAX_LIST_BYTES = 4 * 1024 * 1024;

export interface MantleModelsOptions {
  /** AWS_ENDPOINT_URL_BEDROCK_MANTLE, else the region's host. */
  endpoint?: string;
  credentials: AwsCredentialIdentityProvider;
  bearerToken?: string;
  timeoutMs?: number;
  /** The outbound proxy variables (proxy.ts); else the environment's. */
  proxyEnv?: ProxyEnv;
}

export function mantleModelLister(options: MantleModelsOptions): (region: string) => Promise<string[]> {
  const signer = new SigV4Signer({
    service: MESSAGES_API_SIGNING_SERVICE.mantle,
    credentials: options.credentials,
  });
  return (region) => withAwsClock(() => listOnce(region));

  async function listOnce(region: string): Promise<string[]> {
    const { origin, host, basePath } = mantleEndpoint(options.endpoint, region);
    const path = `${basePath}${MANTLE_MODELS_PATH}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    const sent =
      options.bearerToken !== undefined
        ? { ...headers, authorization: `Bearer ${options.bearerToken}` }
        : await signer.sign({ method: 'GET', host, path, headers, body: '', region });
    // undici's own Pool (the transport's): `fetch` would load Node's bundled copy of undici for this
    // one call an hour (memory for the life of the process). It follows no redirects: signed for this
    // host, the request is never sent somewhere else.
    const pool = new Pool(origin, {
      connections: 1,
      ...proxiedConnect(options.proxyEnv ?? readProxyEnv(), origin),
    });
    let status: number;
    let answerHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await pool.request({
        method: 'GET',
        path,
        headers: sent,
        signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
      });
      status = res.statusCode;
      answerHeaders = res.headers;
      const tooLarge = () =>
        new Error(
          `the bedrock-mantle model list is larger than ${MAX_LIST_BYTES / 1024 / 1024} MB; not read`,
        );
      text = (await readCapped(res.body, MAX_LIST_BYTES, tooLarge)).toString('utf8');
    } finally {
      pool.close().catch(() => {});
    }
    if (status < 200 || status >= 300) {
      const requestId = answerHeaders['x-amzn-requestid'];
      throw httpError(status, answerHeaders, text, Array.isArray(requestId) ? requestId[0] : requestId);
    }
    return mantleModelIds(JSON.parse(text));
  }
}
