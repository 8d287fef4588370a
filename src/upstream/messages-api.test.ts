import { describe, expect, it } from 'vitest';
import { classifyBedrockError, fromBedrockError } from './aws-errors.ts';
import { httpError } from './codec.ts';
import { mantleEndpoint, messagesApiHeaders, notAnAnswer, withModel } from './messages-api.ts';

describe("Bedrock's Messages API wire details", () => {
  it('splices model into the body as its first field', () => {
    expect(JSON.parse(withModel('{"max_tokens":5,"messages":[]}', 'us.anthropic.x'))).toEqual({
      model: 'us.anthropic.x',
      max_tokens: 5,
      messages: [],
    });
    expect(withModel('{}', 'a"b')).toBe('{"model":"a\\"b"}');
    expect(() => withModel('[]', 'x')).toThrow();
  });

  it('pins anthropic-version, sends betas as one header and the tier as Bedrock’s header', () => {
    expect(
      messagesApiHeaders({
        host: 'runtime',
        modelId: 'm',
        body: '{}',
        betas: ['a-1', 'b-2'],
        stream: true,
        serviceTier: 'priority',
      }),
    ).toEqual({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'a-1,b-2',
      'x-amzn-bedrock-service-tier': 'priority',
    });
    expect(
      messagesApiHeaders({ host: 'mantle', modelId: 'm', body: '{}', betas: [], stream: false })[
        'anthropic-beta'
      ],
    ).toBeUndefined();
  });

  it('the mantle host: the region default or the configured URL', () => {
    expect(mantleEndpoint(undefined, 'eu-west-1')).toEqual({
      origin: 'https://bedrock-mantle.eu-west-1.api.aws',
      host: 'bedrock-mantle.eu-west-1.api.aws',
      basePath: '',
    });
    expect(mantleEndpoint('http://127.0.0.1:9999/base/', 'us-east-1')).toEqual({
      origin: 'http://127.0.0.1:9999',
      host: '127.0.0.1:9999',
      basePath: '/base',
    });
  });

  it.each([
    [400, 'invalid_request_error', 400, 'invalid_request_error'],
    [429, 'rate_limit_error', 429, 'rate_limit_error'],
    [529, 'overloaded_error', 529, 'overloaded_error'],
    [404, 'not_found_error', 404, 'not_found_error'],
    [500, 'api_error', 500, 'api_error'],
    // The gateway's AWS identity, never the client's key.
    [401, 'authentication_error', 502, 'api_error'],
  ])(
    'an Anthropic error body (HTTP %i %s) maps through the one table',
    (status, type, wantStatus, wantType) => {
      const err = httpError(
        status,
        {},
        JSON.stringify({ type: 'error', error: { type, message: 'upstream says no' } }),
        'req-1',
      );
      expect(classifyBedrockError(err)).toMatchObject({
        status: wantStatus,
        type: wantType,
        recognized: true,
      });
      expect(fromBedrockError(err).message).toContain('upstream says no');
    },
  );

  it('a 2xx that is not an answer becomes an error of the table', () => {
    const unknown =
      '{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}';
    const json = { 'content-type': 'application/json' };
    const err = notAnAnswer(false, 200, json, unknown, 'r');
    expect(classifyBedrockError(err)).toMatchObject({ status: 502, type: 'api_error', recognized: true });
    expect(notAnAnswer(true, 200, json, undefined, 'r')?.message).toMatch(/instead of SSE/);
    expect(notAnAnswer(false, 200, json, '{"type":"message"}', 'r')).toBeUndefined();
    expect(notAnAnswer(true, 200, { 'content-type': 'text/event-stream' }, undefined, 'r')).toBeUndefined();
  });
});
