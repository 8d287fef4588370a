import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { briefError, createLogger } from './logger.ts';

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

describe('a logged error echoing a credential', () => {
  const key = `ABSK${'Q'.repeat(40)}`;
  const echoed = () => new Error(`stream broke for Bearer ${key}`);

  it('is written without it, message and stack', () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    });
    const log = createLogger('debug', 'x-api-key', sink);
    log.warn({ err: echoed() }, 'stream failed');
    expect(written).toContain('stream broke for [redacted]');
    expect(written).not.toContain(key.slice(4, 20));
  });

  it('is told briefly without it', () => {
    expect(briefError(echoed()).error).toBe('Error: stream broke for [redacted]');
  });
});

describe('client-chosen text in a log line', () => {
  it('reaches the terminal without C1 or bidi controls, and reads back as the same JSON value', () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    });
    // An 8-bit CSI that paints the terminal, a right-to-left override, DEL.
    const model = 'qwen\u009b41mX\u202egpj.exe\u007f';
    createLogger('debug', 'x-api-key', sink).debug({ model }, 'request body');
    expect(written).not.toMatch(/[\u007f-\u009f\u202a-\u202e]/);
    expect(written).toContain('\\u009b41mX\\u202egpj.exe');
    expect(written.endsWith('\n')).toBe(true);
    expect(JSON.parse(written).model).toBe(model);
  });
});
