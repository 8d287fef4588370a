/**
 * Who may use the admin page and how its answers are hardened: security headers, the session cookie,
 * and the same-origin + CSRF-token checks every mutation passes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../anthropic/errors.ts';
import { sameSecret } from '../auth/key-format.ts';
import type { AdminSession } from './sessions.ts';

export const SESSION_COOKIE = 'abproxy_admin';
export const CSRF_HEADER = 'x-abproxy-csrf';

/** No inline script or style, nothing from elsewhere, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('cache-control', 'no-store');
}

/** TLS here, or at a proxy that says so (the cookie then only travels over HTTPS). */
export function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const forwarded = req.headers['x-forwarded-proto'];
  return typeof forwarded === 'string' && forwarded.split(',')[0]!.trim().toLowerCase() === 'https';
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(req: IncomingMessage, session: AdminSession | undefined, now = Date.now()) {
  const secure = isHttps(req) ? '; Secure' : '';
  if (!session) return `${SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0${secure}`;
  const maxAge = Math.max(0, Math.floor((session.expiresAt - now) / 1000));
  return `${SESSION_COOKIE}=${session.id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

/**
 * A browser says where a request comes from: `Sec-Fetch-Site` (modern browsers) and `Origin` (every
 * POST). Both, when present, must name this very origin; a page on another port is another origin.
 */
export function assertSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') {
    throw new ApiError('permission_error', `cross-origin request refused (Sec-Fetch-Site: ${site})`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const expected = `${isHttps(req) ? 'https' : 'http'}://${req.headers.host ?? ''}`;
    if (origin.toLowerCase() !== expected.toLowerCase()) {
      throw new ApiError('permission_error', `cross-origin request refused (Origin: ${origin})`);
    }
  }
}

/** A mutation: from this origin, carrying the session's CSRF token. */
export function assertCsrf(req: IncomingMessage, session: AdminSession): void {
  assertSameOrigin(req);
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !sameSecret(sent, session.csrf)) {
    throw new ApiError('permission_error', `missing or wrong ${CSRF_HEADER} header`);
  }
}
