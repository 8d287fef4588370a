import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { agentProxyEnv, describeProxy, proxyFor, readProxyEnv, tunnelConnector } from './proxy.ts';

const P = 'http://proxy.corp:3128';
const S = 'http://secure-proxy.corp:3129';
const via = (env: Record<string, string>, origin: string) => proxyFor(readProxyEnv(env), origin)?.host;

describe('which proxy an origin goes through', () => {
  it('HTTPS_PROXY for https targets, HTTP_PROXY for http ones; HTTP_PROXY when it is the only one', () => {
    const both = { HTTPS_PROXY: S, HTTP_PROXY: P };
    expect(via(both, 'https://bedrock-runtime.us-east-1.amazonaws.com')).toBe('secure-proxy.corp:3129');
    expect(via(both, 'http://127.0.0.1:8080')).toBe('proxy.corp:3128');
    expect(via({ HTTP_PROXY: P }, 'https://bedrock.us-east-1.amazonaws.com')).toBe('proxy.corp:3128');
    expect(via({ HTTPS_PROXY: S }, 'http://127.0.0.1:8080')).toBeUndefined();
    expect(via({}, 'https://bedrock.us-east-1.amazonaws.com')).toBeUndefined();
  });

  it('reads the lower-case spellings first', () => {
    expect(via({ https_proxy: S, HTTPS_PROXY: P }, 'https://a.example')).toBe('secure-proxy.corp:3129');
    expect(via({ HTTPS_PROXY: P, no_proxy: 'a.example', NO_PROXY: 'b.example' }, 'https://a.example')).toBe(
      undefined,
    );
    expect(via({ HTTPS_PROXY: P, no_proxy: 'a.example', NO_PROXY: 'b.example' }, 'https://b.example')).toBe(
      'proxy.corp:3128',
    );
  });

  it.each([
    // [NO_PROXY, origin, bypassed]
    ['amazonaws.com', 'https://bedrock.us-east-1.amazonaws.com', true],
    ['amazonaws.com', 'https://amazonaws.com', true],
    ['.amazonaws.com', 'https://bedrock.us-east-1.amazonaws.com', true],
    ['.amazonaws.com', 'https://amazonaws.com', true],
    ['*.amazonaws.com', 'https://bedrock.amazonaws.com', true],
    ['*.amazonaws.com', 'https://amazonaws.com', false],
    ['zonaws.com', 'https://bedrock.amazonaws.com', false],
    ['*', 'https://anything.example', true],
    ['none.invalid, *', 'https://anything.example', true],
    ['AmazonAWS.com', 'https://BEDROCK.amazonaws.com', true],
    ['amazonaws.com.', 'https://bedrock.amazonaws.com.', true],
    ['example.com:443', 'https://example.com', true],
    ['example.com:8443', 'https://example.com', false],
    ['example.com:8443', 'https://example.com:8443', true],
    ['*:80', 'http://example.com', true],
    ['*:80', 'https://example.com', false],
    ['127.0.0.1', 'http://127.0.0.1:4000', true],
    ['127.0.0.2', 'http://127.0.0.1:4000', false],
    ['::1', 'http://[::1]:4000', true],
    ['[::1]:4000', 'http://[::1]:4000', true],
    ['[::1]:4001', 'http://[::1]:4000', false],
    ['localhost 127.0.0.1', 'http://127.0.0.1:4000', true],
    ['', 'https://example.com', false],
  ])('NO_PROXY=%j, %s: bypassed %s', (noProxy, origin, bypassed) => {
    const proxy = proxyFor(readProxyEnv({ HTTPS_PROXY: S, HTTP_PROXY: P, NO_PROXY: noProxy }), origin);
    expect(proxy === undefined).toBe(bypassed);
  });

  it('takes a bare host:port as an http proxy, and refuses a proxy it cannot use', () => {
    expect(via({ HTTPS_PROXY: 'proxy.corp:3128' }, 'https://a.example')).toBe('proxy.corp:3128');
    expect(() => readProxyEnv({ HTTPS_PROXY: 'socks5://proxy.corp:1080' })).toThrow(
      /socks5 proxy is not supported/,
    );
    expect(() => readProxyEnv({ HTTPS_PROXY: 'http://[bad' })).toThrow(/HTTPS_PROXY is not a URL/);
  });
});

