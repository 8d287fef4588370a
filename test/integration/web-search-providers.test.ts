/**
 * The web_search server tool end to end through the real provider adapters: a gateway configured as a
 * user would (ABPROXY_WEB_SEARCH_PROVIDER / _URL / _API_KEY) against the fake search provider that speaks
 * Brave's and SearXNG's APIs, driven by the official Anthropic SDK; and the `remove` mode without one.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type FakeSearch, startFakeSearch } from '../fakes/search-provider.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5-20250929';

let emulator: Emulator;
let fake: FakeSearch;
const gateways: RunningServer[] = [];

async function gatewayWith(env: Record<string, string>): Promise<Anthropic> {
  const server = await startServer(testConfig({}, env));
  gateways.push(server);
  return new Anthropic({ baseURL: server.url, apiKey: MASTER_KEY, maxRetries: 0 });
}

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  fake = await startFakeSearch();
});
afterAll(async () => {
  for (const server of gateways) await server.close();
  await fake?.close();
  await emulator?.close();
});
beforeEach(() => {
  emulator.reset();
  fake.reset();
});

describe.each(['brave', 'searxng'] as const)('through the %s adapter', (provider) => {
  let client: Anthropic;
  beforeAll(async () => {
    client = await gatewayWith({
      ABPROXY_WEB_SEARCH_PROVIDER: provider,
      ABPROXY_WEB_SEARCH_URL: fake.url,
      ABPROXY_WEB_SEARCH_API_KEY: fake.apiKey,
    });
  });

  it.each([QWEN, CLAUDE])('%s: searches the provider and cites its first hit', async (model) => {
    emulator.enqueue(
      { model, toolCalls: [{ name: 'web_search', input: { query: 'bedrock gateways' } }] },
      { model, text: 'Gateways are explained in the docs [1].' },
    );
    const message = await client.messages
      .stream({
        model,
        max_tokens: 400,
        tools: [{ type: 'web_search_20250305', name: 'web_search', allowed_domains: ['example.com'] }],
        messages: [{ role: 'user', content: 'Tell me about Bedrock gateways' }],
      })
      .finalMessage();
    expect(fake.queries).toHaveLength(1);
    expect(fake.queries[0]).toMatchObject({
      provider,
      query: 'bedrock gateways',
    });
    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'text']);
    const items = (message.content[1] as Anthropic.WebSearchToolResultBlock)
      .content as Anthropic.WebSearchResultBlock[];
    // The fake ignores domain filters; the gateway keeps only example.com and its subdomains.
    expect(items.map((i) => i.url)).toEqual(['https://docs.example.com/bedrock-gateways']);
    const text = message.content[2] as Anthropic.TextBlock;
    expect(text.citations?.[0]).toMatchObject({
      type: 'web_search_result_location',
      url: 'https://docs.example.com/bedrock-gateways',
    });
    expect(message.usage.server_tool_use?.web_search_requests).toBe(1);
  });

  it('a provider answering 503 is an `unavailable` error block', async () => {
    fake.scriptDefault({ status: 503 });
    emulator.enqueue(
      { model: QWEN, toolCalls: [{ name: 'web_search', input: { query: 'anything' } }] },
      { model: QWEN, text: 'Search is down.' },
    );
    const message = await client.messages.create({
      model: QWEN,
      max_tokens: 400,
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      messages: [{ role: 'user', content: 'search' }],
    });
    expect((message.content[1] as Anthropic.WebSearchToolResultBlock).content).toEqual({
      type: 'web_search_tool_result_error',
      error_code: 'unavailable',
    });
    expect(message.content[2]).toMatchObject({ type: 'text', text: 'Search is down.' });
  });
});

describe('no provider configured', () => {
  it('ABPROXY_WEB_SEARCH_WITHOUT_PROVIDER=remove: the tool is dropped and a warning header says so', async () => {
    const client = await gatewayWith({ ABPROXY_WEB_SEARCH_WITHOUT_PROVIDER: 'remove' });
    const { data, response } = await client.messages
      .create({
        model: QWEN,
        max_tokens: 100,
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        messages: [{ role: 'user', content: 'hello' }],
      })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text' });
    expect(response.headers.get('x-abproxy-warnings')).toContain('ABPROXY_WEB_SEARCH_PROVIDER');
    expect(JSON.stringify(emulator.requests.at(-1)!.body)).not.toContain('web_search');
  });
});
