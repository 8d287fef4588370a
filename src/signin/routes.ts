/**
 * The sign-in HTTP surface, in two route groups:
 * - signinApiRoutes: what Claude Code and `abproxy login` call (metadata, device authorization, token,
 *   revoke, managed settings, telemetry sinks); OAuth endpoints answer OAuth-shaped errors.
 * - signinBrowserRoutes: the pages a person opens (`/device` and the IdP's redirect back to
 *   `/oauth/callback`): top-level navigations and form posts, protected by a CSRF token and SameSite
 *   cookies. A browser-origin guard must exempt exactly SIGNIN_BROWSER_PATHS.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ApiError } from '../anthropic/errors.ts';
import { sameSecret } from '../auth/key-format.ts';
import { readBody } from '../server/http/body.ts';
import { clientAddress } from '../server/http/client-address.ts';
import type { Ctx, Handler } from '../server/http/context.ts';
import { sendJson } from '../server/http/respond.ts';
import type { Route } from '../server/http/router.ts';
import type { DeviceGrant } from '../store/types.ts';
import { deviceFormPage, messagePage } from './pages.ts';
import { OAuthError, type PrincipalKey, SignInPageError, type SignInService } from './service.ts';

export const SIGNIN_BROWSER_PATHS: readonly string[] = ['/device', '/oauth/callback'];
/** Called without a gateway key (they are how one gets a token). */
export const SIGNIN_PUBLIC_PATHS: readonly string[] = [
  '/.well-known/oauth-authorization-server',
  '/oauth/device_authorization',
  '/oauth/token',
  '/oauth/revoke',
  ...SIGNIN_BROWSER_PATHS,
];

const FORM_LIMIT = 16 * 1024;
const CSRF_COOKIE = 'abp_csrf';
const LOGIN_COOKIE = 'abp_signin';
const DEVICE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

export interface SignInRoutesOptions {
  service: SignInService;
  /** The URL people and clients reach the gateway at (no trailing slash). */
  publicUrl: () => string;
  /** Proxies in front that append to X-Forwarded-For (see clientAddress). */
  trustedProxies: number;
}

async function readForm(ctx: Ctx): Promise<URLSearchParams> {
  const body = (await readBody(ctx.req, FORM_LIMIT)).toString('utf8');
  if ((ctx.req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      const json = JSON.parse(body) as Record<string, unknown>;
      return new URLSearchParams(
        Object.entries(json).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    } catch {
      throw new OAuthError('invalid_request', 'the body is not valid JSON');
    }
  }
  return new URLSearchParams(body);
}

function sendOAuthError(ctx: Ctx, err: OAuthError): void {
  sendJson(
    ctx.res,
    err.status,
    { error: err.error, error_description: err.message },
    {
      'cache-control': 'no-store',
      ...(err.status === 401 ? { 'x-should-retry': 'false' } : {}),
      ...(err.retryAfterS !== undefined ? { 'retry-after': String(err.retryAfterS) } : {}),
    },
  );
}

/** OAuth endpoints answer `{error, error_description}` (RFC 6749 §5.2), not Anthropic errors. */
function oauthHandler(handle: (ctx: Ctx) => Promise<void>): Handler {
  return async (ctx) => {
    try {
      await handle(ctx);
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(ctx, err);
      if (err instanceof ApiError && err.status < 500) {
        return sendOAuthError(ctx, new OAuthError('invalid_request', err.message, err.status));
      }
      throw err;
    }
  };
}

function cookies(ctx: Ctx): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (ctx.req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}

function cookie(
  name: string,
  value: string,
  path: string,
  sameSite: 'Strict' | 'Lax',
  secure: boolean,
): string {
  return `${name}=${value}; Path=${path}; Max-Age=600; HttpOnly; SameSite=${sameSite}${secure ? '; Secure' : ''}`;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function sendPage(
  res: ServerResponse,
  status: number,
  html: string,
  extra: Record<string, string | string[]> = {},
) {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html), ...extra });
  res.end(html);
}

