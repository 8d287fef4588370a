import { describe, expect, it } from 'vitest';
import { offlineAccessParameters } from './idp.ts';

const DEFAULT_SCOPES = 'openid email profile offline_access';

describe('asking the IdP for a refresh token', () => {
  it('asks offline_access with consent where the IdP supports it (Okta, Entra ID, Keycloak)', () => {
    expect(offlineAccessParameters(DEFAULT_SCOPES, ['openid', 'email', 'profile', 'offline_access'])).toEqual(
      {
        scope: DEFAULT_SCOPES,
        prompt: 'consent',
      },
    );
  });

  it("asks Google's access_type=offline instead of a scope Google refuses the sign-in over", () => {
    // accounts.google.com's discovery document lists these three.
    expect(offlineAccessParameters(DEFAULT_SCOPES, ['openid', 'email', 'profile'])).toEqual({
      scope: 'openid email profile',
      access_type: 'offline',
      prompt: 'consent',
    });
  });

  it('keeps the scopes as configured when the IdP does not list what it supports', () => {
    expect(offlineAccessParameters(DEFAULT_SCOPES, undefined)).toEqual({
      scope: DEFAULT_SCOPES,
      prompt: 'consent',
    });
  });

  it('asks no consent when no refresh token is wanted', () => {
    expect(offlineAccessParameters('openid  email', ['openid'])).toEqual({ scope: 'openid email' });
  });
});
