import { describe, expect, it } from 'vitest';
import { MAX_RECORD_TEXT } from '../usage/bounds.ts';
import { CliError } from './errors.ts';
import { newKeyRecord } from './keys.ts';

describe('keys create', () => {
  it('refuses a name or user longer than a stored label may be', () => {
    const now = new Date();
    expect(newKeyRecord({ name: 'n'.repeat(MAX_RECORD_TEXT) }, now).record.name).toHaveLength(
      MAX_RECORD_TEXT,
    );
    expect(() => newKeyRecord({ name: 'n'.repeat(MAX_RECORD_TEXT + 1) }, now)).toThrow(CliError);
    expect(() => newKeyRecord({ user: 'u'.repeat(420 * 1024) }, now)).toThrow(/--user: at most 256/);
  });
});
