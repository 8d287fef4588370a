import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../http/logger.ts';
import { outageWarning } from './outage-warning.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('outageWarning', () => {
  it('logs the first failure, then one per 10 s with how many were left out', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lines: [object, string][] = [];
    const log = {
      warn: (fields: object, message: string) => lines.push([fields, message]),
    } as unknown as Logger;
    const warn = outageWarning(log, 'budget counter failed');
    const err = new Error('connect ECONNREFUSED');
    for (let i = 0; i < 100; i++) warn(err);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual([{ err }, 'budget counter failed']);
    vi.advanceTimersByTime(9_999);
    warn(err, { spooled: 3 });
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    warn(err, { spooled: 4 });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual([{ err, spooled: 4, alsoFailed: 100 }, 'budget counter failed']);
  });
});
