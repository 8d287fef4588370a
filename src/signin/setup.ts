/** Builds sign-in from the settings when `ABPROXY_OIDC_ISSUER` is set; undefined otherwise. */
import { type Config, ConfigError } from '../config/config.ts';
import type { Logger } from '../server/http/logger.ts';
import type { Route } from '../server/http/router.ts';
import type { Store } from '../store/types.ts';
import { type IdentityProvider, OidcProvider } from './idp.ts';
import { signinApiRoutes, signinBrowserRoutes } from './routes.ts';
import { SignInService } from './service.ts';

export interface SignIn {
  service: SignInService;
  /** Claude Code's and `abproxy login`'s endpoints. */
  apiRoutes: Route[];
  /** The pages a person opens in a browser (see SIGNIN_BROWSER_PATHS). */
  browserRoutes: Route[];
}

export interface SignInOverrides {
  /** Seconds between device-code polls (tests shorten it). */
  pollIntervalS?: number;
  idp?: IdentityProvider;
  /** The sign-in clock (tests move it past grace periods and caps). */
  now?: () => number;
}

type SignInConfig = Pick<
  Config,
  | 'oidcIssuer'
  | 'oidcClientId'
  | 'oidcClientSecret'
  | 'oidcScopes'
  | 'oidcGroupsClaim'
  | 'oidcAllowedDomains'
  | 'policies'
  | 'keyCacheMs'
  | 'trustedProxies'
>;

export function createSignIn(
  config: SignInConfig,
  store: Store,
  publicUrl: () => string,
  overrides: SignInOverrides = {},
  log?: Pick<Logger, 'warn'>,
): SignIn | undefined {
  if (!config.oidcIssuer) {
    if (config.policies) throw new ConfigError('ABPROXY_POLICIES needs sign-in: set ABPROXY_OIDC_ISSUER too');
    return undefined;
  }
  if (!config.oidcClientId) throw new ConfigError('ABPROXY_OIDC_ISSUER needs ABPROXY_OIDC_CLIENT_ID');
  if (!config.oidcScopes.split(/\s+/).includes('openid')) {
    throw new ConfigError('ABPROXY_OIDC_SCOPES must include openid');
  }
  const idp =
    overrides.idp ??
    new OidcProvider({
      issuer: config.oidcIssuer,
      clientId: config.oidcClientId,
      clientSecret: config.oidcClientSecret,
      scopes: config.oidcScopes,
      groupsClaim: config.oidcGroupsClaim,
      redirectUri: () => `${publicUrl()}/oauth/callback`,
    });
  const service = new SignInService({
    store,
    idp,
    issuer: config.oidcIssuer,
    policies: config.policies,
    allowedDomains: config.oidcAllowedDomains,
    verificationUri: () => `${publicUrl()}/device`,
    ...(overrides.pollIntervalS !== undefined ? { pollIntervalS: overrides.pollIntervalS } : {}),
    ...(overrides.now ? { now: overrides.now } : {}),
    ...(log ? { warn: (message: string) => log.warn(message) } : {}),
    // Solo: `principals disable` runs in another process and must bite at once.
    cacheMs: store.mode === 'solo' ? 0 : config.keyCacheMs,
  });
  const routeOptions = { service, publicUrl, trustedProxies: config.trustedProxies };
  return {
    service,
    apiRoutes: signinApiRoutes(routeOptions),
    browserRoutes: signinBrowserRoutes(routeOptions),
  };
}
