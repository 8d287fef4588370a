/**
 * The wire details of Bedrock's Anthropic Messages API (`POST /anthropic/v1/messages`), shared by both
 * transports: which host and SigV4 service name, the headers, and `model` spliced into the body.
 * Pure: no I/O.
 *
 * Assumptions the AWS docs did not confirm (also in shared/protocol-notes.md, "Bedrock's Messages API"):
 * - bedrock-runtime's `/anthropic` route is signed with the service name `bedrock` (what LiteLLM signs
 *   with, and the name of every other bedrock-runtime operation); bedrock-mantle with `bedrock-mantle`
 *   (the Anthropic SDK's mantle client).
 * - The service tier travels as InvokeModel's `x-amzn-bedrock-service-tier` header.
 * - Errors come as Anthropic error bodies (`{"type":"error","error":{type,message}}`), maybe without
 *   `x-amzn-errortype`; codec.ts `httpError` reads both (the one fault table maps them).
 * - An unknown route answers 200 with an `UnknownOperationException` body (observed by a third party):
 *   a 2xx that is not the answer asked for (JSON with that name, or JSON where SSE was asked) is turned
 *   into an error here (`notAnAnswer`), never passed to the client as a message.
 */
import { type Headers, header, httpError } from './codec.ts';
import type { Endpoint } from './endpoint.ts';
import type { MessagesApiHost, MessagesApiInput } from './runtime.ts';

export const MESSAGES_API_PATH = '/anthropic/v1/messages';
/** Pinned upstream whatever the client sent (newer SDKs default to later versions Bedrock may not take). */
export const UPSTREAM_ANTHROPIC_VERSION = '2023-06-01';

/** SigV4 service name per host (runtime's is unconfirmed by AWS: see above). */
export const MESSAGES_API_SIGNING_SERVICE: Readonly<Record<MessagesApiHost, string>> = {
  runtime: 'bedrock',
  mantle: 'bedrock-mantle',
};

/** The mantle host: `AWS_ENDPOINT_URL_BEDROCK_MANTLE` (a host URL, maybe with a base path) or the region's. */
export function mantleEndpoint(configured: string | undefined, region: string): Endpoint {
  const url = new URL(configured ?? `https://bedrock-mantle.${region}.api.aws`);
  return { origin: url.origin, host: url.host, basePath: url.pathname.replace(/\/+$/, '') };
}

export function messagesApiHeaders(input: MessagesApiInput): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: input.stream ? 'text/event-stream' : 'application/json',
    'anthropic-version': UPSTREAM_ANTHROPIC_VERSION,
  };
  if (input.betas.length > 0) headers['anthropic-beta'] = input.betas.join(',');
  if (input.serviceTier !== undefined) headers['x-amzn-bedrock-service-tier'] = input.serviceTier;
  return headers;
}

/** `{"model":"<id>",…rest}`: the body is serialized once, before the pool picks the id per upstream. */
export function withModel(body: string, modelId: string): string {
  const rest = body.trimStart();
  if (!rest.startsWith('{')) throw new Error('a Messages API body must be a JSON object');
  const inner = rest.slice(1).trimStart();
  return `{"model":${JSON.stringify(modelId)}${inner.startsWith('}') ? '' : ','}${inner}`;
}

/**
 * A 2xx that is not a Messages API answer: bedrock-runtime's 200 + `UnknownOperationException` for a
 * route it does not serve here, or any non-SSE answer to a stream. Undefined when `contentType` fits.
 */
export function notAnAnswer(
  stream: boolean,
  status: number,
  headers: Headers,
  text: string | undefined,
  requestId: string | undefined,
): Error | undefined {
  const contentType = header(headers, 'content-type') ?? '';
  const unknown = text?.includes('UnknownOperationException') === true;
  if (!unknown && (!stream || contentType.includes('text/event-stream'))) return undefined;
  const err = httpError(
    status,
    { ...headers, 'x-amzn-errortype': 'UnknownOperationException' },
    text ?? '',
    requestId,
  );
  err.message = unknown
    ? `Bedrock does not serve ${MESSAGES_API_PATH} at this endpoint (UnknownOperationException): check ABPROXY_CLAUDE_PATH and the region`
    : `Bedrock answered a streaming ${MESSAGES_API_PATH} call with ${contentType || 'no content type'} instead of SSE`;
  return err;
}

/** A whole answer as the byte stream the Messages API result carries. */
export async function* oneChunk(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}
