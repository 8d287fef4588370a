/**
 * Whether an IP address is on the public internet. Remote media URLs come from clients; fetching them
 * must never reach the gateway's own network (loopback, private ranges, cloud metadata at 169.254.169.254).
 *
 * The rules are the IANA IPv4 and IPv6 Special-Purpose Address Registries (plus multicast and the
 * deprecated blocks they no longer list), one row per block. Every special-purpose block is refused, even
 * the few IANA marks globally reachable (anycast service addresses, AS112, ORCHIDv2…: no media lives
 * there), except the translation forms that stand for an IPv4 host: those are judged by the IPv4
 * address they embed. The most specific row containing an address decides.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Where an IPv6 form carries an IPv4 address. */
export type EmbeddedV4 =
  /** The last 32 bits (IPv4-mapped, IPv4-compatible, SIIT, NAT64 /96). */
  | 'last32'
  /** Bits 16–47 (6to4: 2002:AABB:CCDD::). */
  | '6to4'
  /** The server in bits 32–63 and the client, inverted, in the last 32 bits (Teredo). */
  | 'teredo';

export interface SpecialRange {
  /** CIDR, e.g. `10.0.0.0/8`. */
  prefix: string;
  /** The registry's name of the block. */
  name: string;
  rfc: string;
  /** Refused whatever it holds; false only for forms judged by their embedded IPv4 address. */
  refused: boolean;
  embeddedV4?: EmbeddedV4;
}