describe('the tunnel connector', () => {
  it('takes a password with a stray % as it is', () => {
    expect(() => tunnelConnector(new URL('http://user:100%pure@proxy.corp:3128'))).not.toThrow();
  });
});

describe('the proxy as shown', () => {
  it('never shows its credentials', () => {
    expect(describeProxy(new URL('http://user:pa%40ss@proxy.corp:3128'))).toBe('http://***@proxy.corp:3128');
    expect(describeProxy(new URL('https://proxy.corp'))).toBe('https://proxy.corp');
  });
});

describe("Node's agents' proxyEnv", () => {
  it('is absent with no proxy set, and one spelling of each variable otherwise', () => {
    expect(agentProxyEnv(readProxyEnv({ NO_PROXY: 'x' }))).toEqual({});
    expect(agentProxyEnv(readProxyEnv({ http_proxy: P, no_proxy: '.corp' }))).toEqual({
      proxyEnv: { HTTP_PROXY: `${P}/`, HTTPS_PROXY: `${P}/`, NO_PROXY: '.corp' },
    });
  });

  it('takes a password with a stray % as the tunnel does (Node would throw URIError making the agent)', () => {
    const env = readProxyEnv({ HTTPS_PROXY: 'http://user:100%pure@proxy.corp:3128' });
    expect(() => new https.Agent({ keepAlive: true, ...agentProxyEnv(env) })).not.toThrow();
    const proxyEnv = agentProxyEnv(env).proxyEnv!;
    const sent = new URL(proxyEnv.HTTPS_PROXY!);
    expect(decodeURIComponent(sent.password)).toBe('100%pure');
  });

  it.each([
    // [NO_PROXY, target host, bypassed by proxyFor and so by Node's agents]
    ['localhost 127.0.0.1', 'bedrock.test', false],
    ['localhost 127.0.0.1', '127.0.0.1', true],
    ['test', 'bedrock.test', true],
    ['.test', 'bedrock.test', true],
    ['*.test', 'bedrock.test', true],
    ['*.bedrock.test', 'bedrock.test', false],
    ['other.test', 'bedrock.test', false],
    ['*', 'bedrock.test', true],
  ])(
    'NO_PROXY=%j: Node’s agents decide for %s as proxyFor does (bypassed %s)',
    async (noProxy, host, bypassed) => {
      let proxied = 0;
      const proxy = http.createServer((_req, res) => {
        proxied++;
        res.end('proxy');
      });
      const target = http.createServer((_req, res) => res.end('direct'));
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
      const port = (target.address() as AddressInfo).port;
      const env = readProxyEnv({
        HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        NO_PROXY: noProxy,
      });
      const origin = `http://${host}:${port}`;
      expect(proxyFor(env, origin) === undefined).toBe(bypassed);
      const agent = new http.Agent(agentProxyEnv(env));
      try {
        const body = await new Promise<string>((resolve, reject) => {
          http
            .get(
              `${origin}/`,
              {
                agent,
                // Every name is this machine: what differs is whether the agent went to the proxy.
                lookup: (_name, options, callback) =>
                  (options as { all?: boolean }).all
                    ? (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
                        { address: '127.0.0.1', family: 4 },
                      ])
                    : (callback as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4),
              },
              (res) => {
                let text = '';
                res.on('data', (chunk) => (text += chunk));
                res.on('end', () => resolve(text));
              },
            )
            .on('error', reject);
        });
        expect(body).toBe(bypassed ? 'direct' : 'proxy');
        expect(proxied).toBe(bypassed ? 0 : 1);
      } finally {
        agent.destroy();
        proxy.close();
        target.close();
      }
    },
  );
});
