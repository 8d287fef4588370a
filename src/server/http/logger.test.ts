import { describe, expect, it } from 'vitest';
import { briefError } from './logger.ts';

describe('briefError', () => {
  it('names the error, its message and code, without the stack', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(briefError(refused)).toEqual({
      error: 'Error: connect ECONNREFUSED 127.0.0.1:9',
      code: 'ECONNREFUSED',
    });
  });

  it('takes an AWS error’s HTTP status as its code', () => {
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(briefError(denied)).toEqual({ error: 'AccessDeniedException: not authorized', code: 403 });
  });

  it('reads the first inner error of a message-less AggregateError', () => {
    const aggregate = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:9')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(briefError(aggregate)).toEqual({
      error: 'AggregateError: connect ECONNREFUSED ::1:9',
      code: 'ECONNREFUSED',
    });
  });

  it('states a non-Error as it is', () => {
    expect(briefError('boom')).toEqual({ error: 'boom' });
  });
});
