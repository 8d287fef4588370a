/**
 * The company IdP, through openid-client: discovery (cached), the authorization URL with PKCE, state
 * and nonce, the callback's code exchange with ID-token validation against the IdP's JWKS, and the
 * refresh that re-reads the person's groups. Only the claims the gateway needs leave this module.
 */
import type * as Oidc from 'openid-client';
import { envProxyDispatcher } from '../upstream/proxy.ts';

/** openid-client (and jose under it, ~15 MB resident) load with the first sign-in, not with every gateway. */
let library: Promise<typeof Oidc> | undefined;
const openidClient = (): Promise<typeof Oidc> => {
  library ??= import('openid-client');
  return library;
};

/**
 * fetch through the outbound proxy (HTTPS_PROXY / NO_PROXY, the rules of upstream/proxy.ts) when one
 * is set: an IdP outside the company network is reached the way Bedrock is. undici's own fetch, whose
 * Response openid-client accepts, with the dispatcher built by the same undici.
 */
async function idpFetch(): Promise<Oidc.CustomFetch | undefined> {
  const dispatcher = await envProxyDispatcher();
  if (!dispatcher) return undefined;
  const { fetch } = await import('undici');
  return (url, options) =>
    fetch(url, { ...options, dispatcher } as Parameters<typeof fetch>[1]) as unknown as Promise<Response>;
}

export interface IdpSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes: string;
  groupsClaim: string;
  /** `<public URL>/oauth/callback`, known once the gateway listens. */
  redirectUri: () => string;
}

export interface Identity {
  sub: string;
  email: string;
  emailVerified: boolean | undefined;
  groups: string[];
  /** Kept server-side to re-read groups on refresh; absent when the IdP gave none. */
  refreshToken: string | undefined;
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The IdP answered a refresh with an OAuth error (revoked, expired, user gone): the sign-in is over. */
export class IdpRefusedError extends Error {
  override name = 'IdpRefusedError';
}

export interface IdentityProvider {
  /** Where to send the browser, and the values the callback must see again. */
  authorizationUrl(): Promise<{ url: string; request: AuthorizationRequest }>;
  /** Exchanges the callback's code; throws on any validation failure. */
  completeAuthorization(callbackUrl: URL, request: AuthorizationRequest): Promise<Identity>;
  /** A fresh identity from the IdP's refresh token; IdpRefusedError when the IdP refuses it. */
  refresh(refreshToken: string): Promise<Identity>;
}

function readGroups(claims: Record<string, unknown>, claim: string): string[] {
  const value = claims[claim];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  if (typeof value === 'string' && value !== '') return [value];
  return [];
}

/**
 * `email_verified` as a boolean; some IdPs (Cognito's userinfo, custom mappers) send "true"/"false"
 * strings, and a "false" read as "not said" would admit an address nobody proved to own.
 */
function readVerified(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
    return value.trim().toLowerCase() === 'true';
  }
  return undefined;
}

/**
 * The scope and the parameters that ask for a refresh token. `offline_access` (OpenID Connect's way) is
 * only issued with consent on many IdPs, so it goes with `prompt=consent`. An IdP whose discovery lists
 * the scopes it supports without `offline_access` (Google, Cognito) refuses the whole sign-in over it
 * (`invalid_scope`): the scope is left out and Google's own switch, `access_type=offline`, asked instead
 * (an OAuth server ignores parameters it does not know, RFC 6749 §3.1).
 */
export function offlineAccessParameters(
  scopes: string,
  supported: readonly string[] | undefined,
): Record<string, string> {
  const asked = scopes.split(/\s+/).filter(Boolean);
  if (!asked.includes('offline_access')) return { scope: asked.join(' ') };
  if (!supported || supported.includes('offline_access'))
    return { scope: asked.join(' '), prompt: 'consent' };
  return {
    scope: asked.filter((scope) => scope !== 'offline_access').join(' '),
    access_type: 'offline',
    prompt: 'consent',
  };
}

