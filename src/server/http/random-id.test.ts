import { describe, expect, it } from 'vitest';
import { randomId } from './random-id.ts';

describe('randomId', () => {
  it('gives the prefix and 24 base62-ish characters', () => {
    expect(randomId('req_')).toMatch(/^req_[A-Za-z0-9]{24}$/);
  });

  it('does not repeat across many pool refills', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => randomId('msg_')));
    expect(ids.size).toBe(5000);
  });
});
