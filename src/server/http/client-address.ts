/**
 * The caller's address, as the per-address limits of the sign-in pages count it (wrong master keys,
 * wrong device codes, device grants).
 *
 * Behind load balancers the socket's peer is the balancer, the same for everybody: one person's wrong
 * guesses would lock every user out. With `trustedProxies` set to how many proxies stand in front (each
 * appends the address it saw to X-Forwarded-For), the caller is that many entries from the right; the
 * entries further left are the client's own claims and are not believed. Only safe when the gateway can
 * be reached through those proxies alone (the CDK app's security group admits the load balancer only).
 *
 * IPv6 callers count by their /64: one host usually holds a whole /64, and counting single addresses
 * would let it spread its guesses over 2^64 of them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

export interface AddressedRequest {
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

export function clientAddress(req: AddressedRequest, trustedProxies: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxies <= 0) return addressKey(peer);
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const claimed = entries[entries.length - trustedProxies];
  // Fewer entries than proxies, or not an address: not from the proxies we were told of.
  return claimed !== undefined && isIP(claimed) !== 0 ? addressKey(claimed) : addressKey(peer);
}

/** IPv4 as is (IPv4-mapped IPv6 too); IPv6 as its /64 prefix, `2001:db8:1:2::/64`. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const groups = expandIPv6(address.replace(/%.*$/, ''));
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** The eight groups of an IPv6 address, lower-case without leading zeros; undefined for other forms. */
function expandIPv6(address: string): string[] | undefined {
  const [head = '', tail, extra] = address.split('::');
  if (extra !== undefined) return undefined;
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // Dotted IPv4 in the last 32 bits: only the first 64 bits matter here, so it counts as two groups.
  const last = right.length > 0 ? right : left;
  if (last.length > 0 && last[last.length - 1]!.includes('.')) last.splice(-1, 1, '0', '0');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return groups.map((group) => Number.parseInt(group, 16).toString(16));
}
