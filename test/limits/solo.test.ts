/**
 * Solo mode, as a user meets it: keys with small limits and budgets, called through the Anthropic SDK
 * against a real gateway and the Bedrock emulator; usage lands in the SQLite store; /metrics parses.
 */
import Anthropic from '@anthropic-ai/sdk';
import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/http/server.ts';
import type { KeyLimits } from '../../src/store/types.ts';
import { gatewayWithEmulator, MASTER_KEY, storeKey, testConfig } from '../helpers/gateway.ts';
import { until } from '../helpers/wait.ts';

const running = gatewayWithEmulator({ usageDrainMs: 50 });
const MODEL = 'claude-sonnet-4-5-20250929';

async function makeKey(limits: KeyLimits): Promise<{ id: string; client: Anthropic }> {
  const { id, secret } = await storeKey(running.gateway.store, limits);
  return { id, client: new Anthropic({ baseURL: running.gateway.url, apiKey: secret, maxRetries: 0 }) };
}

const ask = (client: Anthropic, text = 'hi') =>
  client.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: text }] });

/** Rate windows are calendar minutes: start a burst early in one so it cannot straddle two. */
async function earlyInMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 50));
}

describe('per-key limits in solo mode', () => {
  it('hammering a key past its requests-per-minute gets 429s with retry-after and ratelimit headers', async () => {
    await earlyInMinute();
    const { client } = await makeKey({ requestsPerMinute: 5 });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => ask(client)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(7);
    const err = refused[0];
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error.error.type).toBe('rate_limit_error');
    const retryAfter = Number(err.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(err.headers.get('anthropic-ratelimit-requests-limit')).toBe('5');
    expect(err.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    const reset = Date.parse(err.headers.get('anthropic-ratelimit-requests-reset'));
    expect(reset % 60_000).toBe(0);
    expect(reset).toBeGreaterThan(Date.now());
  });

  it('successful answers carry the remaining allowance', async () => {
    const { client } = await makeKey({ requestsPerMinute: 100, tokensPerMinute: 100_000 });
    const { response } = await client.messages
      .create({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'x' }] })
      .withResponse();
    expect(Number(response.headers.get('anthropic-ratelimit-requests-remaining'))).toBeLessThan(100);
    expect(response.headers.get('anthropic-ratelimit-tokens-limit')).toBe('100000');
  });

  it('tokens per minute: admitted on the estimate, then refused once real usage fills the window', async () => {
    await earlyInMinute();
    const { client } = await makeKey({ tokensPerMinute: 400 });
    const long = 'lorem ipsum '.repeat(60); // ~180 tokens in, echoed back out
    await ask(client, long);
    const second = await ask(client, long).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Anthropic.RateLimitError);
    const err = second as InstanceType<typeof Anthropic.RateLimitError>;
    expect(err.headers.get('anthropic-ratelimit-tokens-limit')).toBe('400');
    expect(err.message).toMatch(/tokens per minute/);
  });

  it('tokens per minute: text inside search results or server tool blocks counts like plain text at admission', async () => {
    await earlyInMinute();
    const { client } = await makeKey({ tokensPerMinute: 200 });
    const big = 'x'.repeat(48_000); // ~12,000 tokens: over the limit on its own
    const inSearchResult = () =>
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'search_result',
                source: 'https://example.com/a',
                title: 'a',
                content: [{ type: 'text', text: big }],
              },
            ],
          },
        ],
      });
    // In parallel, before any real usage settles: the estimate alone refuses all but the first (an
    // empty window admits one request whatever its size, as with plain text).
    const results = await Promise.allSettled(Array.from({ length: 4 }, inSearchResult));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(refused).toHaveLength(3);
    for (const err of refused) {
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect((err as Error).message).toMatch(/tokens per minute/);
    }
  });

  it('concurrent requests: past the cap a call gets 429 with retry-after; a slot frees when a call ends, however it ends', async () => {
    const { client } = await makeKey({ concurrentRequests: 2 });
    const before = running.emulator.requests.length;
    // Two slow streams hold both slots.
    running.emulator.enqueue(
      { text: 'one two three four five six', chunkDelayMs: 150, chunkSize: 4 },
      { text: 'one two three four five six', chunkDelayMs: 150, chunkSize: 4 },
    );
    const slow = () =>
      client.messages
        .stream({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'slow' }] })
        .finalMessage();
    const first = slow();
    const second = slow();
    expect(await until(() => running.emulator.requests.length >= before + 2, 5_000)).toBe(true);
    const refused = await ask(client).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
    const err = refused as InstanceType<typeof Anthropic.RateLimitError>;
    expect(err.error).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect(err.message).toMatch(/2 requests in flight/);
    expect(err.headers.get('retry-after')).toBe('1');
    // The refused call never reached Bedrock.
    expect(running.emulator.requests.length).toBe(before + 2);
    // Another key is not held up by this one.
    const other = await makeKey({});
    await expect(ask(other.client)).resolves.toMatchObject({ type: 'message' });
    // The SDK's own retry (it honours retry-after) gets through once the streams end.
    const retrying = new Anthropic({ baseURL: running.gateway.url, apiKey: client.apiKey!, maxRetries: 4 });
    const [a, b, c] = await Promise.all([first, second, ask(retrying)]);
    expect(a.content[0]).toMatchObject({ text: 'one two three four five six' });
    expect(b.content[0]).toMatchObject({ text: 'one two three four five six' });
    expect(c.type).toBe('message');
    // A call that fails upstream gives its slot back too.
    running.emulator.enqueue({ error: { name: 'ValidationException', status: 400, message: 'no' } });
    await expect(ask(client)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    const after = await Promise.all([ask(client), ask(client)]);
    expect(after.map((m) => m.type)).toEqual(['message', 'message']);
  });

  it('concurrent requests: calls the cap refuses spend none of the per-minute allowance', async () => {
    await earlyInMinute();
    const { client } = await makeKey({ concurrentRequests: 1, requestsPerMinute: 5 });
    running.emulator.enqueue({ text: 'one two three four', chunkDelayMs: 100, chunkSize: 4 });
    const stream = client.messages
      .stream({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'slow' }] })
      .finalMessage();
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 4; i++) {
      const err = await ask(client).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/requests in flight/);
    }
    await stream;
    const { response } = await ask(client).withResponse();
    // The stream and this call: two of five.
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('3');
  });

  it('concurrent requests: a client that hangs up mid-stream frees its slot', async () => {
    const { client } = await makeKey({ concurrentRequests: 1 });
    running.emulator.enqueue({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 200, chunkSize: 2 });
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'slow' }],
    });
    stream.on('error', () => {}); // the abort below rejects the stream's promises
    stream.on('abort', () => {});
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    await expect(ask(client)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    stream.abort();
    // The gateway notices the hang-up and ends the call: the slot is free again.
    expect(
      await until(
        () =>
          ask(client).then(
            () => true,
            () => false,
          ),
        5_000,
      ),
    ).toBe(true);
  });

  it('an exhausted budget is a 402 billing_error the SDK does not retry', async () => {
    // Room for the first call's worst case; its real prompt (1000 tokens, $0.003) spends the budget.
    const { id, client } = await makeKey({ budgetUsd: 0.002 });
    running.emulator.enqueue({ text: 'ok', usage: { inputTokens: 1000 } });
    await ask(client, 'spend a little '.repeat(20));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = running.emulator.requests.length;
    const retrying = new Anthropic({ baseURL: running.gateway.url, apiKey: client.apiKey!, maxRetries: 3 });
    const err = await ask(retrying).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const apiErr = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiErr.status).toBe(402);
    expect((apiErr.error as { error: { type: string } }).error.type).toBe('billing_error');
    expect(apiErr.headers?.get('x-should-retry')).toBe('false');
    expect(apiErr.message).toContain(id);
    expect(apiErr.message).toMatch(/monthly budget/);
    // Refused before Bedrock: nothing was spent.
    expect(running.emulator.requests.length).toBe(before);
  });
});

