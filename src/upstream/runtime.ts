/**
 * The Bedrock runtime calls the handlers make, whatever carries them (the undici transport, the SDK
 * over HTTP/2, a retry wrapper, later a pool of regions or accounts): results and errors in the SDK's
 * shapes, so the error table and the translators cannot tell the transports apart.
 */
import type {
  ConverseCommandInput,
  ConverseCommandOutput,
  ConverseStreamCommandInput,
  ConverseStreamOutput,
  CountTokensCommandInput,
  ResponseStream,
  ServiceTierType,
} from '@aws-sdk/client-bedrock-runtime';

export interface ConverseStreamResult {
  /** Upstream request id (x-amzn-requestid), for logs. */
  requestId: string | undefined;
  stream: AsyncIterable<ConverseStreamOutput>;
}

export interface InvokeStreamResult {
  requestId: string | undefined;
  /** Chunks carry Claude's own stream events as JSON bytes. */
  stream: AsyncIterable<ResponseStream>;
}

/** A native (InvokeModel) call: the Anthropic body as JSON text, for one model. */
export interface InvokeInput {
  modelId: string;
  body: string;
  serviceTier?: ServiceTierType;
  /** The body's max_tokens, when known: how long a non-stream answer may take (pool.ts). Not sent. */
  maxTokens?: number;
}

/** Which host serves Bedrock's Anthropic Messages API: bedrock-runtime or bedrock-mantle. */
export type MessagesApiHost = 'runtime' | 'mantle';

/** One call of Bedrock's Anthropic Messages API (`POST /anthropic/v1/messages`). */
export interface MessagesApiInput {
  host: MessagesApiHost;
  /** `model` of the body: an inference profile id on runtime, a bare id on mantle. */
  modelId: string;
  /** The JSON body without `model` (added with the id the serving upstream calls). */
  body: string;
  /** Sent as the `anthropic-beta` header. */
  betas: readonly string[];
  stream: boolean;
  serviceTier?: ServiceTierType;
  /** The body's max_tokens, when known: how long a non-stream answer may take (pool.ts). Not sent. */
  maxTokens?: number;
}

export interface MessagesApiResult {
  requestId: string | undefined;
  /** The answer's bytes as they arrive: SSE when `stream`, else the message JSON. */
  stream: AsyncIterable<Uint8Array>;
}

// ---- raw pass-through (the Bedrock-format door): bodies and answers as bytes, never translated ----

/** The runtime operations the Bedrock-format door forwards, by their URL suffix. */
export const FORWARD_OPERATIONS = [
  'invoke',
  'invoke-with-response-stream',
  'converse',
  'converse-stream',
  'count-tokens',
] as const;
export type ForwardOperation = (typeof FORWARD_OPERATIONS)[number];

export interface ForwardInput {
  operation: ForwardOperation;
  modelId: string;
  /** The caller's body, sent as it is (re-signed with the gateway's credentials). */
  body: Uint8Array;
  /** Request headers to pass on (content-type, accept, x-amzn-bedrock-*); lower-case names. */
  headers: Record<string, string>;
  /** The body's max_tokens, when the door read it: how long a non-stream answer may take (pool.ts). */
  maxTokens?: number;
}

export interface ForwardResult {
  requestId: string | undefined;
  /** A 2xx status (anything else rejects with the SDK-shaped error, like the other calls). */
  status: number;
  /** Response headers, lower-case names, single values. */
  headers: Record<string, string>;
  /** The answer's bytes as Bedrock sent them (JSON, or eventstream frames). */
  stream: AsyncIterable<Uint8Array>;
}

export interface BedrockRuntime {
  converse(input: ConverseCommandInput, signal?: AbortSignal): Promise<ConverseCommandOutput>;
  /**
   * Resolves once Bedrock has answered with headers (so errors before the first event still reject
   * here); the events then arrive through `stream`. Aborting `signal` tears down the HTTP call.
   */
  converseStream(input: ConverseStreamCommandInput, signal?: AbortSignal): Promise<ConverseStreamResult>;
  /** InvokeModel: answers Claude's message JSON as bytes. */
  invokeModel(input: InvokeInput, signal?: AbortSignal): Promise<Uint8Array>;
  /** InvokeModelWithResponseStream; resolves once Bedrock answered with headers, like converseStream. */
  invokeModelStream(input: InvokeInput, signal?: AbortSignal): Promise<InvokeStreamResult>;
  countTokens(input: CountTokensCommandInput, signal?: AbortSignal): Promise<number>;

  // ---- Bedrock's Anthropic Messages API (the `messages` and `mantle` Claude paths) ----
  /**
   * POST /anthropic/v1/messages on the input's host; resolves once it answered 2xx with headers (an
   * error answer rejects here, SDK-shaped), the bytes then arrive through `stream`.
   */
  messagesApi(input: MessagesApiInput, signal?: AbortSignal): Promise<MessagesApiResult>;

  /**
   * One runtime operation passed through as bytes (the Bedrock-format door). Resolves once Bedrock
   * answered 2xx with headers; a non-2xx answer rejects with the SDK-shaped error, so the fault table,
   * the retry policy and the pool's failover treat it like any other call.
   */
  forward(input: ForwardInput, signal?: AbortSignal): Promise<ForwardResult>;
}
