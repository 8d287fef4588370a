/**
 * Bedrock's Anthropic Messages API (`POST /anthropic/v1/messages`), on the runtime host and on the
 * bedrock-mantle host: what each accepts and how it answers. Strict where our gateway makes
 * assumptions (shared/protocol-notes.md, "Bedrock's Messages API"):
 * - `anthropic-version: 2023-06-01` header required; betas come in the `anthropic-beta` header;
 * - `model` in the body: on runtime an inference profile id (or an on-demand foundation id), on mantle
 *   a bare foundation id only (no geo prefix, no ARN);
 * - refused for Claude (observed by third parties): `output_config.format`, tool `strict`,
 *   `inference_geo`, Anthropic's server tools — 400 invalid_request_error;
 * - everything else as InvokeModel checks Claude's body (the same model rules);
 * - errors are Anthropic error bodies (`{"type":"error","error":{type,message}}`) without
 *   `x-amzn-errortype` (unverified: AWS documents neither shape for these routes);
 * - streams are plain SSE (`event:` + `data:` lines), errors inside them `event: error`.
 * Wording marked unverified is a guess in Anthropic's style.
 */
import type { ServerResponse } from 'node:http';
import { type AnyResponse, BedrockError, otherAccount, validationError } from './errors.ts';
import { BEDROCK_ANTHROPIC_VERSION, SERVER_TOOL, validateInvokeBody } from './invoke.ts';
import {
  type EmulatedModel,
  findMantleModel,
  MANTLE_ONLY_MODELS,
  MODELS,
  resolveModelIdentifier,
} from './models.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export type MessagesApiHost = 'runtime' | 'mantle';
export const MESSAGES_API_PATH = '/anthropic/v1/messages';
export const REQUIRED_ANTHROPIC_VERSION = '2023-06-01';
/** SigV4 service name each host checks (runtime's: LiteLLM's choice, unconfirmed by AWS). */
export const SIGNING_SERVICE: Record<MessagesApiHost, string> = {
  runtime: 'bedrock',
  mantle: 'bedrock-mantle',
};

/** Exception name → Anthropic error type, for answers on these routes. */
const ANTHROPIC_TYPES: Record<string, string> = {
  ValidationException: 'invalid_request_error',
  AccessDeniedException: 'permission_error',
  ResourceNotFoundException: 'not_found_error',
  ThrottlingException: 'rate_limit_error',
  ServiceQuotaExceededException: 'rate_limit_error',
  ModelNotReadyException: 'overloaded_error',
  ServiceUnavailableException: 'overloaded_error',
  ModelTimeoutException: 'timeout_error',
  UnrecognizedClientException: 'authentication_error',
  InvalidSignatureException: 'authentication_error',
  IncompleteSignatureException: 'authentication_error',
  ExpiredTokenException: 'authentication_error',
};

export function anthropicErrorType(name: string): string {
  return ANTHROPIC_TYPES[name] ?? (name.endsWith('Exception') ? 'api_error' : name);
}

export function anthropicErrorBody(err: BedrockError): Json {
  return { type: 'error', error: { type: anthropicErrorType(err.name), message: err.message } };
}

export function writeAnthropicError(res: AnyResponse, err: BedrockError, requestId: string): void {
  const body = JSON.stringify(anthropicErrorBody(err));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': requestId,
  };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  if (res.headersSent) {
    res.end();
    return;
  }
  (res as ServerResponse).writeHead(err.status, headers);
  res.end(body);
}

const invalid = (message: string) => validationError(message);

/** The mantle host's model list (OpenAI-compatible `GET /v1/models`, as the AWS docs describe it). */
export const MANTLE_MODELS_PATH = '/v1/models';

/** What `GET /v1/models` on the mantle host answers: every model it serves by its bare id (unverified shape
 * beyond OpenAI's list: `{object: 'list', data: [{id, object: 'model', created, owned_by}]}`). */
export function listMantleModels(): {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string }[];
} {
  return {
    object: 'list',
    data: [...MODELS, ...MANTLE_ONLY_MODELS].map((m) => ({
      id: m.modelId,
      object: 'model',
      created: 1_735_689_600,
      owned_by: m.providerName.toLowerCase().replace(/\s+/g, ''),
    })),
  };
}

/** The model the body names, in the id form this host accepts. */
export function messagesApiModel(
  host: MessagesApiHost,
  id: unknown,
  region: string,
  account: string,
): EmulatedModel {
  if (typeof id !== 'string' || id === '') throw invalid('model: Field required');
  if (host === 'mantle') {
    // bedrock-mantle takes bare ids (anthropic.claude-…): no inference profiles, no ARNs.
    const model = /^(us|eu|apac|global)\.|^arn:/.test(id) ? undefined : findMantleModel(id);
    if (!model) throw new BedrockError('ResourceNotFoundException', `model: ${id} was not found`, 404); // unverified
    return model;
  }
  const resolved = resolveModelIdentifier(id, region, account);
  if (resolved.ok) return resolved.target.model;
  if (resolved.reason === 'other-account') throw otherAccount();
  if (resolved.reason === 'on-demand') {
    throw invalid(
      `Invocation of model ID ${id} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
    );
  }
  throw invalid('The provided model identifier is invalid.');
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Checks a Messages API call; returns the model and the body as InvokeModel would have taken it (so
 * the reply machinery is shared).
 */
export function validateMessagesApiCall(
  host: MessagesApiHost,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  region: string,
  account: string,
): { model: EmulatedModel; invokeBody: Json; stream: boolean } {
  const version = headerValue(headers, 'anthropic-version');
  if (version === undefined) throw invalid('anthropic-version: header is required'); // unverified
  if (version !== REQUIRED_ANTHROPIC_VERSION)
    throw invalid(`anthropic-version: "${version}" is not a supported version`); // unverified
  if (!isObject(body)) throw invalid('Request body must be a JSON object');
  if ('anthropic_version' in body || 'anthropic_beta' in body) {
    const key = 'anthropic_version' in body ? 'anthropic_version' : 'anthropic_beta';
    throw invalid(`${key}: Extra inputs are not permitted`);
  }
  if ('inference_geo' in body) throw invalid('inference_geo: Extra inputs are not permitted');
  if (isObject(body.output_config) && 'format' in body.output_config)
    throw invalid('output_config.format: Extra inputs are not permitted');
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool, i) => {
      if (!isObject(tool)) return;
      if ('strict' in tool) throw invalid(`tools.${i}.custom.strict: Extra inputs are not permitted`);
      if (typeof tool.type === 'string' && SERVER_TOOL.test(tool.type))
        throw invalid(`tools.${i}: ${tool.type} is not supported on Amazon Bedrock`); // unverified
    });
  }
  if ('stream' in body && typeof body.stream !== 'boolean')
    throw invalid('stream: Input should be a valid boolean');
  const model = messagesApiModel(host, body.model, region, account);
  const { model: _model, stream, ...rest } = body;
  const betas = (headerValue(headers, 'anthropic-beta') ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const invokeBody: Json = {
    anthropic_version: BEDROCK_ANTHROPIC_VERSION,
    ...(betas.length > 0 ? { anthropic_beta: betas } : {}),
    ...rest,
  };
  validateInvokeBody(invokeBody, model);
  return { model, invokeBody, stream: stream === true };
}

/** One SSE frame as Anthropic sends it. */
export function sseFrame(event: Json): Uint8Array {
  return Buffer.from(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
}

export function sseErrorFrame(name: string, message: string): Uint8Array {
  return sseFrame(anthropicErrorBody(new BedrockError(name, message)));
}
