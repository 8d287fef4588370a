/**
 * Every test file starts without the shell's outbound proxy (a developer behind a corporate proxy):
 * gateways started in-process read HTTPS_PROXY / HTTP_PROXY / NO_PROXY, and would send their calls to
 * the local emulator through it. Tests of the proxy set their own (test/integration/outbound-proxy.test.ts).
 */
for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'])
  delete process.env[name];
