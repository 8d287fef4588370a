import { describe, expect, it } from 'vitest';
import { ApiError, type ErrorType } from '../anthropic/errors.ts';
import { BEDROCK_FAULT_BY_TYPE, toBedrockFault } from './bedrock-faults.ts';
import { httpError } from './codec.ts';

const upstream = (status: number, name: string, message: string) =>
  httpError(
    status,
    { 'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/` },
    JSON.stringify({ message }),
    'r-1',
  );

describe('toBedrockFault', () => {
  it.each([
    ['invalid_request_error', 'ValidationException', 400],
    ['authentication_error', 'UnrecognizedClientException', 403],
    ['billing_error', 'ServiceQuotaExceededException', 400],
    ['permission_error', 'AccessDeniedException', 403],
    ['not_found_error', 'ResourceNotFoundException', 404],
    ['request_too_large', 'ValidationException', 413],
    ['unsupported_media_type', 'ValidationException', 415],
    ['rate_limit_error', 'ThrottlingException', 429],
    ['api_error', 'InternalServerException', 500],
    ['overloaded_error', 'ServiceUnavailableException', 503],
  ] as [ErrorType, string, number][])('our %s → %s %i', (type, name, status) => {
    const fault = toBedrockFault(new ApiError(type, 'why'));
    expect(fault).toMatchObject({ name, status, message: 'why' });
    expect(BEDROCK_FAULT_BY_TYPE[type]).toEqual({ name, status });
  });

  it('a budget refusal is never a 429 (every AWS SDK retries any 429)', () => {
    const fault = toBedrockFault(
      new ApiError('billing_error', 'budget', { headers: { 'x-should-retry': 'false' } }),
    );
    expect(fault.status).toBe(400);
    // The Anthropic Bedrock SDK (Claude Code in Bedrock mode) reads it; the AWS SDKs ignore it.
    expect(fault.headers['x-should-retry']).toBe('false');
  });

  it('keeps retry-after on our throttling', () => {
    const fault = toBedrockFault(
      new ApiError('rate_limit_error', 'slow down', { headers: { 'retry-after': '7' } }),
    );
    expect(fault).toMatchObject({
      name: 'ThrottlingException',
      status: 429,
      headers: { 'retry-after': '7' },
    });
  });

  it("the gateway's own timeout is ModelTimeoutException with its 504, which the AWS SDKs retry (408 they do not)", () => {
    expect(BEDROCK_FAULT_BY_TYPE.timeout_error).toEqual({ name: 'ModelTimeoutException', status: 408 });
    const fault = toBedrockFault(
      new ApiError('timeout_error', 'No upstream started answering within 20000 ms'),
    );
    expect(fault).toMatchObject({ name: 'ModelTimeoutException', status: 504 });
  });

  it('a status chosen on purpose is kept (405 from the router)', () => {
    expect(toBedrockFault(new ApiError('invalid_request_error', 'no', { status: 405 })).status).toBe(405);
  });

  it("Bedrock's own client faults go back under their name, status and (scrubbed) message", () => {
    const err = upstream(
      400,
      'ValidationException',
      'bad thing in arn:aws:bedrock:us-east-1:123456789012:x/y',
    );
    expect(toBedrockFault(err)).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'bad thing in arn:aws:bedrock:us-east-1:***:x/y',
    });
    expect(toBedrockFault(upstream(429, 'ThrottlingException', 'Too many')).name).toBe('ThrottlingException');
    expect(toBedrockFault(upstream(424, 'ModelErrorException', 'm')).status).toBe(424);
  });

  it("the gateway's AWS credentials failing is not the caller's key: 502 InternalServerException", () => {
    const fault = toBedrockFault(
      upstream(403, 'UnrecognizedClientException', 'The security token is invalid'),
    );
    expect(fault.name).toBe('InternalServerException');
    expect(fault.status).toBe(502);
    expect(fault.message).toMatch(/gateway configuration problem/);
    // Solo mode: the user is the operator, and is told what to run.
    expect(fault.message).toMatch(
      /your own machine: `aws sso login` or `aws configure`, then `abproxy doctor`/,
    );
  });

  it('a bug of ours is a bare 500 without details', () => {
    expect(toBedrockFault(new TypeError('x is undefined'))).toMatchObject({
      name: 'InternalServerException',
      status: 500,
      message: 'Internal server error',
    });
  });
});
