import { describe, expect, it } from 'vitest';
import {
  embeddedV4,
  IPV4_SPECIAL,
  IPV6_SPECIAL,
  isPublicAddress,
  type SpecialRange,
  specialRange,
} from './public-address.ts';

/** The first and the last address of a CIDR block. */
function bounds(prefix: string): [string, string] {
  const [network = '', bitsText = ''] = prefix.split('/');
  const bits = Number(bitsText);
  if (network.includes('.')) {
    const n = network.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const last = n + 2 ** (32 - bits) - 1;
    const text = (x: number) => [24, 16, 8, 0].map((s) => Math.floor(x / 2 ** s) % 256).join('.');
    return [text(n), text(last)];
  }
  const canonical = new URL(`http://[${network}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const n = groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
  const last = n | ((1n << BigInt(128 - bits)) - 1n);
  const text = (x: bigint) =>
    Array.from({ length: 8 }, (_, i) => ((x >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
  return [text(n), text(last)];
}

const hex = (v4: string) => {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
};

/** An address of this form that embeds `v4`. */
function embedding(range: SpecialRange, v4: string): string {
  switch (range.prefix) {
    case '::/96':
      return `::${v4}`;
    case '::ffff:0:0/96':
      return `::ffff:${v4}`;
    case '::ffff:0:0:0/96':
      return `::ffff:0:${v4}`;
    case '64:ff9b::/96':
      return `64:ff9b::${v4}`;
    case '2002::/16':
      return `2002:${hex(v4)}::1`;
    case '2001::/32': {
      // Teredo: server in bits 32-63, client inverted in the last 32 bits.
      const inverted = v4
        .split('.')
        .map((o) => 255 - Number(o))
        .join('.');
      return `2001:0:${hex(v4)}:8000:ffff:${hex(inverted)}`;
    }
    default:
      throw new Error(`no embedding for ${range.prefix}`);
  }
}

const rows = [...IPV4_SPECIAL, ...IPV6_SPECIAL].map(
  (range) => [range.prefix, range.name, range.rfc, range] as const,
);

describe('the IANA special-purpose registries, row by row', () => {
  it.each(rows)('%s (%s, %s)', (prefix, _name, _rfc, range) => {
    for (const address of bounds(prefix)) {
      // The row itself, or a more specific row inside it, decides.
      const decider = specialRange(address);
      expect(decider, address).toBeDefined();
      if (decider === range && range.refused) expect(isPublicAddress(address), address).toBe(false);
    }
    if (range.embeddedV4 === undefined) {
      expect(range.refused).toBe(true);
      return;
    }
    // Embedded-IPv4 forms: a private IPv4 inside is always refused; a public one only where the form is.
    for (const inner of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '192.168.0.1', '100.64.0.1']) {
      const address = embedding(range, inner);
      expect(specialRange(address), address).toBe(range);
      expect(embeddedV4(address, range.embeddedV4)).toContain(inner);
      expect(isPublicAddress(address), address).toBe(false);
    }
    const address = embedding(range, '8.8.8.8');
    expect(isPublicAddress(address), address).toBe(!range.refused);
  });
});

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '0:0:0:0:0:0:0:1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::127.0.0.1',
    // SIIT and local-use NAT64: the forms the first guard missed (issue 11).
    '::ffff:0:10.0.0.1',
    '::ffff:0:a9fe:a9fe',
    '::ffff:0:8.8.8.8',
    '64:ff9b:1::a00:1',
    '64:ff9b:1:ffff::1',
    '64:ff9b::10.0.0.1',
    '2002:c0a8:0101::1',
    '2002:7f00:1::1',
    '2001:db8::1',
    '2001::1',
    '3fff::1',
    '5f00::1',
    'not-an-ip',
    '',
    '1.2.3',
    '::ffff:1.2.3.4.5',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
  ])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});
