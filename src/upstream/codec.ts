/**
 * The Bedrock runtime wire format without the AWS SDK, shaped as the SDK shapes it: request bodies
 * (blobs as base64), answers (blobs as Uint8Array), event-stream frames mapped to the SDK's event
 * members, and failures as errors named after the AWS exception with `$metadata`, `$response` and
 * `$fault`. Pure: no I/O, so a transport only moves bytes.
 */
import type {
  ConverseCommandInput,
  ConverseStreamCommandInput,
  ConverseStreamOutput,
  CountTokensCommandInput,
  ResponseStream,
} from '@aws-sdk/client-bedrock-runtime';
import { ANTHROPIC_ERROR_EXCEPTIONS } from './aws-errors.ts';
import {
  type EventFeed,
  type EventStreamMessage,
  eventFeed,
  type FlowingBody,
  malformedAnswer,
  malformedStream,
} from './event-stream.ts';
import { withoutCredentials } from './scrub.ts';

export type Headers = Record<string, string | string[] | undefined>;

const CONVERSE_STREAM_MEMBERS = new Set([
  'messageStart',
  'contentBlockStart',
  'contentBlockDelta',
  'contentBlockStop',
  'messageStop',
  'metadata',
]);
const SERVER_FAULTS = new Set(['InternalServerException', 'ServiceUnavailableException']);

/** Model ids and ARNs go into one path segment, encoded as the SDK does. */
export function pathLabel(value: string): string {
  let label = pathLabels.get(value);
  if (label === undefined) {
    label = encodeURIComponent(value).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    // Every call encodes one of a few model ids: remembered, bounded (a door caller may name many).
    if (pathLabels.size >= 512) pathLabels.clear();
    pathLabels.set(value, label);
  }
  return label;
}
const pathLabels = new Map<string, string>();

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `ValidationException:http://internal.amazon.com/…` or `aws.protocols#ValidationException` → the name. */
function sanitizeErrorCode(raw: string): string {
  let code = raw.split(':')[0]!;
  if (code.includes('#')) code = code.split('#').pop()!;
  return code;
}

/** An error shaped like the SDK's ServiceException for a non-2xx answer and its body text. */
export function httpError(
  statusCode: number,
  headers: Headers,
  body: string,
  requestId: string | undefined,
): Error {
  const text = withoutCredentials(body);
  let data: Record<string, unknown> = {};
  try {
    const parsed = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') data = parsed as Record<string, unknown>;
  } catch {}
  const headerCode = header(headers, 'x-amzn-errortype');
  // Bedrock's Anthropic Messages API answers in Anthropic's error shape (messages-api.ts).
  const anthropic =
    data.type === 'error' && typeof data.error === 'object' && data.error !== null
      ? (data.error as { type?: unknown; message?: unknown })
      : undefined;
  const bodyCode =
    data.code ??
    data.__type ??
    (typeof anthropic?.type === 'string' ? ANTHROPIC_ERROR_EXCEPTIONS[anthropic.type] : undefined);
  const name =
    headerCode !== undefined
      ? sanitizeErrorCode(headerCode)
      : typeof bodyCode === 'string'
        ? sanitizeErrorCode(bodyCode)
        : String(statusCode);
  const message = data.message ?? data.Message ?? anthropic?.message;
  const err = new Error(typeof message === 'string' ? message : 'UnknownError') as Error &
    Record<string, unknown>;
  err.name = name;
  Object.assign(err, data, { name, message: err.message });
  err.$fault = statusCode >= 500 ? 'server' : 'client';
  err.$metadata = { httpStatusCode: statusCode, requestId, attempts: 1, totalRetryDelay: 0 };
  err.$response = { statusCode, headers, body: text };
  return err;
}

/** An exception frame inside a stream: thrown as the SDK throws modeled stream exceptions. */
function streamException(type: string, payload: Buffer): Error {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  } catch {}
  const name = type.charAt(0).toUpperCase() + type.slice(1);
  // Bounded and scrubbed like an error answer's body: it reaches the client and the logs.
  const message = withoutCredentials(
    (typeof data.message === 'string' ? data.message : (payload.toString('utf8') ?? name)).slice(0, 4096),
  );
  const err = new Error(message) as Error & Record<string, unknown>;
  Object.assign(err, data);
  err.name = name;
  err.message = message;
  err.$fault = SERVER_FAULTS.has(name) ? 'server' : 'client';
  err.$metadata = {};
  return err;
}

