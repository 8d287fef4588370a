/**
 * Token counts are Bedrock's word, and a broken or hostile upstream (a proxy, a stand-in endpoint) can
 * say anything: negative counts, 1e20, strings. What is metered, billed against a budget and stored is
 * a whole number from 0 to a bound, on every path (Converse and Claude's InvokeModel, streamed or not);
 * the Converse answer the client reads says the same. Through the gateway with the official Anthropic
 * SDK; the runtime endpoint is a small server answering every call with such counts, the catalogue
 * still comes from the emulator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { MAX_CALL_TOKENS } from '../../src/usage/bounds.ts';
import { eventFrame } from '../emulator/eventstream.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5';
/** What the upstream claims, per field, on every answer. */
const BAD = { input: -5, output: 1e20, cacheRead: 'x', cacheWrite: -1 };

const chunk = (event: unknown) =>
  eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });

function answer(url: string, res: http.ServerResponse): void {
  const converseUsage = {
    inputTokens: BAD.input,
    outputTokens: BAD.output,
    cacheReadInputTokens: BAD.cacheRead,
    cacheWriteInputTokens: BAD.cacheWrite,
    totalTokens: 1,
  };
  const claudeUsage = {
    input_tokens: BAD.input,
    output_tokens: BAD.output,
    cache_read_input_tokens: BAD.cacheRead,
    cache_creation_input_tokens: BAD.cacheWrite,
  };
  const text = { role: 'assistant', content: [{ text: 'hi' }] };
  if (url.endsWith('/count-tokens')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ inputTokens: countAnswer }));
  } else if (url.endsWith('/converse')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ output: { message: text }, stopReason: 'end_turn', usage: converseUsage }));
  } else if (url.endsWith('/invoke')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'x',
        content: [{ type: 'text', text: 'hi' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: claudeUsage,
      }),
    );
  } else if (url.endsWith('/converse-stream')) {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    res.write(eventFrame('messageStart', { role: 'assistant' }));
    res.write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hi' } }));
    res.write(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
    res.write(eventFrame('messageStop', { stopReason: 'end_turn' }));
    res.end(eventFrame('metadata', { usage: converseUsage, metrics: { latencyMs: 1 } }));
  } else {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'x', content: [] };
    res.write(chunk({ type: 'message_start', message: { ...message, usage: claudeUsage } }));
    res.write(chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    res.write(chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } }));
    res.write(chunk({ type: 'content_block_stop', index: 0 }));
    res.write(chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: claudeUsage }));
    res.end(chunk({ type: 'message_stop' }));
  }
}

/** What the upstream's CountTokens says. */
let countAnswer: unknown = 7;

let emulator: Emulator;
let runtime: http.Server;
let gateway: RunningServer;
let client: Anthropic;
let endpointBefore: string | undefined;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  runtime = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req.url ?? '', res));
  });
  await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', () => resolve()));
  endpointBefore = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}`;
  gateway = await startServer(testConfig());
  client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = endpointBefore;
  runtime?.closeAllConnections();
  await new Promise<void>((resolve) => (runtime ? runtime.close(() => resolve()) : resolve()));
  await emulator?.close();
});

async function recordOf(requestId: string | null | undefined) {
  for (let i = 0; i < 50; i++) {
    const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    const record = records.find((r) => r.requestId === requestId);
    if (record) return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no usage record for ${requestId}`);
}

const wholeCount = (n: unknown) =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_CALL_TOKENS;

describe.each([
  ['Converse', QWEN],
  ['InvokeModel', CLAUDE],
])('%s answers with negative, huge and non-numeric token counts', (_path, model) => {
  const params = { model, max_tokens: 50, messages: [{ role: 'user' as const, content: 'hi' }] };

  it.each([false, true])(
    'stream %s: the usage record holds bounded whole counts and a sane cost',
    async (stream) => {
      let requestId: string | null | undefined;
      let seen: Anthropic.Usage | Anthropic.MessageDeltaUsage;
      if (stream) {
        const st = client.messages.stream(params);
        const message = await st.finalMessage();
        requestId = st.request_id;
        seen = message.usage;
      } else {
        const { data, request_id } = await client.messages.create(params).withResponse();
        requestId = request_id;
        seen = data.usage;
      }
      const record = await recordOf(requestId);
      for (const field of [
        'inputTokens',
        'outputTokens',
        'cacheReadInputTokens',
        'cacheWriteInputTokens',
      ] as const) {
        expect(wholeCount(record[field]), `${field} = ${record[field]}`).toBe(true);
      }
      expect(record.inputTokens).toBe(0);
      expect(record.outputTokens).toBe(MAX_CALL_TOKENS);
      expect(Number.isFinite(record.costUsd)).toBe(true);
      expect(record.costUsd).toBeGreaterThanOrEqual(0);
      // 1e20 output tokens at list price was ~1e15 USD: one answer would have spent any budget.
      expect(record.costUsd).toBeLessThan(100_000);
      if (model === QWEN) {
        // The Converse path builds the client's usage itself: the same bounded counts.
        expect(seen.input_tokens).toBe(0);
        expect(seen.output_tokens).toBe(MAX_CALL_TOKENS);
        expect(seen.cache_read_input_tokens).toBe(0);
      }
    },
  );
});

describe('count_tokens answered with a count that is not one', () => {
  it.each([[-5], [1e300], ['12']])('%s: the estimate answers instead', async (claimed) => {
    countAnswer = claimed;
    const { data, response } = await client.messages
      .countTokens({ model: CLAUDE, messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(wholeCount(data.input_tokens)).toBe(true);
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-abproxy-token-count')).toBe('estimate');
  });

  it("a whole count is Bedrock's", async () => {
    countAnswer = 7;
    const { data, response } = await client.messages
      .countTokens({ model: CLAUDE, messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(data.input_tokens).toBe(7);
    expect(response.headers.get('x-abproxy-token-count')).toBe('bedrock');
  });
});
