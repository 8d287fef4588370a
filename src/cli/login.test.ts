import { describe, expect, it } from 'vitest';
import { gatewayUrl } from './login.ts';

describe('--gateway', () => {
  const config = { publicUrl: undefined, port: 8080 };
  it('takes an http(s) URL, without its trailing slash', () => {
    expect(gatewayUrl({ gateway: 'https://gw.corp.example/' }, config)).toBe('https://gw.corp.example');
    expect(gatewayUrl({}, config)).toBe('http://127.0.0.1:8080');
  });
  it('refuses anything else as a usage error (exit 2), not as a gateway that cannot be reached', () => {
    for (const gateway of ['notaurl', 'ftp://gw.corp.example', 'file:///etc/passwd', 'gw.corp.example:443']) {
      expect(() => gatewayUrl({ gateway }, config), gateway).toThrow(
        expect.objectContaining({
          exitCode: 2,
          message: expect.stringMatching(/^--gateway: expected an http/),
        }),
      );
    }
  });
});