/** base64 → a plain Uint8Array (what the SDK returns for blobs). */
function toBytes(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const bytes = Buffer.from(value, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Blob members of a content block (JSON base64) → Uint8Array, as the SDK deserializes them. */
export function decodeBlockBlobs(block: unknown): void {
  if (!block || typeof block !== 'object') return;
  for (const value of Object.values(block as Record<string, unknown>)) {
    if (!value || typeof value !== 'object') continue;
    const member = value as Record<string, unknown>;
    if ('redactedContent' in member) member.redactedContent = toBytes(member.redactedContent);
    const source = member.source as Record<string, unknown> | undefined;
    if (source && typeof source === 'object' && 'bytes' in source) source.bytes = toBytes(source.bytes);
    if (Array.isArray(member.content)) for (const inner of member.content) decodeBlockBlobs(inner);
  }
}

/** True when a Converse input carries bytes (images, documents, redacted reasoning) to base64-encode. */
function hasBinary(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return true;
  if (!value || typeof value !== 'object' || depth > 8) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasBinary(item, depth + 1)) return true;
    return false;
  }
  for (const key in value as Record<string, unknown>) {
    // JSON documents (tool inputs and results) hold no blobs.
    if (key === 'input' || key === 'json' || key === 'text') continue;
    if (hasBinary((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function base64Blobs(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/** The Converse JSON body: the input without `modelId` (it goes in the path), blobs as base64. */
export function converseBody(input: ConverseCommandInput | ConverseStreamCommandInput): string {
  const { modelId: _modelId, ...body } = input;
  const binary = hasBinary(body.messages) || hasBinary(body.system);
  return binary ? JSON.stringify(body, base64Blobs) : JSON.stringify(body);
}

/** The CountTokens JSON body (rare, so blobs are always looked for). */
export function countTokensBody(input: CountTokensCommandInput): string {
  const { modelId: _modelId, ...body } = input;
  return JSON.stringify(body, base64Blobs);
}

const isBlank = (byte: number | undefined) =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Throws when a 2xx InvokeModel answer cannot be the JSON object Bedrock sends (a proxy's HTML page, a
 * cut body): inside the call, so the pool fails over and retries act, instead of the translator failing
 * after. Reads the content type and the two ends only; the translator parses the body once, later.
 */
export function checkJsonAnswer(body: Uint8Array, contentType: string | undefined): void {
  if (contentType !== undefined && !contentType.toLowerCase().includes('json')) {
    throw malformedAnswer(`${contentType.split(';')[0]} instead of JSON (${body.length} bytes)`);
  }
  let first = 0;
  while (isBlank(body[first])) first++;
  let last = body.length - 1;
  while (last > first && isBlank(body[last])) last--;
  if (body[first] !== 0x7b || body[last] !== 0x7d) {
    throw malformedAnswer(`a body that is not a JSON document (${body.length} bytes)`);
  }
}

/** The request headers of InvokeModel (`accept`) and its stream (`x-amzn-bedrock-accept`). */
export function invokeHeaders(
  input: { contentType?: string; accept?: string; serviceTier?: string },
  acceptHeader: 'accept' | 'x-amzn-bedrock-accept',
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': input.contentType ?? 'application/json' };
  headers[acceptHeader] = input.accept ?? 'application/json';
  if (input.serviceTier !== undefined) headers['x-amzn-bedrock-service-tier'] = input.serviceTier;
  return headers;
}

/**
 * Passes an event message; `:message-type` error/exception frames are thrown. A check per message
 * rather than another generator layer, so each frame costs no extra promise round.
 */
function assertEvent(message: EventStreamMessage): void {
  const type = message.headers[':message-type'];
  if (type === 'event') return;
  if (type === 'exception')
    throw streamException(message.headers[':exception-type'] ?? 'unknownException', message.payload);
  if (type === 'error') {
    const err = new Error(message.headers[':error-message'] || 'UnknownError');
    err.name = message.headers[':error-code'] ?? 'UnknownError';
    throw err;
  }
  throw malformedStream(`a message of type ${JSON.stringify(String(type).slice(0, 32))}`);
}

/** An event's JSON payload; one that is not JSON is the upstream's fault (malformedStream). */
function eventJson(message: EventStreamMessage): unknown {
  try {
    return JSON.parse(message.payload.toString('utf8'));
  } catch {
    throw malformedStream(
      `a ${JSON.stringify(String(message.headers[':event-type']).slice(0, 32))} event whose payload is not JSON`,
    );
  }
}

/** One Converse stream member from an event message; undefined for members this SDK version skips. */
function converseEvent(message: EventStreamMessage): ConverseStreamOutput | undefined {
  assertEvent(message);
  const member = message.headers[':event-type'];
  // Members this SDK version does not know are skipped, as the SDK does.
  if (!member || !CONVERSE_STREAM_MEMBERS.has(member)) return undefined;
  // Bedrock pads events with `p` so lengths do not leak content; the SDK drops it. (A rest copy, not
  // `delete`, which would turn the object into a slow dictionary for everything downstream.)
  const { p: _padding, ...payload } = eventJson(message) as Record<string, unknown>;
  if (member === 'contentBlockDelta' || member === 'contentBlockStart') {
    decodeBlockBlobs(payload.delta);
    decodeBlockBlobs(payload.start);
  }
  return { [member]: payload } as unknown as ConverseStreamOutput;
}

export function converseEvents(body: FlowingBody): EventFeed<ConverseStreamOutput> {
  return eventFeed(body, converseEvent);
}

function invokeEvent(message: EventStreamMessage): ResponseStream | undefined {
  assertEvent(message);
  if (message.headers[':event-type'] !== 'chunk') return undefined;
  const payload = eventJson(message) as { bytes?: string };
  return {
    chunk: { bytes: payload.bytes === undefined ? undefined : Buffer.from(payload.bytes, 'base64') },
  };
}

export function invokeEvents(body: FlowingBody): EventFeed<ResponseStream> {
  return eventFeed(body, invokeEvent);
}