export class OidcProvider implements IdentityProvider {
  readonly #settings: IdpSettings;
  #config: Promise<Oidc.Configuration> | undefined;

  constructor(settings: IdpSettings) {
    this.#settings = settings;
  }

  #configuration(): Promise<Oidc.Configuration> {
    if (!this.#config) {
      const { issuer, clientId, clientSecret } = this.#settings;
      const url = new URL(issuer);
      this.#config = Promise.all([openidClient(), idpFetch()])
        .then(([oidc, fetchThroughProxy]) =>
          oidc.discovery(
            url,
            clientId,
            clientSecret,
            clientSecret ? oidc.ClientSecretPost(clientSecret) : oidc.None(),
            {
              // http only for an IdP on this machine (tests, a local Keycloak).
              ...(url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
              // Discovery, the code exchange, JWKS and refreshes through the outbound proxy (kept by the
              // configuration discovery returns).
              ...(fetchThroughProxy ? { [oidc.customFetch]: fetchThroughProxy } : {}),
            },
          ),
        )
        .catch((err: unknown) => {
          // A failed discovery is tried again on the next sign-in, not cached.
          this.#config = undefined;
          throw err;
        });
    }
    return this.#config;
  }

  async authorizationUrl(): Promise<{ url: string; request: AuthorizationRequest }> {
    const config = await this.#configuration();
    const oidc = await openidClient();
    const request = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#settings.redirectUri(),
      state: request.state,
      nonce: request.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
      ...offlineAccessParameters(this.#settings.scopes, config.serverMetadata().scopes_supported),
    });
    return { url: url.href, request };
  }

  async completeAuthorization(callbackUrl: URL, request: AuthorizationRequest): Promise<Identity> {
    const config = await this.#configuration();
    const oidc = await openidClient();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    return this.#identity(config, tokens, undefined);
  }

  async refresh(refreshToken: string): Promise<Identity> {
    const config = await this.#configuration();
    const oidc = await openidClient();
    let tokens: Awaited<ReturnType<typeof Oidc.refreshTokenGrant>>;
    try {
      tokens = await oidc.refreshTokenGrant(config, refreshToken);
    } catch (err) {
      // An OAuth error answer ends the sign-in; anything else (IdP unreachable) is transient.
      if (err instanceof oidc.ResponseBodyError) throw new IdpRefusedError(`${err.error}: ${err.message}`);
      throw err;
    }
    return this.#identity(config, tokens, refreshToken);
  }

  async #identity(
    config: Oidc.Configuration,
    tokens: Oidc.TokenEndpointResponse & Oidc.TokenEndpointResponseHelpers,
    previousRefreshToken: string | undefined,
  ): Promise<Identity> {
    let claims: Record<string, unknown> | undefined = tokens.claims();
    // Some IdPs send no ID token on refresh, or leave email/groups to the userinfo endpoint.
    if (!claims || claims.email === undefined || claims[this.#settings.groupsClaim] === undefined) {
      const sub = claims?.sub;
      const oidc = await openidClient();
      const info = await oidc
        .fetchUserInfo(config, tokens.access_token, typeof sub === 'string' ? sub : oidc.skipSubjectCheck)
        .catch(() => undefined);
      claims = { ...info, ...claims };
      if (info?.email !== undefined && claims.email === undefined) claims.email = info.email;
      if (info?.[this.#settings.groupsClaim] !== undefined) {
        claims[this.#settings.groupsClaim] = info[this.#settings.groupsClaim];
      }
    }
    if (typeof claims.sub !== 'string') throw new Error('the IdP gave no subject');
    if (typeof claims.email !== 'string' || !claims.email.includes('@')) {
      throw new Error('the IdP gave no email address (ask for the `email` scope)');
    }
    return {
      sub: claims.sub,
      email: claims.email.toLowerCase(),
      emailVerified: readVerified(claims.email_verified),
      groups: readGroups(claims, this.#settings.groupsClaim),
      refreshToken: tokens.refresh_token ?? previousRefreshToken,
    };
  }
}
