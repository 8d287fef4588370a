import { describe, expect, it } from 'vitest';
import { formatClock, formatCount, formatMs, formatRate } from './format.ts';

describe('dashboard number formats', () => {
  it('counts', () => {
    expect([0, 950, 1234, 12_345, 456_789, 4_560_000, 2e9].map(formatCount)).toEqual([
      '0',
      '950',
      '1.23k',
      '12.3k',
      '457k',
      '4.56M',
      '2.00G',
    ]);
  });

  it('durations', () => {
    expect([undefined, 12.4, 999, 1250, 59_000, 185_000, 7_620_000].map(formatMs)).toEqual([
      '-',
      '12 ms',
      '999 ms',
      '1.3 s',
      '59.0 s',
      '3m05s',
      '2h07m',
    ]);
  });

  it('rates and clock', () => {
    expect([0, 0.25, 12.6].map(formatRate)).toEqual(['0.0', '0.3', '13']);
    expect(formatClock(new Date(2026, 0, 2, 3, 4, 5).getTime())).toBe('03:04:05');
  });
});
