import { describe, expect, it } from 'vitest';
import { uuidv7 } from './ids.ts';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 id carrying the millisecond time', () => {
    const now = Date.UTC(2026, 11, 2, 12, 0, 0, 123);
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('stays unique and time-ordered across many ids (random bits drawn in batches)', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The random part differs even within one millisecond.
    const same = Array.from({ length: 1000 }, () => uuidv7(1_700_000_000_000).slice(15));
    expect(new Set(same).size).toBe(same.length);
  });
});
