import { describe, expect, it } from 'vitest';
import { parseTraceparent, traceIdOf } from './traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('reads the W3C example', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({
      traceId: TRACE,
      parentId: PARENT,
      flags: '01',
    });
    expect(traceIdOf(`00-${TRACE}-${PARENT}-00`)).toBe(TRACE);
  });

  it('accepts a later version with more fields after its four', () => {
    expect(traceIdOf(`01-${TRACE}-${PARENT}-01`)).toBe(TRACE);
    expect(traceIdOf(`cc-${TRACE}-${PARENT}-01-what-comes-next`)).toBe(TRACE);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['sent twice', [`00-${TRACE}-${PARENT}-01`, `00-${TRACE}-${PARENT}-01`]],
    ['joined duplicates', `00-${TRACE}-${PARENT}-01, 00-${TRACE}-${PARENT}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version 00 with extra fields', `00-${TRACE}-${PARENT}-01-extra`],
    ['short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['long trace id', `00-${TRACE}0-${PARENT}-01`],
    ['non-hex', `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
    ['one-digit flags', `00-${TRACE}-${PARENT}-1`],
    ['wrong separators', `00_${TRACE}_${PARENT}_01`],
    ['escape sequence', `00-${TRACE}-${PARENT}-01\u001b[31m`],
    ['newline smuggling', `00-${TRACE}-${PARENT}-01\nx-evil: 1`],
    ['later version without the separator', `01-${TRACE}-${PARENT}-01x`],
    ['huge', `01-${TRACE}-${PARENT}-01-${'a'.repeat(10_000)}`],
    ['a JSON value', `{"traceId":"${TRACE}"}`],
  ])('ignores a malformed value: %s', (_name, value) => {
    expect(parseTraceparent(value as string | string[] | undefined)).toBeUndefined();
  });
});
