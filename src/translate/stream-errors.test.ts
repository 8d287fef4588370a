import { describe, expect, it } from 'vitest';
import { fromBedrockError } from '../upstream/aws-errors.ts';
import { streamException } from './stream-errors.ts';

describe('streamException', () => {
  it('spells a member as the exception the SDK throws', () => {
    const err = streamException({ throttlingException: { message: 'slow down' } });
    expect(err).toMatchObject({ name: 'ThrottlingException', message: 'slow down' });
  });

  it('keeps the message of an exception the table does not know', () => {
    const err = fromBedrockError(streamException({ brandNewException: { message: 'new' } }));
    expect({ status: err.status, type: err.type, message: err.message }).toEqual({
      status: 500,
      type: 'api_error',
      message: 'new',
    });
  });

  it('finds nothing in ordinary events', () => {
    expect(streamException({ metadata: { usage: {} } })).toBeUndefined();
    expect(streamException({ chunk: { bytes: new Uint8Array() } })).toBeUndefined();
    expect(streamException({ throttlingException: undefined })).toBeUndefined();
  });
});
