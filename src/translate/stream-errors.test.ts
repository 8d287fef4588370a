import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import { isStreamExceptionMember, STREAM_EXCEPTIONS, streamExceptionToApiError } from './stream-errors.ts';

const ROWS = [
  ['throttlingException', 429, 'rate_limit_error'],
  ['serviceUnavailableException', 529, 'overloaded_error'],
  ['modelNotReadyException', 529, 'overloaded_error'],
  ['modelTimeoutException', 529, 'overloaded_error'],
  ['modelStreamErrorException', 500, 'api_error'],
  ['internalServerException', 500, 'api_error'],
  ['validationException', 400, 'invalid_request_error'],
] as const;

describe('streamExceptionToApiError', () => {
  it.each(ROWS)('%s → %i %s', (member, status, type) => {
    const err = streamExceptionToApiError(member, { name: 'X', message: 'upstream says no' });
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(status);
    expect(err.toJSON().error).toEqual({ type, message: `Bedrock ${member}: upstream says no` });
  });

  it('has a tested row for every exception in the table', () => {
    expect(Object.keys(STREAM_EXCEPTIONS).sort()).toEqual(ROWS.map(([member]) => member).sort());
  });

  it('recognizes exception members and nothing else', () => {
    expect(isStreamExceptionMember('throttlingException')).toBe(true);
    expect(isStreamExceptionMember('metadata')).toBe(false);
    expect(isStreamExceptionMember('toString')).toBe(false);
  });
});