/** IANA IPv4 Special-Purpose Address Registry, and multicast (RFC 5771). */
export const IPV4_SPECIAL: readonly SpecialRange[] = [
  { prefix: '0.0.0.0/8', name: '"This network"', rfc: 'RFC 791', refused: true },
  { prefix: '0.0.0.0/32', name: '"This host on this network"', rfc: 'RFC 1122', refused: true },
  { prefix: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918', refused: true },
  { prefix: '100.64.0.0/10', name: 'Shared Address Space', rfc: 'RFC 6598', refused: true },
  { prefix: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122', refused: true },
  { prefix: '169.254.0.0/16', name: 'Link Local (cloud metadata)', rfc: 'RFC 3927', refused: true },
  { prefix: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918', refused: true },
  { prefix: '192.0.0.0/24', name: 'IETF Protocol Assignments', rfc: 'RFC 6890', refused: true },
  { prefix: '192.0.0.0/29', name: 'IPv4 Service Continuity Prefix', rfc: 'RFC 7335', refused: true },
  { prefix: '192.0.0.8/32', name: 'IPv4 dummy address', rfc: 'RFC 7600', refused: true },
  { prefix: '192.0.0.9/32', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', refused: true },
  {
    prefix: '192.0.0.10/32',
    name: 'Traversal Using Relays around NAT Anycast',
    rfc: 'RFC 8155',
    refused: true,
  },
  { prefix: '192.0.0.170/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880', refused: true },
  { prefix: '192.0.0.171/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880', refused: true },
  { prefix: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737', refused: true },
  { prefix: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535', refused: true },
  { prefix: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450', refused: true },
  { prefix: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526', refused: true },
  { prefix: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918', refused: true },
  { prefix: '192.175.48.0/24', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', refused: true },
  { prefix: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544', refused: true },
  { prefix: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737', refused: true },
  { prefix: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737', refused: true },
  { prefix: '224.0.0.0/4', name: 'Multicast', rfc: 'RFC 5771', refused: true },
  { prefix: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112', refused: true },
  { prefix: '255.255.255.255/32', name: 'Limited Broadcast', rfc: 'RFC 919', refused: true },
];

/** IANA IPv6 Special-Purpose Address Registry, plus deprecated and multicast blocks. */
export const IPV6_SPECIAL: readonly SpecialRange[] = [
  { prefix: '::/128', name: 'Unspecified Address', rfc: 'RFC 4291', refused: true },
  { prefix: '::1/128', name: 'Loopback Address', rfc: 'RFC 4291', refused: true },
  // Deprecated and unrouted: a socket to it does not reach the IPv4 host.
  {
    prefix: '::/96',
    name: 'IPv4-compatible (deprecated)',
    rfc: 'RFC 4291',
    refused: true,
    embeddedV4: 'last32',
  },
  // A dual-stack socket connects to the IPv4 host itself: judged by it.
  {
    prefix: '::ffff:0:0/96',
    name: 'IPv4-mapped Address',
    rfc: 'RFC 4291',
    refused: false,
    embeddedV4: 'last32',
  },
  {
    prefix: '::ffff:0:0:0/96',
    name: 'IPv4-translated (SIIT)',
    rfc: 'RFC 2765',
    refused: true,
    embeddedV4: 'last32',
  },
  {
    prefix: '64:ff9b::/96',
    name: 'IPv4-IPv6 Translat. (NAT64)',
    rfc: 'RFC 6052',
    refused: false,
    embeddedV4: 'last32',
  },
  { prefix: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat. (local-use NAT64)', rfc: 'RFC 8215', refused: true },
  { prefix: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666', refused: true },
  { prefix: '100:0:0:1::/64', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780', refused: true },
  { prefix: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928', refused: true },
  // The real endpoints hide behind the relay: refused whatever it embeds.
  { prefix: '2001::/32', name: 'TEREDO', rfc: 'RFC 4380', refused: true, embeddedV4: 'teredo' },
  { prefix: '2001:1::1/128', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', refused: true },
  {
    prefix: '2001:1::2/128',
    name: 'Traversal Using Relays around NAT Anycast',
    rfc: 'RFC 8155',
    refused: true,
  },
  {
    prefix: '2001:1::3/128',
    name: 'DNS-SD Service Registration Protocol Anycast',
    rfc: 'RFC 9665',
    refused: true,
  },
  { prefix: '2001:2::/48', name: 'Benchmarking', rfc: 'RFC 5180', refused: true },
  { prefix: '2001:3::/32', name: 'AMT', rfc: 'RFC 7450', refused: true },
  { prefix: '2001:4:112::/48', name: 'AS112-v6', rfc: 'RFC 7535', refused: true },
  { prefix: '2001:10::/28', name: 'Deprecated (previously ORCHID)', rfc: 'RFC 4843', refused: true },
  { prefix: '2001:20::/28', name: 'ORCHIDv2', rfc: 'RFC 7343', refused: true },
  {
    prefix: '2001:30::/28',
    name: 'Drone Remote ID Protocol Entity Tags (DETs)',
    rfc: 'RFC 9374',
    refused: true,
  },
  { prefix: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849', refused: true },
  { prefix: '2002::/16', name: '6to4', rfc: 'RFC 3056', refused: false, embeddedV4: '6to4' },
  { prefix: '2620:4f:8000::/48', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', refused: true },
  { prefix: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637', refused: true },
  { prefix: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602', refused: true },
  { prefix: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193', refused: true },
  { prefix: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291', refused: true },
  { prefix: 'fec0::/10', name: 'Site-Local (deprecated)', rfc: 'RFC 3879', refused: true },
  { prefix: 'ff00::/8', name: 'Multicast', rfc: 'RFC 4291', refused: true },
];

interface CompiledRange {
  range: SpecialRange;
  bits: number;
  list: BlockList;
}

function compile(rows: readonly SpecialRange[], type: 'ipv4' | 'ipv6'): CompiledRange[] {
  return rows
    .map((range) => {
      const [network = '', bits = ''] = range.prefix.split('/');
      const list = new BlockList();
      list.addSubnet(network, Number(bits), type);
      return { range, bits: Number(bits), list };
    })
    .sort((a, b) => b.bits - a.bits);
}

const V4 = compile(IPV4_SPECIAL, 'ipv4');
const V6 = compile(IPV6_SPECIAL, 'ipv6');

/** The most specific registry row containing the address, if any. */
export function specialRange(address: string): SpecialRange | undefined {
  if (isIPv4(address)) return V4.find((row) => row.list.check(address, 'ipv4'))?.range;
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return undefined;
  return V6.find((row) => row.list.check(bare, 'ipv6'))?.range;
}

/** The 128 bits of an IPv6 address; the WHATWG URL parser validates and canonicalizes it first. */
function v6Bits(address: string): bigint {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function v4At(bits: bigint, shift: bigint): string {
  const n = Number((bits >> shift) & 0xffffffffn);
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** The IPv4 addresses an IPv6 address of this form stands for. */
export function embeddedV4(address: string, form: EmbeddedV4): string[] {
  const bits = v6Bits(address.replace(/%.*$/, ''));
  switch (form) {
    case 'last32':
      return [v4At(bits, 0n)];
    case '6to4':
      return [v4At(bits, 80n)];
    case 'teredo':
      return [v4At(bits, 64n), v4At(~bits & 0xffffffffn, 0n)];
    default: {
      const unknown: never = form;
      throw new Error(`unknown embedding ${String(unknown)}`);
    }
  }
}

export function isPublicAddress(address: string): boolean {
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address.replace(/%.*$/, ''))) return false;
  const range = specialRange(address);
  if (range === undefined) return true;
  if (range.refused) return false;
  if (v4 || range.embeddedV4 === undefined) return true;
  return embeddedV4(address, range.embeddedV4).every(isPublicAddress);
}
