/**
 * The bedrock-mantle host's model list: `GET /v1/models` (OpenAI's list shape; AWS: "use the
 * OpenAI-compatible /models endpoint to list the models available on bedrock-mantle"), signed like the
 * Messages API calls there (SigV4 service `bedrock-mantle`, or the Bedrock API key as a bearer token).
 * Read with the model catalogue (once an hour, off the request path), never per request.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { mantleModelIds } from '../models/catalogue.ts';
import { httpError } from './codec.ts';
import { MESSAGES_API_SIGNING_SERVICE, mantleEndpoint } from './messages-api.ts';
import { SigV4Signer } from './sigv4.ts';

export const MANTLE_MODELS_PATH = '/v1/models';
/** A catalogue load waits this long at most for the mantle host (the runtime catalogue is not held up longer). */
const TIMEOUT_MS = 3000;

export interface MantleModelsOptions {
  /** AWS_ENDPOINT_URL_BEDROCK_MANTLE, else the region's host. */
  endpoint?: string;
  credentials: AwsCredentialIdentityProvider;
  bearerToken?: string;
  timeoutMs?: number;
}

export function mantleModelLister(options: MantleModelsOptions): (region: string) => Promise<string[]> {
  const signer = new SigV4Signer({
    service: MESSAGES_API_SIGNING_SERVICE.mantle,
    credentials: options.credentials,
  });
  return async (region) => {
    const { origin, host, basePath } = mantleEndpoint(options.endpoint, region);
    const path = `${basePath}${MANTLE_MODELS_PATH}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    const sent =
      options.bearerToken !== undefined
        ? { ...headers, authorization: `Bearer ${options.bearerToken}` }
        : await signer.sign({ method: 'GET', host, path, headers, body: '', region });
    // fetch sets Host itself (from the URL), and refuses to be told.
    const { host: _host, ...fetchHeaders } = sent;
    const res = await fetch(`${origin}${path}`, {
      headers: fetchHeaders,
      // Signed for this host: never sent on somewhere else.
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) {
      throw httpError(
        res.status,
        Object.fromEntries(res.headers),
        text,
        res.headers.get('x-amzn-requestid') ?? undefined,
      );
    }
    return mantleModelIds(JSON.parse(text));
  };
}
