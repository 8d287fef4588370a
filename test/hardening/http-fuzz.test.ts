/**
 * HTTP-level fuzzing through a real gateway and the Bedrock emulator: a few hundred malformed requests
 * (generated bodies, broken JSON and UTF-8, odd encodings and content types, wrong methods) never get a
 * 5xx, and every error has Anthropic's shape and a request-id (issue 11).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY } from '../helpers/gateway.ts';
import { anyBody } from './request-arbitraries.ts';

const running = gatewayWithEmulator();

interface Probe {
  path: string;
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const PATHS = ['/v1/messages', '/v1/messages/count_tokens', '/v1/messages/?beta=true'];

function generated(): Probe[] {
  const bodies = fc.sample(anyBody, { numRuns: 240, seed: 11 });
  return bodies.map((body, i) => ({ path: PATHS[i % PATHS.length]!, body: JSON.stringify(body) ?? 'null' }));
}

function handMade(): Probe[] {
  const ok = JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 5,
    messages: [{ role: 'user', content: 'hi' }],
  });
  return [
    { path: '/v1/messages', body: '{"model":' },
    { path: '/v1/messages', body: '' },
    { path: '/v1/messages', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    { path: '/v1/messages', body: ok, headers: { 'content-encoding': 'gzip' } },
    { path: '/v1/messages', body: gzipSync(gzipSync(ok)), headers: { 'content-encoding': 'gzip, gzip' } },
    { path: '/v1/messages', body: ok, headers: { 'content-encoding': Array(3000).fill('zstd').join(',') } },
    { path: '/v1/messages', body: ok, headers: { 'content-encoding': 'compress' } },
    { path: '/v1/messages', body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    { path: '/v1/messages', body: `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}` },
    { path: '/v1/messages', body: JSON.stringify({ model: '\ud800', max_tokens: 5, messages: [] }) },
    { path: '/v1/messages', body: ok.replace('claude-sonnet-4-5', `claude-${'['.repeat(300_000)}`) },
    { path: '/v1/messages', body: ok.replace('claude-sonnet-4-5', 'x'.repeat(100_000)) },
    { path: '/v1/messages', method: 'GET' },
    { path: '/v1/messages', method: 'PUT', body: ok },
    { path: `/v1/messages${'/'.repeat(5_000)}`, body: ok },
    { path: `/v1/models/${'%'.repeat(500)}`, method: 'GET' },
    { path: `/v1/models/claude-${'['.repeat(5_000)}`, method: 'GET' },
    { path: '/v1/models?limit=-1', method: 'GET' },
    { path: '/v1/nothing', body: ok },
    { path: '/v1/messages', body: ok, headers: { authorization: `Bearer${' '.repeat(5_000)}x` } },
    { path: '/v1/messages', body: ok, headers: { 'anthropic-beta': ','.repeat(5_000) } },
    { path: '/v1/messages', body: ok, headers: { 'anthropic-beta': '__proto__,constructor,toString' } },
    { path: '/v1/messages/count_tokens', body: ok, headers: { 'anthropic-beta': 'constructor' } },
  ];
}

it('a few hundred malformed requests: no 5xx, Anthropic error shape and request-id on each', async () => {
  const failures: string[] = [];
  for (const probe of [...handMade(), ...generated()]) {
    const res = await fetch(`${running.gateway.url}${probe.path}`, {
      method: probe.method ?? 'POST',
      headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json', ...probe.headers },
      body: probe.body,
    });
    const text = await res.text();
    const what = `${probe.method ?? 'POST'} ${probe.path.slice(0, 40)} ${String(probe.body ?? '').slice(0, 120)}`;
    if (res.status >= 500) failures.push(`${res.status} ${what}: ${text.slice(0, 200)}`);
    if (!res.headers.get('request-id')) failures.push(`no request-id: ${what}`);
    if (res.status >= 400) {
      let shape: { type?: string; error?: { type?: string; message?: string } } = {};
      try {
        shape = JSON.parse(text);
      } catch {
        // reported below
      }
      if (
        shape.type !== 'error' ||
        typeof shape.error?.type !== 'string' ||
        typeof shape.error?.message !== 'string'
      ) {
        failures.push(`not Anthropic's error shape (${res.status}): ${what}: ${text.slice(0, 200)}`);
      }
    }
  }
  expect(failures).toEqual([]);
}, 180_000);
