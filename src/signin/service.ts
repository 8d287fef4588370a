/**
 * The sign-in flow, free of HTTP: RFC 8628 device authorization, the browser login through the IdP,
 * the token endpoint's grants (device code; refresh with rotation and reuse detection), RFC 7009
 * revocation, access-token verification and the managed settings a principal's policy gives.
 */
import { randomBytes } from 'node:crypto';
import { sameHash, sameSecret } from '../auth/key-format.ts';
import type { Verification } from '../auth/verifier.ts';
import type {
  DeviceGrant,
  KeyRecord,
  Principal,
  Session,
  SignInStore,
  Store,
  TokenRecord,
} from '../store/types.ts';
import { DuplicateKeyError } from '../store/types.ts';
import { type Identity, type IdentityProvider, IdpRefusedError } from './idp.ts';
import {
  availableModelGlobs,
  matchPolicy,
  type Policy,
  type PolicySet,
  policyByName,
  settingsChecksum,
} from './policies.ts';
import {
  ACCESS_TOKEN_PREFIX,
  displayUserCode,
  newAccessToken,
  newDeviceCode,
  newRefreshToken,
  newSessionId,
  newUserCode,
  normalizeUserCode,
  openSuccessor,
  principalId,
  sealSuccessor,
  sha256Hex,
  stableUuid,
  userCodeOfDeviceCode,
} from './tokens.ts';

export const ACCESS_TOKEN_TTL_S = 3600;
export const DEVICE_GRANT_TTL_S = 600;
/** Device sign-ins one address may start in 10 minutes (a person needs one; a shared NAT, a few dozen). */
export const DEVICE_GRANTS_PER_WINDOW = 60;
const SESSION_TTL_MS = 30 * 86_400_000;
/** Characters of a device sign-in's User-Agent kept for its confirmation page. */
const USER_AGENT_SHOWN = 200;
/**
 * Without an IdP refresh token the gateway never asks the IdP again, so a person removed there keeps
 * refreshing until the session ends: such sessions end after a working day and the person signs in again.
 */
export const SESSION_WITHOUT_IDP_REFRESH_TTL_MS = 12 * 3_600_000;
/**
 * A refresh token presented again this soon after its rotation is a retry (a lost response, or several
 * Claude Code processes refreshing at once), not theft: it gets the same pair again. Later, reuse revokes
 * the session. Amazon Cognito's RetryGracePeriodSeconds allows up to 60 s for the same reason.
 */
export const REFRESH_REUSE_GRACE_MS = 30_000;
/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval. */
const SLOW_DOWN_STEP_S = 5;

/** An OAuth error answer (RFC 6749 §5.2 / RFC 8628 §3.5): `{error, error_description}`. */
export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly error: string;
  readonly status: number;
  /** Seconds a client should wait before trying again (429). */
  readonly retryAfterS: number | undefined;
  constructor(error: string, description: string, status = 400, retryAfterS?: number) {
    super(description);
    this.error = error;
    this.status = status;
    this.retryAfterS = retryAfterS;
  }
}

/** A browser-step failure, shown to the person on an HTML page. */
export class SignInPageError extends Error {
  override name = 'SignInPageError';
  readonly status: number;
  /** The sign-in in progress goes on (the page answered something else): its cookie is kept. */
  readonly signInGoesOn: boolean;
  constructor(message: string, status = 400, signInGoesOn = false) {
    super(message);
    this.status = status;
    this.signInGoesOn = signInGoesOn;
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  email: string;
}

/** A signed-in caller as the gateway sees it: the key-shaped record plus what only principals have. */
export type PrincipalKey = KeyRecord & { principalId: string; availableModels?: string[] };

export interface SignInServiceOptions {
  store: SignInStore & Pick<Store, 'addToCounter' | 'readCounter'>;
  idp: IdentityProvider;
  issuer: string;
  policies: PolicySet | undefined;
  allowedDomains: readonly string[] | undefined;
  /** Where people open the device page: `<public URL>/device`. */
  verificationUri: () => string;
  /** Seconds between token polls (RFC 8628 `interval`). */
  pollIntervalS?: number;
  /** How long a verified access token is cached (0 in solo mode: a disable bites at once). */
  cacheMs: number;
  now?: () => number;
  /** Operator warnings (the IdP gives no refresh token). */
  warn?: (message: string) => void;
}

interface CacheEntry {
  result: Verification;
  until: number;
}

export class SignInService {
  readonly #o: SignInServiceOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  #warnedNoIdpRefresh = false;

