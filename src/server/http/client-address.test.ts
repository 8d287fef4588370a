import { describe, expect, it } from 'vitest';
import { addressKey, clientAddress } from './client-address.ts';

const request = (remoteAddress: string, forwardedFor?: string | string[]) => ({
  headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  socket: { remoteAddress },
});

describe('clientAddress', () => {
  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientAddress(request('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });

  it('behind one trusted proxy, is the entry that proxy appended (the last), not the client’s own claims', () => {
    // The client sent `X-Forwarded-For: 6.6.6.6` itself; the load balancer appended what it saw.
    expect(clientAddress(request('10.0.0.5', '6.6.6.6, 203.0.113.7'), 1)).toBe('203.0.113.7');
    expect(clientAddress(request('10.0.0.5', ['6.6.6.6', '203.0.113.7']), 1)).toBe('203.0.113.7');
  });

  it('behind two, is the second from the right', () => {
    expect(clientAddress(request('10.0.0.5', '6.6.6.6, 203.0.113.7, 198.51.100.2'), 2)).toBe('203.0.113.7');
  });

  it('falls back to the peer when the header is missing, too short or not an address', () => {
    expect(clientAddress(request('10.0.0.5'), 1)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5', '203.0.113.7'), 2)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5', 'evil, <script>'), 1)).toBe('10.0.0.5');
  });
});

describe('addressKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('counts IPv6 by its /64, however the address is written', () => {
    const key = '2001:db8:1:2::/64';
    expect(addressKey('2001:db8:1:2::1')).toBe(key);
    expect(addressKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe(key);
    expect(addressKey('2001:DB8:1:2:0:0:0:9%eth0')).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });
});