describe('the seed converter settings', () => {
  it('RATE_LIMIT_ENABLED/REQUESTS/WINDOW limit each caller, the master key included', async () => {
    const limited = await startServer(
      testConfig({}, { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REQUESTS: '2', RATE_LIMIT_WINDOW: '3600' }),
    );
    try {
      const client = new Anthropic({ baseURL: limited.url, apiKey: MASTER_KEY, maxRetries: 0 });
      await ask(client);
      await ask(client);
      const err = await ask(client).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      const headers = (err as InstanceType<typeof Anthropic.RateLimitError>).headers;
      expect(headers.get('anthropic-ratelimit-requests-limit')).toBe('2');
      expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    } finally {
      await limited.close();
    }
  });
});

describe('usage records and metrics', () => {
  it('records one usage record per request with tokens and cost, streams included', async () => {
    const { id, client } = await makeKey({});
    const plain = await ask(client, 'count me');
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'stream me' }],
    });
    const streamed = await stream.finalMessage();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const records = await running.gateway.store.listUsage({ since: '2000-01-01T00:00:00Z', keyId: id });
    expect(records).toHaveLength(2);
    const [first, second] = records;
    expect(first).toMatchObject({
      keyId: id,
      model: MODEL,
      status: 200,
      stream: false,
      inputTokens: plain.usage.input_tokens,
      outputTokens: plain.usage.output_tokens,
    });
    expect(first!.resolvedModel).toMatch(/anthropic\.claude-sonnet-4-5/);
    expect(first!.costUsd).toBeGreaterThan(0);
    expect(second).toMatchObject({ stream: true, outputTokens: streamed.usage.output_tokens });
    expect(second!.ttftMs).toBeGreaterThanOrEqual(0);
    expect(new Set(records.map((r) => r.id)).size).toBe(2);
  });

  it('a stream the client cuts still records the tokens seen, as status 499', async () => {
    const { id, client } = await makeKey({});
    running.emulator.enqueue({ text: 'word '.repeat(400), chunkSize: 5, chunkDelayMs: 5 });
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 2000,
      messages: [{ role: 'user', content: 'long' }],
    });
    stream.on('error', () => {}); // the abort below rejects the stream's promises
    stream.on('abort', () => {});
    let seen = 0;
    await new Promise<void>((resolve) => {
      stream.on('text', () => {
        if (++seen === 20) {
          stream.abort();
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [cut] = await running.gateway.store.listUsage({ since: '2000-01-01T00:00:00Z', keyId: id });
    expect(cut?.status).toBe(499);
    expect(cut?.outputTokens).toBeGreaterThan(0);
  });

  it('GET /metrics is Prometheus text a parser reads: requests, tokens, cost, histograms, limits', async () => {
    const res = await fetch(`${running.gateway.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const families = new Map(parsePrometheus(await res.text()).map((f) => [f.name, f]));
    const requests = families.get('abproxy_requests_total')!;
    expect(requests.type).toBe('COUNTER');
    const ok = requests.metrics.find((m) => m.labels?.model === MODEL && m.labels?.status === '200');
    expect(Number(ok?.value)).toBeGreaterThanOrEqual(3);
    expect(requests.metrics.some((m) => m.labels?.status === '429')).toBe(true);
    const tokens = families.get('abproxy_tokens_total')!.metrics;
    expect(tokens.some((m) => m.labels?.kind === 'output' && Number(m.value) > 0)).toBe(true);
    expect(Number(families.get('abproxy_cost_usd_total')!.metrics[0]!.value)).toBeGreaterThan(0);
    expect(families.get('abproxy_request_duration_seconds')!.type).toBe('HISTOGRAM');
    const ttft = families.get('abproxy_time_to_first_token_seconds')!;
    expect(ttft.type).toBe('HISTOGRAM');
    expect(Number(ttft.metrics[0]!.buckets?.['+Inf'])).toBeGreaterThan(0);
    expect(families.get('abproxy_upstream_latency_seconds')!.type).toBe('HISTOGRAM');
    expect(
      Number(
        families.get('abproxy_rate_limited_total')!.metrics.find((m) => m.labels?.limit === 'requests')
          ?.value,
      ),
    ).toBeGreaterThan(0);
    expect(Number(families.get('abproxy_budget_refused_total')!.metrics[0]!.value)).toBe(1);
    expect(families.get('abproxy_active_streams')!.metrics[0]!.value).toBe('0');
    expect(families.has('abproxy_usage_spool_depth')).toBe(true);
  });

  it('counts requests for models Bedrock refused under model="unknown", so made-up names add no series', async () => {
    const bogus = 'acme.no-such-model-v9:0';
    const client = new Anthropic({ baseURL: running.gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    await client.messages
      .create({ model: bogus, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch(() => undefined);
    const text = await (await fetch(`${running.gateway.url}/metrics`)).text();
    expect(text).not.toContain(bogus);
    expect(text).toMatch(/abproxy_requests_total\{[^}]*model="unknown"/);
  });
});