export function signinApiRoutes({ service, publicUrl, trustedProxies }: SignInRoutesOptions): Route[] {
  const telemetrySink: Handler = async (ctx) => {
    ctx.req.resume();
    sendJson(ctx.res, 200, {});
  };
  return [
    {
      method: 'GET',
      path: '/.well-known/oauth-authorization-server',
      handler: async (ctx) => {
        const base = publicUrl();
        sendJson(ctx.res, 200, {
          issuer: base,
          device_authorization_endpoint: `${base}/oauth/device_authorization`,
          token_endpoint: `${base}/oauth/token`,
          revocation_endpoint: `${base}/oauth/revoke`,
          grant_types_supported: [DEVICE_GRANT_TYPE, 'refresh_token'],
          token_endpoint_auth_methods_supported: ['none'],
          revocation_endpoint_auth_methods_supported: ['none'],
        });
      },
    },
    {
      method: 'POST',
      path: '/oauth/device_authorization',
      handler: oauthHandler(async (ctx) => {
        await readForm(ctx);
        const grant = await service.deviceAuthorization(
          clientAddress(ctx.req, trustedProxies),
          ctx.req.headers['user-agent'],
        );
        sendJson(ctx.res, 200, grant, { 'cache-control': 'no-store' });
      }),
    },
    {
      method: 'POST',
      path: '/oauth/token',
      handler: oauthHandler(async (ctx) => {
        const form = await readForm(ctx);
        const grantType = form.get('grant_type');
        let response: unknown;
        if (grantType === DEVICE_GRANT_TYPE) {
          const deviceCode = form.get('device_code');
          if (!deviceCode) throw new OAuthError('invalid_request', 'device_code is required');
          response = await service.deviceCodeGrant(deviceCode);
        } else if (grantType === 'refresh_token') {
          const refreshToken = form.get('refresh_token');
          if (!refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required');
          response = await service.refreshTokenGrant(refreshToken);
        } else {
          throw new OAuthError(
            'unsupported_grant_type',
            `grant_type ${grantType ?? '(none)'} is not supported`,
          );
        }
        sendJson(ctx.res, 200, response, { 'cache-control': 'no-store', pragma: 'no-cache' });
      }),
    },
    {
      method: 'POST',
      path: '/oauth/revoke',
      handler: oauthHandler(async (ctx) => {
        const token = (await readForm(ctx)).get('token');
        if (!token) throw new OAuthError('invalid_request', 'token is required');
        // RFC 7009 §2.2: 200 whether or not the token was known.
        await service.revoke(token);
        ctx.res.writeHead(200, { 'content-length': 0, 'cache-control': 'no-store' });
        ctx.res.end();
      }),
    },
    {
      method: 'GET',
      path: '/managed/settings',
      handler: async (ctx) => {
        const principal = (ctx.key as PrincipalKey | undefined)?.principalId;
        const document = principal ? await service.managedSettings(principal) : undefined;
        if (!document) throw new ApiError('not_found_error', 'no managed settings for this caller');
        const etag = `"${document.checksum}"`;
        const presented = (ctx.req.headers['if-none-match'] ?? '').split(',').map((v) => v.trim());
        if (presented.includes(etag) || presented.includes(document.checksum)) {
          ctx.res.writeHead(304, { etag });
          ctx.res.end();
          return;
        }
        sendJson(ctx.res, 200, document, { etag, 'cache-control': 'no-cache' });
      },
    },
    { method: 'POST', path: '/v1/metrics', handler: telemetrySink },
    { method: 'POST', path: '/v1/logs', handler: telemetrySink },
    { method: 'POST', path: '/v1/traces', handler: telemetrySink },
  ];
}

export function signinBrowserRoutes({ service, publicUrl, trustedProxies }: SignInRoutesOptions): Route[] {
  const secure = () => publicUrl().startsWith('https:');
  const address = (ctx: Ctx) => clientAddress(ctx.req, trustedProxies);
  const showForm = (ctx: Ctx, status: number, grant?: DeviceGrant, error?: string) => {
    const csrf = randomBytes(24).toString('base64url');
    const confirm = grant && {
      userCode: `${grant.userCode.slice(0, 4)}-${grant.userCode.slice(4)}`,
      startedAt: grant.createdAt,
      ...(grant.startedFrom ? { startedFrom: grant.startedFrom } : {}),
      viewer: address(ctx),
      now: Date.now(),
    };
    sendPage(
      ctx.res,
      status,
      deviceFormPage({ csrf, ...(confirm ? { confirm } : {}), ...(error ? { error } : {}) }),
      { 'set-cookie': cookie(CSRF_COOKIE, csrf, '/device', 'Strict', secure()) },
    );
  };
  const pageError = (ctx: Ctx, err: unknown) => {
    if (!(err instanceof SignInPageError)) throw err;
    showForm(ctx, err.status, undefined, err.message);
  };
  return [
    {
      method: 'GET',
      path: '/device',
      handler: async (ctx) => {
        const typed = ctx.url.searchParams.get('user_code');
        if (!typed) return showForm(ctx, 200);
        // Only a page a person opens checks a code. An image or fetch that another site's page makes
        // (the browser says so in Sec-Fetch-Dest) would spend the wrong-code allowance of everyone
        // behind its viewer's address: any web page could shut an office out of signing in.
        const dest = ctx.req.headers['sec-fetch-dest'];
        if (dest !== undefined && dest !== 'document') {
          return showForm(ctx, 403, undefined, 'Open this page in the browser itself to sign in.');
        }
        try {
          showForm(ctx, 200, await service.checkUserCode(typed, address(ctx)));
        } catch (err) {
          pageError(ctx, err);
        }
      },
    },
    {
      method: 'POST',
      path: '/device',
      handler: async (ctx) => {
        const form = new URLSearchParams((await readBody(ctx.req, FORM_LIMIT)).toString('utf8'));
        const csrf = form.get('csrf');
        const expected = cookies(ctx).get(CSRF_COOKIE);
        if (!csrf || !expected || !sameSecret(csrf, expected)) {
          return showForm(
            ctx,
            403,
            undefined,
            'The form expired or came from another site; enter the code again.',
          );
        }
        try {
          const grant = await service.checkUserCode(form.get('user_code') ?? '', address(ctx));
          // A typed code is confirmed too, on the page that says when and from where it was started.
          if (form.get('confirmed') !== '1') return showForm(ctx, 200, grant);
          const { url, browserSecret } = await service.startBrowserLogin(grant.userCode);
          // Lax: the IdP's redirect back is a top-level cross-site GET, which Lax cookies survive.
          ctx.res.writeHead(303, {
            location: url,
            'cache-control': 'no-store',
            'set-cookie': cookie(LOGIN_COOKIE, browserSecret, '/oauth/callback', 'Lax', secure()),
            'content-length': 0,
          });
          ctx.res.end();
        } catch (err) {
          pageError(ctx, err);
        }
      },
    },
    {
      method: 'GET',
      path: '/oauth/callback',
      handler: async (ctx) => {
        // The callback URL as the IdP was told it (behind a proxy, ctx.url's host is not it).
        const callbackUrl = new URL(`${publicUrl()}/oauth/callback${ctx.url.search}`);
        const clear = cookie(LOGIN_COOKIE, '', '/oauth/callback', 'Lax', secure()).replace(
          'Max-Age=600',
          'Max-Age=0',
        );
        try {
          const principal = await service.completeBrowserLogin(callbackUrl, cookies(ctx).get(LOGIN_COOKIE));
          sendPage(
            ctx.res,
            200,
            messagePage(
              'Signed in',
              `You are signed in as ${principal.email}. You can close this page and go back to your terminal.`,
            ),
            { 'set-cookie': clear },
          );
        } catch (err) {
          if (!(err instanceof SignInPageError)) throw err;
          sendPage(
            ctx.res,
            err.status,
            messagePage('Sign-in failed', err.message),
            err.signInGoesOn ? {} : { 'set-cookie': clear },
          );
        }
      },
    },
  ];
}
