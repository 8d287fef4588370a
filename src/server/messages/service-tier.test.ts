import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  isTierRejection,
  setTierHeaders,
  type TierState,
  tierWithinKey,
  withTierFallback,
} from './service-tier.ts';

const res = () => new ServerResponse(new IncomingMessage(new Socket()));
const rejection = Object.assign(
  new Error('The provided service tier (flex) is not supported for this model.'),
  {
    name: 'ValidationException',
  },
);

describe('service tier fallback', () => {
  it('recognises only tier validation errors', () => {
    expect(isTierRejection(rejection)).toBe(true);
    expect(
      isTierRejection(Object.assign(new Error('Malformed input'), { name: 'ValidationException' })),
    ).toBe(false);
    expect(isTierRejection(Object.assign(new Error('service tier'), { name: 'ThrottlingException' }))).toBe(
      false,
    );
  });

  it('retries once on default and marks the response', async () => {
    const r = res();
    const state: TierState = { wanted: 'flex', tier: 'flex' };
    setTierHeaders(r, state);
    expect(r.getHeader('x-abproxy-service-tier')).toBe('flex');
    const tried: Array<string | undefined> = [];
    const out = await withTierFallback(state, r, async (tier) => {
      tried.push(tier);
      if (tier) throw rejection;
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(tried).toEqual(['flex', undefined]);
    expect(r.getHeader('x-abproxy-service-tier')).toBe('default');
    expect(r.getHeader('x-abproxy-service-tier-fallback')).toBe('flex');
  });

  it('does not retry without a tier or for other errors', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw rejection;
    };
    await expect(withTierFallback({ wanted: 'default', tier: undefined }, res(), fail)).rejects.toBe(
      rejection,
    );
    const other = new Error('boom');
    await expect(
      withTierFallback({ wanted: 'flex', tier: 'flex' }, res(), async () => {
        calls++;
        throw other;
      }),
    ).rejects.toBe(other);
    expect(calls).toBe(2);
  });
});

describe('tierWithinKey', () => {
  it.each([
    ['flex', 'flex', true],
    ['default', 'flex', false],
    ['priority', 'flex', false],
    ['reserved', 'flex', false],
    ['flex', 'default', true],
    ['priority', 'default', false],
    ['flex', 'priority', true],
    ['default', 'priority', true],
    ['reserved', 'priority', false],
    ['priority', 'reserved', false],
    ['default', 'reserved', true],
    ['gold', 'priority', false],
    ['constructor', 'priority', false],
  ] as const)('a caller asking %s on a %s key: %s', (caller, key, within) => {
    expect(tierWithinKey(caller, key)).toBe(within);
  });
});
