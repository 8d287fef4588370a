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

describe('keys create: web search', () => {
  const now = new Date();
  it('allows web tools unless --no-web-search, and stores a daily cap', () => {
    expect(newKeyRecord({}, now).record.limits).toEqual({});
    expect(newKeyRecord({ webSearch: true }, now).record.limits).toEqual({});
    expect(newKeyRecord({ webSearch: false, webSearchDaily: '25' }, now).record.limits).toEqual({
      webTools: false,
      webSearchesPerDay: 25,
    });
  });
  it('refuses a cap that is not a positive integer, naming the flag', () => {
    expect(() => newKeyRecord({ webSearchDaily: '0' }, now)).toThrow(
      /--web-search-daily: expected a positive integer/,
    );
    expect(() => newKeyRecord({ webSearchDaily: '2.5' }, now)).toThrow(CliError);
  });
});
