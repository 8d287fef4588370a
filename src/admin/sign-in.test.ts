import { describe, expect, it } from 'vitest';
import { GuessThrottle } from '../auth/guess-throttle.ts';
import { LOGIN_TOKEN_TTL_MS, LoginTokens, mintLoginToken } from './login-token.ts';
import { SessionStore } from './sessions.ts';

describe('one-time login tokens', () => {
  it('accept a token signed with the secret once, before it expires', () => {
    let now = 1_000_000;
    const tokens = new LoginTokens('secret', () => now);
    const token = mintLoginToken('secret', now);
    expect(tokens.redeem(token)).toBe(true);
    expect(tokens.redeem(token)).toBe(false);
    const late = mintLoginToken('secret', now);
    now += LOGIN_TOKEN_TTL_MS;
    expect(tokens.redeem(late)).toBe(false);
  });

  it('refuse a token minted before the gateway started: a used link stays used across a restart', () => {
    let now = 1_000_000;
    const token = mintLoginToken('secret', now);
    expect(new LoginTokens('secret', () => now).redeem(token)).toBe(true);
    now += 1_000;
    const restarted = new LoginTokens('secret', () => now);
    expect(restarted.redeem(token)).toBe(false);
    expect(restarted.redeem(mintLoginToken('secret', now))).toBe(true);
  });

  it('refuse other secrets, tampered parts, far-future expiries and junk', () => {
    const now = 1_000_000;
    const tokens = new LoginTokens('secret', () => now);
    expect(tokens.redeem(mintLoginToken('other', now))).toBe(false);
    const [expires, nonce, mac] = mintLoginToken('secret', now).split('.');
    expect(tokens.redeem(`${Number(expires) + 1}.${nonce}.${mac}`)).toBe(false);
    expect(tokens.redeem(mintLoginToken('secret', now, 10 * LOGIN_TOKEN_TTL_MS))).toBe(false);
    for (const junk of ['', '...', 'a.b.c', 'a.b.c.d']) expect(tokens.redeem(junk)).toBe(false);
  });
});

describe('admin sessions', () => {
  it('have random ids and CSRF tokens, expire, and are bounded in number', () => {
    let now = 0;
    const sessions = new SessionStore({ ttlMs: 1000, maxSessions: 2, now: () => now });
    const a = sessions.create();
    const b = sessions.create();
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(a.id);
    expect(a.id).toMatch(/^[\w-]{43}$/);
    expect(sessions.get(a.id)).toBe(a);
    sessions.create();
    expect(sessions.get(a.id)).toBeUndefined();
    expect(sessions.get(b.id)).toBe(b);
    now = 1000;
    expect(sessions.get(b.id)).toBeUndefined();
    expect(sessions.get(undefined)).toBeUndefined();
  });
});

describe('the sign-in throttle', () => {
  it('refuses an address after too many wrong keys, until its window ends; others are not affected', () => {
    let now = 0;
    const throttle = new GuessThrottle({ maxFailures: 3, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('a')).toBe(0);
      throttle.failed('a');
    }
    expect(throttle.retryAfter('a')).toBe(10);
    expect(throttle.retryAfter('b')).toBe(0);
    now = 9_500;
    expect(throttle.retryAfter('a')).toBe(1);
    now = 10_000;
    expect(throttle.retryAfter('a')).toBe(0);
  });

  it('keeps a lockout through a spray of single guesses from more addresses than it counts (red team)', () => {
    const throttle = new GuessThrottle({ maxFailures: 3, windowMs: 10_000, maxAddresses: 100, now: () => 0 });
    for (let i = 0; i < 3; i++) throttle.failed('first');
    // Ten times the table: every counting window is evicted many times over.
    for (let i = 0; i < 1_000; i++) throttle.failed(`spray-${i}`);
    expect(throttle.retryAfter('first')).toBe(10);
    throttle.failed('first');
    expect(throttle.retryAfter('first')).toBe(10);
  });

  it('stays bounded: locking out more addresses than it holds frees the lockout made longest ago', () => {
    let now = 0;
    const throttle = new GuessThrottle({
      maxFailures: 3,
      windowMs: 10_000,
      maxAddresses: 100,
      now: () => now,
    });
    for (let a = 0; a <= 100; a++) {
      now = a; // each a millisecond later
      for (let i = 0; i < 3; i++) throttle.failed(`addr-${a}`);
    }
    expect(throttle.retryAfter('addr-0')).toBe(0);
    expect(throttle.retryAfter('addr-1')).toBe(10);
    expect(throttle.retryAfter('addr-100')).toBe(10);
  });
});