  constructor(options: SignInServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  #iso(offsetMs = 0): string {
    return new Date(this.#now() + offsetMs).toISOString();
  }

  /**
   * Starts a device sign-in. Anyone may call this (it is how sign-in begins), and each call stores a grant
   * for DEVICE_GRANT_TTL_S: counted per caller address (shared counter, DEVICE_GRANTS_PER_WINDOW per 10
   * minutes) so that nobody can fill the store with them.
   */
  async deviceAuthorization(address: string, userAgent?: string) {
    const window = 10 * 60_000;
    const bucket = Math.floor(this.#now() / window);
    const expires = (bucket + 1) * window;
    const started = await this.#o.store.addToCounter(`signin-device-grants:${address}:${bucket}`, 1, expires);
    if (started > DEVICE_GRANTS_PER_WINDOW) {
      throw new OAuthError(
        'slow_down',
        'too many sign-ins started from your address; wait a few minutes and try again',
        429,
        Math.max(1, Math.ceil((expires - this.#now()) / 1000)),
      );
    }
    const interval = this.#o.pollIntervalS ?? 5;
    for (let attempt = 0; ; attempt++) {
      const userCode = newUserCode();
      const deviceCode = newDeviceCode(userCode);
      try {
        await this.#o.store.createDeviceGrant({
          userCode,
          deviceCodeHash: sha256Hex(deviceCode),
          state: 'pending',
          createdAt: this.#iso(),
          expiresAt: this.#iso(DEVICE_GRANT_TTL_S * 1000),
          interval,
          startedFrom: {
            address,
            // Bounded: anyone may start a sign-in, and the header is theirs to fill.
            ...(userAgent ? { userAgent: userAgent.slice(0, USER_AGENT_SHOWN) } : {}),
          },
        });
      } catch (err) {
        // 20^8 codes: a collision with a live grant is rare; try another code.
        if (err instanceof DuplicateKeyError && attempt < 5) continue;
        throw err;
      }
      const uri = this.#o.verificationUri();
      return {
        device_code: deviceCode,
        user_code: displayUserCode(userCode),
        verification_uri: uri,
        verification_uri_complete: `${uri}?user_code=${displayUserCode(userCode)}`,
        expires_in: DEVICE_GRANT_TTL_S,
        interval,
      };
    }
  }

  /**
   * Checks a typed user code; counts failures per address (shared counter, 10 per 15 minutes). Returns
   * the pending grant, whose start the confirmation page shows.
   */
  async checkUserCode(input: string, address: string): Promise<DeviceGrant> {
    const window = 15 * 60_000;
    const bucket = Math.floor(this.#now() / window);
    const name = `signin-code-failures:${address}:${bucket}`;
    const expires = (bucket + 1) * window;
    // A read: only a wrong code writes (the add below), so a right one costs no write in team mode.
    if ((await this.#o.store.readCounter(name)) >= 10) {
      throw new SignInPageError(
        'Too many wrong codes from your address; wait a few minutes and try again.',
        429,
      );
    }
    const code = normalizeUserCode(input);
    const grant = code ? await this.#o.store.getDeviceGrant(code) : undefined;
    if (!code || !grant || grant.state !== 'pending' || Date.parse(grant.expiresAt) <= this.#now()) {
      await this.#o.store.addToCounter(name, 1, expires);
      throw new SignInPageError('That code is not valid (or has expired). Check it against your terminal.');
    }
    return grant;
  }

  /** Starts the IdP login for a checked code; returns the IdP URL and the browser-binding secret. */
  async startBrowserLogin(userCode: string): Promise<{ url: string; browserSecret: string }> {
    let login: Awaited<ReturnType<IdentityProvider['authorizationUrl']>>;
    try {
      login = await this.#o.idp.authorizationUrl();
    } catch {
      throw new SignInPageError('The identity provider cannot be reached; try again in a moment.', 502);
    }
    const { url, request } = login;
    const browserSecret = randomBytes(24).toString('base64url');
    const stored = await this.#o.store.updateDeviceGrant(userCode, 'pending', {
      login: { ...request, browserHash: sha256Hex(browserSecret) },
    });
    if (!stored) throw new SignInPageError('That code is no longer waiting for a sign-in. Start again.');
    return { url, browserSecret: `${userCode}.${browserSecret}` };
  }

  /** The IdP's redirect back: validates it, records the principal and approves (or denies) the grant. */
  async completeBrowserLogin(callbackUrl: URL, browserCookie: string | undefined): Promise<Principal> {
    const [userCode, secret] = (browserCookie ?? '').split('.');
    const grant = userCode ? await this.#o.store.getDeviceGrant(userCode) : undefined;
    const login = grant?.login;
    if (!grant || !login || !secret || !sameHash(login.browserHash, sha256Hex(secret))) {
      throw new SignInPageError(
        'This sign-in was not started in this browser, or it has expired. Start again.',
      );
    }
    const deny = async (message: string, status = 403) => {
      await this.#o.store.updateDeviceGrant(grant.userCode, 'pending', { state: 'denied' });
      return new SignInPageError(message, status);
    };
    const idpError = callbackUrl.searchParams.get('error');
    if (idpError) {
      // Only the IdP's answer to this sign-in may end it: a link to `?error=…` (the cookie is sent on a
      // top-level navigation) must not cancel someone's sign-in in progress.
      const state = callbackUrl.searchParams.get('state') ?? '';
      if (!sameSecret(state, login.state)) {
        throw new SignInPageError('This answer does not belong to the sign-in in progress.', 400, true);
      }
      throw await deny(`The identity provider refused the sign-in (${idpError}).`);
    }
    let identity: Identity;
    try {
      identity = await this.#o.idp.completeAuthorization(callbackUrl, login);
    } catch (err) {
      throw new SignInPageError(
        `The identity provider's answer could not be verified: ${(err as Error).message}`,
      );
    }
    const { principal, refusal } = await this.#admit(identity);
    if (refusal) throw await deny(refusal);
    const approved = await this.#o.store.updateDeviceGrant(grant.userCode, 'pending', {
      state: 'approved',
      principalId: principal.id,
      ...(identity.refreshToken ? { idpRefreshToken: identity.refreshToken } : {}),
    });
    if (!approved) throw new SignInPageError('This code is no longer waiting for a sign-in. Start again.');
    return principal;
  }

  /** Domain and policy checks, then the principal is created or updated (groups, policy, last seen). */
  async #admit(identity: Identity): Promise<{ principal: Principal; refusal?: string }> {
    const id = principalId(this.#o.issuer, identity.sub);
    const existing = await this.#o.store.getPrincipal(id);
    const now = this.#iso();
    const policy = this.#o.policies ? matchPolicy(this.#o.policies, identity) : undefined;
    const principal: Principal = {
      id,
      sub: identity.sub,
      email: identity.email,
      groups: identity.groups,
      createdAt: existing?.createdAt ?? now,
      lastSeenAt: now,
      ...(policy ? { policy: policy.name } : {}),
      ...(existing?.disabledAt ? { disabledAt: existing.disabledAt } : {}),
    };
    const domain = identity.email.slice(identity.email.lastIndexOf('@') + 1);
    let refusal: string | undefined;
    if (identity.emailVerified === false) refusal = `The email address ${identity.email} is not verified.`;
    else if (this.#o.allowedDomains && !this.#o.allowedDomains.includes(domain)) {
      refusal = `Accounts of ${domain} may not use this gateway.`;
    } else if (this.#o.policies && !policy) refusal = `No policy of this gateway covers ${identity.email}.`;
    else if (principal.disabledAt) refusal = `${identity.email} has been disabled on this gateway.`;
    if (!refusal || existing) await this.#o.store.putPrincipal(principal);
    return refusal ? { principal, refusal } : { principal };
  }

  async #issue(session: Session, email: string): Promise<{ tokens: TokenRecord[]; response: TokenResponse }> {
    const access = newAccessToken();
    const refresh = newRefreshToken();
    const base = { sessionId: session.id, principalId: session.principalId, createdAt: this.#iso() };
    // An access token does not outlive its session.
    const accessTtlS = Math.max(
      0,
      Math.min(ACCESS_TOKEN_TTL_S, Math.floor((Date.parse(session.expiresAt) - this.#now()) / 1000)),
    );
    const tokens: TokenRecord[] = [
      { ...base, hash: sha256Hex(access), kind: 'access', expiresAt: this.#iso(accessTtlS * 1000) },
      { ...base, hash: sha256Hex(refresh), kind: 'refresh', expiresAt: session.expiresAt },
    ];
    return {
      tokens,
      response: {
        access_token: access,
        token_type: 'Bearer',
        expires_in: accessTtlS,
        refresh_token: refresh,
        email,
      },
    };
  }

  async deviceCodeGrant(deviceCode: string): Promise<TokenResponse> {
    const userCode = userCodeOfDeviceCode(deviceCode);
    const grant = userCode ? await this.#o.store.getDeviceGrant(userCode) : undefined;
    if (!grant || !sameHash(grant.deviceCodeHash, sha256Hex(deviceCode))) {
      throw new OAuthError('invalid_grant', 'unknown device_code');
    }
    const now = this.#now();
    if (Date.parse(grant.expiresAt) <= now)
      throw new OAuthError('expired_token', 'the device code has expired');
    switch (grant.state) {
      case 'denied':
        throw new OAuthError('access_denied', 'the sign-in was refused');
      case 'consumed':
        throw new OAuthError('invalid_grant', 'the device code was used already');
      case 'pending': {
        const tooSoon = grant.lastPolledAt && now - Date.parse(grant.lastPolledAt) < grant.interval * 1000;
        const interval = tooSoon ? grant.interval + SLOW_DOWN_STEP_S : grant.interval;
        await this.#o.store.updateDeviceGrant(grant.userCode, 'pending', {
          lastPolledAt: new Date(now).toISOString(),
          interval,
        });
        if (tooSoon) throw new OAuthError('slow_down', `poll at most every ${interval} seconds`);
        throw new OAuthError('authorization_pending', 'the sign-in in the browser is not finished');
      }
      case 'approved': {
        if (!(await this.#o.store.updateDeviceGrant(grant.userCode, 'approved', { state: 'consumed' }))) {
          throw new OAuthError('invalid_grant', 'the device code was used already');
        }
        const principal = grant.principalId ? await this.#o.store.getPrincipal(grant.principalId) : undefined;
        if (!principal || principal.disabledAt)
          throw new OAuthError('access_denied', 'the account is disabled');
        if (!grant.idpRefreshToken && !this.#warnedNoIdpRefresh) {
          this.#warnedNoIdpRefresh = true;
          this.#o.warn?.(
            `the identity provider gave no refresh token (ABPROXY_OIDC_SCOPES without offline_access?): groups are not re-read and a person removed there keeps access until the session ends; such sessions end after ${SESSION_WITHOUT_IDP_REFRESH_TTL_MS / 3_600_000} hours`,
          );
        }
        const session: Session = {
          id: newSessionId(),
          principalId: principal.id,
          createdAt: this.#iso(),
          expiresAt: this.#iso(grant.idpRefreshToken ? SESSION_TTL_MS : SESSION_WITHOUT_IDP_REFRESH_TTL_MS),
          ...(grant.idpRefreshToken ? { idpRefreshToken: grant.idpRefreshToken } : {}),
        };
        const { tokens, response } = await this.#issue(session, principal.email);
        await this.#o.store.createSession(session, tokens);
        return response;
      }
      default: {
        const unknownState: never = grant.state;
        throw new OAuthError('invalid_grant', `grant in state ${String(unknownState)}`);
      }
    }
  }

  async refreshTokenGrant(refreshToken: string): Promise<TokenResponse> {
    const invalid = (why: string) => new OAuthError('invalid_grant', why, 401);
    const hash = sha256Hex(refreshToken);
    const token = await this.#o.store.findToken(hash);
    const at = this.#iso();
    if (token?.kind !== 'refresh') throw invalid('unknown refresh token');
    if (token.usedAt || token.revokedAt) return this.#reused(token, refreshToken);
    const session = await this.#o.store.getSession(token.sessionId);
    if (!session || session.revokedAt || Date.parse(session.expiresAt) <= this.#now()) {
      throw invalid('the session has ended; sign in again');
    }
    if (Date.parse(token.expiresAt) <= this.#now()) throw invalid('the refresh token has expired');
    let principal = await this.#o.store.getPrincipal(session.principalId);
    if (!principal || principal.disabledAt) throw invalid('the account is disabled');
    let idpRefreshToken: string | undefined;
    if (session.idpRefreshToken) {
      // The IdP is the source of truth: groups (and so the policy) are read again at each refresh.
      let identity: Identity;
      try {
        identity = await this.#o.idp.refresh(session.idpRefreshToken);
      } catch (err) {
        if (!(err instanceof IdpRefusedError)) {
          // An IdP outage must not end every session: the client tries again with the same token.
          throw new OAuthError('temporarily_unavailable', 'the identity provider cannot be reached', 503);
        }
        await this.#o.store.revokeSession(session.id, at);
        throw invalid('the identity provider refused to refresh the sign-in');
      }
      const admitted = await this.#admit(identity);
      if (admitted.refusal) {
        await this.#o.store.revokeSession(session.id, at);
        throw invalid(admitted.refusal);
      }
      principal = admitted.principal;
      idpRefreshToken = identity.refreshToken;
    } else {
      await this.#o.store.putPrincipal({ ...principal, lastSeenAt: at });
    }
    const { tokens, response } = await this.#issue(session, principal.email);
    const successor = sealSuccessor(refreshToken, {
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      accessExpiresAt: tokens[0]!.expiresAt,
    });
    const result = await this.#o.store.rotateRefreshToken(hash, tokens, at, idpRefreshToken, successor);
    if (result === 'rotated') return response;
    // Another refresh with the same token won the race: answer with its pair (or revoke, past the grace).
    const used = await this.#o.store.findToken(hash);
    if (!used) throw invalid('unknown refresh token');
    return this.#reused(used, refreshToken);
  }

  /**
   * A refresh token presented again. Within REFRESH_REUSE_GRACE_MS of its rotation it gets the pair it
   * was rotated to while that pair is unused (the same pair, not a new one: a thief racing the owner
   * gets no branch of the family of its own, so the next reuse is still caught). Otherwise it was
   * stolen or replayed: the whole family ends.
   */
  async #reused(token: TokenRecord, refreshToken: string): Promise<TokenResponse> {
    const invalid = (why: string) => new OAuthError('invalid_grant', why, 401);
    const now = this.#now();
    const withinGrace =
      !token.revokedAt && token.usedAt && now - Date.parse(token.usedAt) < REFRESH_REUSE_GRACE_MS;
    const pair = withinGrace && token.successor ? openSuccessor(refreshToken, token.successor) : undefined;
    // Only the token just rotated out: once its successor was used too, an older token is reuse.
    const successor = pair ? await this.#o.store.findToken(sha256Hex(pair.refreshToken)) : undefined;
    if (pair && successor && !successor.usedAt && !successor.revokedAt) {
      const [session, principal] = await Promise.all([
        this.#o.store.getSession(token.sessionId),
        this.#o.store.getPrincipal(token.principalId),
      ]);
      if (!session || session.revokedAt || Date.parse(session.expiresAt) <= now) {
        throw invalid('the session has ended; sign in again');
      }
      if (!principal || principal.disabledAt) throw invalid('the account is disabled');
      return {
        access_token: pair.accessToken,
        token_type: 'Bearer',
        expires_in: Math.max(0, Math.floor((Date.parse(pair.accessExpiresAt) - now) / 1000)),
        refresh_token: pair.refreshToken,
        email: principal.email,
      };
    }
    await this.#o.store.revokeSession(token.sessionId, new Date(now).toISOString());
    throw invalid('refresh token reuse: the session is revoked; sign in again');
  }

  /** RFC 7009: an access token is revoked alone, a refresh token ends its session; unknown is fine. */
  async revoke(secret: string): Promise<void> {
    const token = await this.#o.store.findToken(sha256Hex(secret));
    if (!token) return;
    const at = this.#iso();
    if (token.kind === 'refresh') await this.#o.store.revokeSession(token.sessionId, at);
    await this.#o.store.revokeToken(token.hash, at);
    this.#cache.delete(token.hash);
  }

  isAccessToken(secret: string): boolean {
    return secret.startsWith(ACCESS_TOKEN_PREFIX);
  }

  /** An access token → the key-shaped record of its principal, or why it is refused. */
  async verifyAccessToken(secret: string): Promise<Verification> {
    const hash = sha256Hex(secret);
    const now = this.#now();
    const hit = this.#cache.get(hash);
    if (hit && hit.until > now) return hit.result;
    const result = await this.#verify(hash, secret);
    if (this.#o.cacheMs > 0) {
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(hash, { result, until: now + this.#o.cacheMs });
    }
    return result;
  }

  async #verify(hash: string, secret: string): Promise<Verification> {
    const token = await this.#o.store.findToken(hash);
    if (token?.kind !== 'access') return { kind: 'refused', reason: 'unknown' };
    if (token.revokedAt) return { kind: 'refused', reason: 'revoked' };
    if (Date.parse(token.expiresAt) <= this.#now()) return { kind: 'refused', reason: 'expired' };
    const [session, principal] = await Promise.all([
      this.#o.store.getSession(token.sessionId),
      this.#o.store.getPrincipal(token.principalId),
    ]);
    if (!session || session.revokedAt) return { kind: 'refused', reason: 'revoked' };
    if (!principal || principal.disabledAt) return { kind: 'refused', reason: 'disabled' };
    return { kind: 'key', key: this.#keyOf(principal, hash, secret) };
  }

  #policyOf(principal: Pick<Principal, 'policy'>): Policy | undefined {
    return this.#o.policies ? policyByName(this.#o.policies, principal.policy) : undefined;
  }

  #keyOf(principal: Principal, hash: string, secret: string): PrincipalKey {
    const policy = this.#policyOf(principal);
    const key: PrincipalKey = {
      id: principal.id,
      principalId: principal.id,
      hash,
      prefix: secret.slice(0, ACCESS_TOKEN_PREFIX.length + 8),
      user: principal.email,
      limits: policy?.limits ?? {},
      createdAt: principal.createdAt,
    };
    if (policy) key.name = policy.name;
    if (policy?.serviceTier) key.serviceTier = policy.serviceTier;
    if (policy?.models) key.models = policy.models;
    const available = availableModelGlobs(policy?.settings);
    if (available) key.availableModels = available;
    return key;
  }

  /** The managed-settings document of a principal's policy, or undefined (404) without one. */
  async managedSettings(principalIdValue: string) {
    const principal = await this.#o.store.getPrincipal(principalIdValue);
    const policy = principal ? this.#policyOf(principal) : undefined;
    if (!policy?.settings) return undefined;
    return {
      uuid: stableUuid(`abproxy-policy:${policy.name}`),
      checksum: settingsChecksum(policy.settings),
      settings: policy.settings,
    };
  }
}
