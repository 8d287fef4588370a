/**
 * The absolute form of a request target (`POST http://host:8080/v1/messages HTTP/1.1`, RFC 9112
 * §3.2.2), which a server must accept: proxies send it, and some clients configured with a proxy too.
 * The path is the target's, and the host is the target's authority, whatever the Host header says.
 */
const ABSOLUTE_FORM = /^https?:\/\//i;

/** The target as a URL on a placeholder origin; `//x` stays a path (no protocol-relative host). */
export function requestUrl(target = '/'): URL {
  try {
    if (ABSOLUTE_FORM.test(target)) {
      const absolute = new URL(target);
      return new URL(`http://gateway.invalid${absolute.pathname}${absolute.search}`);
    }
    return new URL(`http://gateway.invalid${target.startsWith('/') ? '' : '/'}${target}`);
  } catch {
    return new URL('http://gateway.invalid/');
  }
}

/** The authority of an absolute-form target (`host:8080`), else undefined. */
export function absoluteFormAuthority(target: string | undefined): string | undefined {
  if (target === undefined || !ABSOLUTE_FORM.test(target)) return undefined;
  try {
    return new URL(target).host;
  } catch {
    return undefined;
  }
}
