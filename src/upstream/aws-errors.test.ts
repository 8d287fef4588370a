import {
  AccessDeniedException,
  ConflictException,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import {
  BEDROCK_ERRORS,
  classifyBedrockError,
  fromBedrockError,
  parseContextOverflow,
} from './aws-errors.ts';
import { toBedrockFault } from './bedrock-faults.ts';
import { httpError } from './codec.ts';
import { ProxyRefusedError } from './proxy.ts';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** An AWS service error as the SDK builds it for a name it has no class for. */
function awsError(name: string, message: string, httpStatusCode?: number, headers?: Record<string, string>) {
  return Object.assign(new Error(message), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode },
    ...(headers ? { $response: { statusCode: httpStatusCode, headers } } : {}),
  });
}

function netError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

const timeoutError = (): Error => Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });

describe('fromBedrockError: one row each', () => {
  const rows: Array<[string, unknown, number, string, Record<string, string>]> = [
    [
      'ValidationException',
      new ValidationException({ message: 'bad', ...meta(400) }),
      400,
      'invalid_request_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'AccessDeniedException',
      new AccessDeniedException({ message: 'no', ...meta(403) }),
      403,
      'permission_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'gone', ...meta(404) }),
      404,
      'not_found_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'ConflictException',
      new ConflictException({ message: 'dup', ...meta(409) }),
      409,
      'invalid_request_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'ThrottlingException',
      new ThrottlingException({ message: 'slow down', ...meta(429) }),
      429,
      'rate_limit_error',
      { 'retry-after': '1' },
    ],
    [
      'ServiceQuotaExceededException',
      new ServiceQuotaExceededException({ message: 'quota', ...meta(429) }),
      429,
      'rate_limit_error',
      { 'retry-after': '1' },
    ],
    [
      'ModelNotReadyException',
      new ModelNotReadyException({ message: 'warming', ...meta(429) }),
      529,
      'overloaded_error',
      { 'retry-after': '1' },
    ],
    [
      'ServiceUnavailableException',
      new ServiceUnavailableException({ message: 'busy', ...meta(503) }),
      529,
      'overloaded_error',
      { 'retry-after': '1' },
    ],
    [
      'ModelTimeoutException',
      new ModelTimeoutException({ message: 'slow model', ...meta(408) }),
      504,
      'timeout_error',
      {},
    ],
    [
      'ModelErrorException',
      new ModelErrorException({ message: 'model failed', ...meta(424) }),
      500,
      'api_error',
      {},
    ],
    [
      'ModelStreamErrorException',
      new ModelStreamErrorException({ message: 'stream broke', ...meta(424) }),
      500,
      'api_error',
      {},
    ],
    [
      'InternalServerException',
      new InternalServerException({ message: 'oops', ...meta(500) }),
      500,
      'api_error',
      {},
    ],
    ['InternalFailure', awsError('InternalFailure', 'oops', 500), 500, 'api_error', {}],
    [
      'UnknownOperationException',
      awsError('UnknownOperationException', 'route not served here', 200),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'UpstreamAnswerMalformed',
      Object.assign(new Error('Bedrock answered 2xx with a body that is not a JSON document (6 bytes)'), {
        name: 'UpstreamAnswerMalformed',
      }),
      502,
      'api_error',
      {},
    ],
    [
      'UpstreamAnswerTooLarge',
      Object.assign(new Error("Bedrock's answer is larger than 64 MB; not read"), {
        name: 'UpstreamAnswerTooLarge',
      }),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'UnrecognizedClientException',
      awsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'InvalidSignatureException',
      awsError('InvalidSignatureException', 'Signature expired', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'IncompleteSignature',
      awsError('IncompleteSignature', 'x', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'SignatureDoesNotMatch',
      awsError('SignatureDoesNotMatch', 'x', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'ExpiredTokenException',
      awsError('ExpiredTokenException', 'The security token included in the request is expired', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'ExpiredToken',
      awsError('ExpiredToken', 'expired', 400),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'InvalidClientTokenId',
      awsError('InvalidClientTokenId', 'x', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'MissingAuthenticationToken',
      awsError('MissingAuthenticationToken', 'x', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'MissingAuthenticationTokenException',
      awsError('MissingAuthenticationTokenException', 'x', 403),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'CredentialsProviderError',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'TokenProviderError',
      Object.assign(new Error('no token'), { name: 'TokenProviderError' }),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    ['TimeoutError', timeoutError(), 504, 'timeout_error', {}],
    ['RequestTimeout', awsError('RequestTimeout', 'x', 408), 504, 'timeout_error', {}],
    ['RequestTimeoutException', awsError('RequestTimeoutException', 'x', 408), 504, 'timeout_error', {}],
    ['ETIMEDOUT', netError('ETIMEDOUT'), 504, 'timeout_error', {}],
    ['AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), 500, 'api_error', {}],
    ['ECONNREFUSED', netError('ECONNREFUSED'), 502, 'api_error', {}],
    ['ECONNRESET', netError('ECONNRESET'), 502, 'api_error', {}],
    ['EPIPE', netError('EPIPE'), 502, 'api_error', {}],
    ['ENOTFOUND', netError('ENOTFOUND'), 502, 'api_error', {}],
    ['EAI_AGAIN', netError('EAI_AGAIN'), 502, 'api_error', {}],
    ['EHOSTUNREACH', netError('EHOSTUNREACH'), 502, 'api_error', {}],
    ['ENETUNREACH', netError('ENETUNREACH'), 502, 'api_error', {}],
    [
      // An endpoint whose packets are dropped (a firewall, a dead route): nothing was sent.
      'UND_ERR_CONNECT_TIMEOUT',
      Object.assign(new Error('Connect Timeout Error (timeout: 10000ms)'), {
        name: 'ConnectTimeoutError',
        code: 'UND_ERR_CONNECT_TIMEOUT',
      }),
      502,
      'api_error',
      {},
    ],
    [
      'UND_ERR_SOCKET',
      Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' }),
      502,
      'api_error',
      {},
    ],
    [
      'UND_ERR_BODY_TIMEOUT',
      Object.assign(new Error('Body Timeout Error'), {
        name: 'BodyTimeoutError',
        code: 'UND_ERR_BODY_TIMEOUT',
      }),
      504,
      'timeout_error',
      {},
    ],
    [
      'UND_ERR_HEADERS_TIMEOUT',
      Object.assign(new Error('Headers Timeout Error'), {
        name: 'HeadersTimeoutError',
        code: 'UND_ERR_HEADERS_TIMEOUT',
      }),
      504,
      'timeout_error',
      {},
    ],
    ['ERR_HTTP2_STREAM_ERROR', netError('ERR_HTTP2_STREAM_ERROR'), 502, 'api_error', {}],
    ['ERR_HTTP2_SESSION_ERROR', netError('ERR_HTTP2_SESSION_ERROR'), 502, 'api_error', {}],
    ['ERR_HTTP2_GOAWAY_SESSION', netError('ERR_HTTP2_GOAWAY_SESSION'), 502, 'api_error', {}],
    ['ERR_HTTP2_ERROR', netError('ERR_HTTP2_ERROR'), 502, 'api_error', {}],
    // The outbound proxy's refusal (proxy.ts): its credentials or policy are final; its 5xx is not.
    [
      'OutboundProxyRefused',
      new ProxyRefusedError(new URL('http://u:p@proxy.corp:3128'), 'bedrock.example:443', 407),
      502,
      'api_error',
      { 'x-should-retry': 'false' },
    ],
    [
      'OutboundProxyFailed',
      new ProxyRefusedError(new URL('http://proxy.corp:3128'), 'bedrock.example:443', 502),
      502,
      'api_error',
      {},
    ],
  ];

  it('covers every row of the table', () => {
    expect(rows.map((r) => r[0]).sort()).toEqual(Object.keys(BEDROCK_ERRORS).sort());
  });

  it.each(rows)('%s', (_name, err, status, type, headers) => {
    const api = fromBedrockError(err);
    expect(api).toBeInstanceOf(ApiError);
    expect(api.status).toBe(status);
    expect(api.type).toBe(type);
    expect(api.headers).toEqual(headers);
    expect(api.cause).toBe(err);
    // A proxy's credentials never reach the client.
    expect(api.message).not.toContain('u:p@');
    expect(classifyBedrockError(err)).toMatchObject({ type, status, recognized: true });
  });
});

describe('fromBedrockError: details', () => {
  it('keeps the upstream message for client errors', () => {
    const api = fromBedrockError(
      new ValidationException({ message: 'The model does not support tool use.', ...meta(400) }),
    );
    expect(api.message).toBe('The model does not support tool use.');
    expect(api.toJSON()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'The model does not support tool use.' },
    });
  });

  it("answers Bedrock's unknown-model ValidationException as Anthropic does: 404 not_found_error", () => {
    const api = fromBedrockError(
      new ValidationException({ message: 'The provided model identifier is invalid.', ...meta(400) }),
    );
    expect(api.status).toBe(404);
    expect(api.type).toBe('not_found_error');
    expect(api.headers['x-should-retry']).toBe('false');
    // Through the door the caller still gets Bedrock's own exception.
    const door = toBedrockFault(api);
    expect(door).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it('uses the upstream retry-after when the SDK exposes the response', () => {
    const err = Object.assign(new ThrottlingException({ message: 'slow', ...meta(429) }), {
      $response: { statusCode: 429, headers: { 'Retry-After': '17' } },
    });
    expect(fromBedrockError(err).headers['retry-after']).toBe('17');
  });

  it('passes on at most a minute of the upstream retry-after, in seconds or as a date', () => {
    for (const value of ['99999', '1e308', new Date(Date.now() + 86_400_000).toUTCString()]) {
      const err = Object.assign(new ThrottlingException({ message: 'slow', ...meta(429) }), {
        $response: { statusCode: 429, headers: { 'retry-after': value } },
      });
      expect(fromBedrockError(err).headers['retry-after']).toBe('60');
    }
  });

  it('reads event-stream exceptions spelled in camelCase', () => {
    const api = fromBedrockError(awsError('throttlingException', 'Too many tokens', 429));
    expect(api.status).toBe(429);
    expect(api.type).toBe('rate_limit_error');
  });

  it('never answers a credential problem as the client’s 401', () => {
    const api = fromBedrockError(
      awsError('ExpiredTokenException', 'The security token included in the request is expired', 403),
    );
    expect(api.status).not.toBe(401);
    expect(api.type).not.toBe('authentication_error');
    expect(api.message).toMatch(/gateway's AWS credentials/);
    expect(api.message).toMatch(/not your API key/);
    // An unknown upstream 401 is the gateway's identity too.
    const unknown = fromBedrockError(awsError('SomethingNew', 'unauthorized', 401));
    expect(unknown.status).toBe(502);
  });

  it('keeps the real status of unknown exceptions', () => {
    expect(classifyBedrockError(awsError('BrandNewException', 'x', 418))).toEqual({
      type: 'api_error',
      status: 418,
      recognized: false,
      credentials: false,
    });
    const api = fromBedrockError(awsError('BrandNewException', 'teapot', 418));
    expect(api.status).toBe(418);
    expect(api.headers['x-should-retry']).toBe('false');
    expect(fromBedrockError(awsError('BrandNewException', 'x', 503)).status).toBe(503);
    expect(fromBedrockError(awsError('BrandNewException', 'x', 503)).type).toBe('overloaded_error');
    expect(fromBedrockError(awsError('BrandNewException', 'x', 429)).headers['retry-after']).toBe('1');
  });

  it('treats exceptions named like Object.prototype members as unknown (was a status-less error)', () => {
    for (const name of ['__proto__', '__defineGetter__', 'hasOwnProperty']) {
      const api = fromBedrockError(awsError(name, 'odd upstream', 400));
      expect(api.status).toBe(400);
      expect(api.type).toBe('invalid_request_error');
    }
    const coded = fromBedrockError(Object.assign(new Error('x'), { code: '__proto__', ...meta(503) }));
    expect(coded.status).toBe(503);
    expect(coded.type).toBe('overloaded_error');
  });

  it('answers an upstream 431 or 413 (the SDK names it UnknownError) as the client’s 4xx', () => {
    const headers = fromBedrockError(awsError('UnknownError', 'UnknownError', 431));
    expect(headers).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(headers.message).toMatch(/431.*model id is too long/);
    expect(headers.headers['x-should-retry']).toBe('false');
    const body = fromBedrockError(awsError('UnknownError', 'UnknownError', 413));
    expect(body).toMatchObject({ status: 413, type: 'request_too_large' });
    expect(body.message).toMatch(/too large/);
  });

  describe('an error answer with no exception in it says what came back, keeping the status mapping', () => {
    /** As the SDK raises a body its JSON parser refused (a proxy's page): a SyntaxError with $metadata. */
    const deserialization = (status: number, headers: Record<string, string>) =>
      Object.assign(
        new SyntaxError(
          `Unexpected token '<', "<html><bod"... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.`,
        ),
        { $metadata: { httpStatusCode: status }, $response: { statusCode: status, headers } },
      );

    it.each<[string, unknown, number, string, string]>([
      [
        "the SDK: a proxy's 503 HTML page",
        deserialization(503, { 'content-type': 'text/html; charset=utf-8' }),
        503,
        'overloaded_error',
        'Bedrock answered HTTP 503 with a non-JSON body (text/html)',
      ],
      [
        'our transports: the same page',
        httpError(
          503,
          { 'content-type': 'text/html' },
          '<html><body>Service Unavailable</body></html>',
          'r1',
        ),
        503,
        'overloaded_error',
        'Bedrock answered HTTP 503 with a non-JSON body (text/html)',
      ],
      [
        'our transports: a 502 text page without a content type',
        httpError(502, {}, 'Bad Gateway', undefined),
        502,
        'api_error',
        'Bedrock answered HTTP 502 with a non-JSON body (no content-type)',
      ],
      [
        'the SDK: JSON without a message',
        awsError('Unknown', 'UnknownError', 500, { 'content-type': 'application/json' }),
        500,
        'api_error',
        'Bedrock answered HTTP 500 without an error message (application/json)',
      ],
      [
        'our transports: an empty 500',
        httpError(500, {}, '', undefined),
        500,
        'api_error',
        'Bedrock answered HTTP 500 with an empty body',
      ],
      [
        'the SDK: a redirect',
        awsError('Unknown', 'UnknownError', 302, { Location: 'https://sso.example.com/login?token=abcdef' }),
        500,
        'api_error',
        'Bedrock answered HTTP 302, a redirect to sso.example.com, instead of an answer (a proxy or a wrong endpoint in between?)',
      ],
      [
        'our transports: a redirect without a location',
        httpError(307, {}, '', undefined),
        500,
        'api_error',
        'Bedrock answered HTTP 307, a redirect, instead of an answer (a proxy or a wrong endpoint in between?)',
      ],
    ])('%s', (_case, err, status, type, message) => {
      const api = fromBedrockError(err);
      expect({ status: api.status, type: api.type, message: api.message }).toEqual({ status, type, message });
    });

    it('a content type is cut to its bare media type, bounded: nothing else of the header goes out', () => {
      const long = `text/${'x'.repeat(500)}; boundary=secret`;
      const message = fromBedrockError(httpError(503, { 'content-type': long }, '<p>', undefined)).message;
      expect(message.length).toBeLessThan(140);
      expect(message).not.toContain('secret');
      const odd = fromBedrockError(httpError(503, { 'content-type': '<script>' }, '<p>', undefined)).message;
      expect(odd).toBe('Bedrock answered HTTP 503 with a non-JSON body (no content-type)');
    });

    it("an upstream 401 with no message still blames the gateway's credentials, saying what came back", () => {
      const api = fromBedrockError(
        httpError(401, { 'content-type': 'text/html' }, '<h1>401</h1>', undefined),
      );
      expect(api.status).toBe(502);
      expect(api.message).toMatch(/gateway's AWS credentials .*HTTP 401 with a non-JSON body \(text\/html\)/);
    });

    it('a message Bedrock did send is kept as it was', () => {
      const api = fromBedrockError(
        httpError(503, { 'content-type': 'application/json' }, '{"message":"Too busy"}', undefined),
      );
      expect(api.message).toBe('Too busy');
    });
  });

  it('hides programming errors behind a generic 500', () => {
    const api = fromBedrockError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(api.status).toBe(500);
    expect(api.message).toBe('Internal server error');
  });

  it('passes an ApiError through', () => {
    const own = new ApiError('rate_limit_error', 'budget');
    expect(fromBedrockError(own)).toBe(own);
  });

  it('masks account ids and IAM principals but keeps model ARNs readable', () => {
    const message =
      'User: arn:aws:sts::123456789012:assumed-role/GatewayRole/i-0abc is not authorized to perform: ' +
      'bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0 ' +
      'or arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0';
    const api = fromBedrockError(new AccessDeniedException({ message, ...meta(403) }));
    expect(api.message).not.toMatch(/123456789012/);
    expect(api.message).not.toMatch(/GatewayRole/);
    expect(api.message).toContain(
      'arn:aws:bedrock:us-east-1:***:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    expect(api.message).toContain(
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
  });
});

describe('context overflow', () => {
  const validation = (message: string) => new ValidationException({ message, ...meta(400) });

  it('keeps Claude’s own numbers', () => {
    const api = fromBedrockError(
      validation(
        'The model returned the following errors: prompt is too long: 903884 tokens > 200000 maximum',
      ),
    );
    expect(api.message).toBe('prompt is too long: 903884 tokens > 200000 maximum');
    expect(api.status).toBe(400);
  });

  it('uses the context when Bedrock gives no numbers', () => {
    const api = fromBedrockError(validation('Input is too long for requested model.'), {
      estimatedInputTokens: 250_000,
      contextWindow: 200_000,
    });
    expect(api.message).toBe('prompt is too long: 250000 tokens > 200000 maximum');
  });

  it('never reports an estimate below the limit Bedrock says was exceeded', () => {
    const api = fromBedrockError(validation('too many total text bytes'), {
      estimatedInputTokens: 150_000,
      contextWindow: 200_000,
    });
    expect(api.message).toBe('prompt is too long: 200001 tokens > 200000 maximum');
  });

  it('still says "prompt is too long" without any numbers', () => {
    expect(fromBedrockError(validation('Input is too long for requested model.')).message).toMatch(
      /^prompt is too long/,
    );
  });

  it('keeps the max_tokens wording when only input + max_tokens overflow', () => {
    const api = fromBedrockError(
      validation(
        'input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000, decrease input length or `max_tokens` and try again',
      ),
    );
    expect(api.message).toBe(
      'input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000, decrease input length or `max_tokens` and try again',
    );
    const overInput = fromBedrockError(
      validation('input length and `max_tokens` exceed context limit: 210000 + 20000 > 200000'),
    );
    expect(overInput.message).toBe('prompt is too long: 210000 tokens > 200000 maximum');
  });

  it('reads the OpenAI-style wording of Mantle-served models', () => {
    const api = fromBedrockError(
      validation(
        'Mantle streaming error for requestId abc: "This model\'s maximum context length is 202752 tokens. However, you requested 65536 output tokens and your prompt contains at least 137217 input tokens, for a total of at least 202753 tokens."',
      ),
    );
    expect(api.message).toBe(
      'input length and `max_tokens` exceed context limit: 137217 + 65536 > 202752, decrease input length or `max_tokens` and try again',
    );
  });

  it.each([
    [
      'Too many input tokens. Max input tokens: 8192, request input token count: 9279',
      { input: 9279, limit: 8192 },
    ],
    [
      "This model's maximum context length is 8192 tokens. Please reduce the length of the prompt",
      { limit: 8192 },
    ],
    [
      'Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length',
      { input: 40000, limit: 32768 },
    ],
    ["The input exceeds the model's context window", {}],
    ['prompt is too long: 200049 tokens > 200000 maximum', { input: 200049, limit: 200000 }],
  ])('recognizes %s', (message, expected) => {
    const parsed = parseContextOverflow(message);
    expect(parsed).not.toBeNull();
    for (const [k, v] of Object.entries(expected)) expect(parsed).toHaveProperty(k, v);
  });

  it('leaves other validation messages alone', () => {
    expect(parseContextOverflow('The provided model identifier is invalid.')).toBeNull();
    expect(fromBedrockError(validation('messages.0.content: empty')).message).toBe(
      'messages.0.content: empty',
    );
  });
});
