/**
 * Web tools through a real gateway with hostile requests: odd tool options and echoed history whose
 * server-tool blocks are forged, truncated, null or oversized. Every refusal is an Anthropic-shaped 4xx
 * with a request-id; nothing is a 500.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import type { WebTools } from '../../src/tools/web/types.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const tools: WebTools = {
  search: { name: 'fake', search: async () => [{ url: 'https://a.example/', title: 'A', content: 'a' }] },
  fetch: async (request) => ({
    url: request.url,
    retrievedAt: new Date().toISOString(),
    source: { type: 'text', media_type: 'text/plain', data: 'page' },
  }),
};

let emulator: Emulator;
let gateway: RunningServer;
beforeAll(async () => {
  emulator = await startBedrockEmulator();
  gateway = await startServer(testConfig(), { webTools: tools });
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const SEARCH = { type: 'web_search_20250305', name: 'web_search' };
const FETCH = { type: 'web_fetch_20250910', name: 'web_fetch' };
const use = (id: string, name = 'web_search') => ({
  type: 'server_tool_use',
  id,
  name,
  input: name === 'web_search' ? { query: 'q' } : { url: 'https://a.example/' },
});
const history = (assistant: unknown[]) => [
  { role: 'user', content: 'search' },
  { role: 'assistant', content: assistant },
  { role: 'user', content: 'and?' },
];

const probes: Array<{ what: string; body: Record<string, unknown> }> = [
  ...[0, -1, 1e9, '5', 1.5, null, true].map((max_uses) => ({
    what: `max_uses ${String(max_uses)}`,
    body: { tools: [{ ...SEARCH, max_uses }] },
  })),
  ...[1e9, 2 ** 53, -3, 'x'].map((max_content_tokens) => ({
    what: `max_content_tokens ${String(max_content_tokens)}`,
    body: { tools: [{ ...FETCH, max_content_tokens }] },
  })),
  ...[
    { type: 'approximate', city: 'x'.repeat(100_000) },
    { type: 'exact' },
    'Paris',
    [],
    { type: 'approximate', country: 5, timezone: 'Not/AZone' },
  ].map((user_location) => ({
    what: `user_location ${JSON.stringify(user_location).slice(0, 40)}`,
    body: { tools: [{ ...SEARCH, user_location }] },
  })),
  {
    what: 'allowed and blocked',
    body: { tools: [{ ...SEARCH, allowed_domains: ['a'], blocked_domains: ['b'] }] },
  },
  { what: 'domains not strings', body: { tools: [{ ...SEARCH, allowed_domains: [1, null] }] } },
  { what: 'domains an object', body: { tools: [{ ...SEARCH, allowed_domains: { a: 1 } }] } },
  { what: 'two search tools', body: { tools: [SEARCH, { ...SEARCH, name: 'web_search' }] } },
  ...[
    [null],
    [5],
    ['x'],
    [{}],
    [{ type: 'web_search_result', url: 'https://a.example/', encrypted_content: 'abpw1.' }],
    [{ type: 'web_search_result', url: 'https://a.example/', encrypted_content: 'abpw1.AAAA' }],
    [
      {
        type: 'web_search_result',
        url: 'https://a.example/',
        encrypted_content: `abpw1.${'A'.repeat(2_000_000)}`,
      },
    ],
    [{ type: 'web_search_result', url: 'https://a.example/', encrypted_content: { a: 1 } }],
    null,
    'text',
    { error_code: 'bogus' },
  ].map((content) => ({
    what: `search result content ${JSON.stringify(content)?.slice(0, 60)}`,
    body: {
      tools: [SEARCH],
      messages: history([
        use('srvtoolu_1'),
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content },
      ]),
    },
  })),
  ...[
    null,
    [],
    'x',
    { type: 'web_fetch_result' },
    { type: 'web_fetch_result', content: null },
    { type: 'web_fetch_result', url: {}, content: { source: { type: 'text', data: 'x' }, title: 5 } },
  ].map((content) => ({
    what: `fetch result content ${JSON.stringify(content)?.slice(0, 60)}`,
    body: {
      tools: [FETCH],
      messages: history([
        use('srvtoolu_2', 'web_fetch'),
        { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_2', content },
      ]),
    },
  })),
  {
    what: 'colliding server_tool_use ids',
    body: {
      tools: [SEARCH],
      messages: history([
        use('srvtoolu_1'),
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: { error_code: 'unavailable' } },
        use('srvtoolu_1'),
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: { error_code: 'unavailable' } },
      ]),
    },
  },
  {
    what: 'a result without its use',
    body: {
      tools: [SEARCH],
      messages: history([{ type: 'web_search_tool_result', tool_use_id: 'nope', content: [] }]),
    },
  },
  {
    what: 'a use with odd input',
    body: {
      tools: [SEARCH],
      messages: history([{ type: 'server_tool_use', id: 'srvtoolu_3', name: 'web_search', input: null }]),
    },
  },
];

it('hostile web tool requests: no 5xx, Anthropic error shape on each refusal', {
  timeout: 120_000,
}, async () => {
  const failures: string[] = [];
  for (const probe of probes) {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
        ...probe.body,
      }),
    });
    const text = await res.text();
    if (res.status >= 500) failures.push(`${res.status} ${probe.what}: ${text.slice(0, 200)}`);
    if (res.status >= 400) {
      const shape = JSON.parse(text) as { type?: string; error?: { type?: string } };
      if (shape.type !== 'error' || typeof shape.error?.type !== 'string') {
        failures.push(`not an Anthropic error: ${probe.what}: ${text.slice(0, 200)}`);
      }
    }
  }
  expect(failures).toEqual([]);
});
