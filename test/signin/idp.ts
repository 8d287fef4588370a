/**
 * A real OpenID provider in-process (npm oidc-provider): discovery, code + PKCE, JWKS-signed ID tokens,
 * refresh tokens with offline_access + consent, and the development login form (any password). Users
 * log in by name; their email and groups come from USERS and can be changed between refreshes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { expect } from 'vitest';
import type { Json } from '../helpers/gateway.ts';

export interface TestUser {
  email: string;
  groups: string[];
  /** As the IdP sends it: true unless given (some IdPs send the strings "true" and "false"). */
  emailVerified?: boolean | string;
}

export interface TestIdp {
  issuer: string;
  users: Map<string, TestUser>;
  /** Registers the gateway's redirect URI (known once it listens). */
  register(redirectUri: string): void;
  stop(): Promise<void>;
}

export const CLIENT_ID = 'abproxy-gateway';
export const CLIENT_SECRET = 'abproxy-test-client-secret';

export async function startIdp(users: Record<string, TestUser>): Promise<TestIdp> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const directory = new Map(Object.entries(users));
  let provider: Provider | undefined;
  server.on('request', (req, res) => {
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    provider.callback()(req, res);
  });
  return {
    issuer,
    users: directory,
    register(redirectUri) {
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        async findAccount(_ctx, id) {
          return {
            accountId: id,
            async claims() {
              const user = directory.get(id);
              return {
                sub: id,
                ...(user
                  ? { email: user.email, email_verified: user.emailVerified ?? true, groups: user.groups }
                  : {}),
              };
            },
          };
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['groups'] },
        // Email and groups in the ID token itself, as Okta, Entra ID and Keycloak can be set up to do.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: true } },
        pkce: { required: () => true },
        cookies: { keys: ['test-cookie-key'] },
        ttl: {
          AccessToken: 600,
          IdToken: 600,
          RefreshToken: 86_400,
          Grant: 86_400,
          Session: 86_400,
          Interaction: 600,
        },
      });
      provider.on('server_error', (_ctx, err) => console.error('oidc-provider', err));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Cookies by host, enough for two origins on 127.0.0.1 with different ports. */
export class CookieJar {
  readonly #jars = new Map<string, Map<string, string>>();

  store(url: string, res: Response): void {
    const host = new URL(url).host;
    const jar = this.#jars.get(host) ?? new Map<string, string>();
    this.#jars.set(host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string): string {
    const jar = this.#jars.get(new URL(url).host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }
}

/** One browser request: no automatic redirects, cookies kept. */
export async function browse(
  jar: CookieJar,
  url: string,
  form?: Record<string, string>,
): Promise<{ res: Response; body: string; location?: string }> {
  const res = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      cookie: jar.header(url),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  jar.store(url, res);
  const body = await res.text();
  const location = res.headers.get('location');
  return { res, body, ...(location ? { location: new URL(location, url).href } : {}) };
}

/** Follows redirects (GET) until a page answers. */
async function follow(jar: CookieJar, start: { res: Response; body: string; location?: string }) {
  let step = start;
  for (let hops = 0; step.location && hops < 10; hops++) step = await browse(jar, step.location);
  return step;
}

export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in page: ${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields[match[1]!] = match[2]!.replace(/&amp;/g, '&');
  }
  return { action: action.replace(/&amp;/g, '&'), fields };
}

/**
 * What a person does in the browser: open the verification URL, confirm the code, log in at the IdP,
 * consent, and land on the gateway's callback. Returns the last page.
 */
export async function browserSignIn(verificationUriComplete: string, login: string, jar = new CookieJar()) {
  const confirm = await browse(jar, verificationUriComplete);
  if (confirm.res.status !== 200) return confirm;
  const confirmForm = formOf(confirm.body);
  let step = await follow(
    jar,
    await browse(jar, new URL(confirmForm.action, verificationUriComplete).href, confirmForm.fields),
  );
  for (let pages = 0; pages < 4 && /name="prompt"/.test(step.body); pages++) {
    const form = formOf(step.body);
    const url = step.res.url || '';
    const fields = form.fields.prompt === 'login' ? { ...form.fields, login, password: 'any' } : form.fields;
    step = await follow(jar, await browse(jar, new URL(form.action, url).href, fields));
  }
  return step;
}

/** The gateway's settings for signing in with this IdP as the test client. */
export const signInSettings = (idp: TestIdp) => ({
  oidcIssuer: idp.issuer,
  oidcClientId: CLIENT_ID,
  oidcClientSecret: CLIENT_SECRET,
});

/** POSTs a form to one of the gateway's OAuth endpoints: the status, headers and JSON ({} when empty). */
export async function postForm(base: string, path: string, fields: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: (text ? JSON.parse(text) : {}) as Json,
  };
}

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Claude Code's device flow on the gateway at `base` for `login`: grant, browser sign-in, token (each asserted). */
export async function deviceSignIn(base: string, login: string) {
  const grant = await postForm(base, '/oauth/device_authorization', { surface: 'claude_code' });
  expect(grant.status).toBe(200);
  const page = await browserSignIn(grant.json.verification_uri_complete, login);
  expect(page.res.status, page.body).toBe(200);
  expect(page.body).toContain('You are signed in as');
  const token = await postForm(base, '/oauth/token', {
    grant_type: DEVICE_GRANT,
    device_code: grant.json.device_code,
  });
  expect(token.status, JSON.stringify(token.json)).toBe(200);
  return token.json as { access_token: string; refresh_token: string; expires_in: number; email: string };
}
