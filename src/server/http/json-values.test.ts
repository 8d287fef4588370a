import { describe, expect, it } from 'vitest';
import { expectLinear } from '../../../test/linear-time.ts';
import { hasMoreJsonValues } from './json-values.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;

describe('hasMoreJsonValues', () => {
  it('counts members and items, not what strings hold', () => {
    expect(hasMoreJsonValues(bytes(keys(100)), 150)).toBe(true); // 100 colons + 99 commas
    expect(hasMoreJsonValues(bytes(keys(100)), 250)).toBe(false);
    const inStrings = JSON.stringify({ text: ',:'.repeat(10_000), more: 'a,"b":c'.repeat(1_000) });
    expect(hasMoreJsonValues(bytes(inStrings), 100)).toBe(false);
    expect(hasMoreJsonValues(bytes(JSON.stringify(Array.from({ length: 1_000 }, () => 0))), 500)).toBe(true);
  });

  it('reads escaped quotes and backslashes as JSON does', () => {
    // Strings ending in an escaped backslash, holding escaped quotes beside separators.
    const tricky = JSON.stringify({ a: 'x\\', b: 'say "hi," then: "there:"', c: '\\",:' });
    // 3 colons and 2 commas outside the strings; 300 of them in an array add 299 commas.
    const many = bytes(JSON.stringify(Array.from({ length: 300 }, () => JSON.parse(tricky))));
    expect(hasMoreJsonValues(many, 1_798)).toBe(true);
    expect(hasMoreJsonValues(many, 1_799)).toBe(false);
  });

  it('leaves invalid JSON to the parser (an unclosed string ends the count)', () => {
    expect(hasMoreJsonValues(bytes(`{"a":"${',,'.repeat(100)}`), 10)).toBe(false);
  });

  it('is linear on hostile shapes (escape runs, many short strings, separators)', { timeout: 60_000 }, () => {
    const fill = (unit: string, n: number) => bytes(unit.repeat(Math.ceil(n / unit.length)));
    expectLinear(
      (n) => fill('"\\\\\\\\\\\\\\"', n),
      (b) => hasMoreJsonValues(b, Number.MAX_SAFE_INTEGER),
    );
    expectLinear(
      (n) => fill('"a",', n),
      (b) => hasMoreJsonValues(b, Number.MAX_SAFE_INTEGER),
    );
    expectLinear(
      (n) => fill(`"${'\\'.repeat(50)}"`, n),
      (b) => hasMoreJsonValues(b, Number.MAX_SAFE_INTEGER),
    );
  });
});
