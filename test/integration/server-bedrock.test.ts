/** Full round trips through the gateway to the Bedrock emulator, driven by the official Anthropic SDK. */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY, startGateway } from '../helpers/gateway.ts';

const MODEL = 'claude-sonnet-4-6';
const OPEN_MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const user = (text: string) => [{ role: 'user' as const, content: text }];

const world = gatewayWithEmulator({ pingIntervalMs: 15_000 });

describe('messages.create', () => {
  it('answers with the scripted text, and names the Bedrock model in a header', async () => {
    world.emulator.enqueue({ text: 'Hello from Bedrock', usage: { inputTokens: 12, outputTokens: 4 } });
    const { data, response } = await world.client.messages
      .create({ model: MODEL, max_tokens: 100, messages: user('hi') })
      .withResponse();
    expect(data.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hello from Bedrock' })]);
    expect(data.model).toBe(MODEL);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage).toMatchObject({ input_tokens: 12, output_tokens: 4 });
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('x-abproxy-model')).toContain('anthropic.claude-sonnet-4-6');
  });

  it('passes a Bedrock id straight through', async () => {
    world.emulator.enqueue({ text: 'qwen says hi' });
    const { data, response } = await world.client.messages
      .create({ model: OPEN_MODEL, max_tokens: 100, messages: user('hi') })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'qwen says hi' });
    expect(response.headers.get('x-abproxy-model')).toBe(OPEN_MODEL);
  });

  it('maps Bedrock throttling to a RateLimitError with retry-after', async () => {
    world.emulator.enqueue({
      error: { name: 'ThrottlingException', message: 'Too many requests, please wait' },
    });
    const err = await world.client.messages
      .create({ model: OPEN_MODEL, max_tokens: 100, messages: user('hi') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(apiError.headers?.get('retry-after')).toMatch(/^\d+$/);
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it('a throttle Bedrock gave no retry-after for costs a retrying SDK no more than its own backoff', async () => {
    // The gateway's default retry-after was 5 s: the SDK slept it in place of its 0.5 s first backoff.
    world.emulator.enqueue({ error: { name: 'ThrottlingException', message: 'Too many requests' } });
    world.emulator.enqueue({ text: 'after the wait' });
    const refusals: (string | null)[] = [];
    const retrying = new Anthropic({
      baseURL: world.gateway.url,
      apiKey: MASTER_KEY,
      maxRetries: 1,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (res.status === 429) refusals.push(res.headers.get('retry-after'));
        return res;
      },
    });
    const started = Date.now();
    const message = await retrying.messages.create({
      model: OPEN_MODEL,
      max_tokens: 100,
      messages: user('hi'),
    });
    expect(message.content[0]).toMatchObject({ text: 'after the wait' });
    expect(refusals).toEqual(['1']);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('maps a Bedrock validation error to a 400, not a 5xx', async () => {
    world.emulator.enqueue({
      error: { name: 'ValidationException', message: 'The provided request is not valid' },
    });
    const err = await world.client.messages
      .create({ model: OPEN_MODEL, max_tokens: 100, messages: user('hi') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe('messages.stream', () => {
  it('streams text that folds into the final message, with usage', async () => {
    world.emulator.enqueue({
      text: 'one two three four five six',
      chunkSize: 4,
      usage: { inputTokens: 9, outputTokens: 6 },
    });
    const stream = world.client.messages.stream({
      model: OPEN_MODEL,
      max_tokens: 100,
      messages: user('count'),
    });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const message = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe('one two three four five six');
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'one two three four five six' }),
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 9, output_tokens: 6 });
    expect(message.stop_reason).toBe('end_turn');
  });

  it('sends event lines, a ping right after message_start, and SSE headers', async () => {
    world.emulator.enqueue({ text: 'hi' });
    const res = await fetch(`${world.gateway.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'x-api-key': MASTER_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({ model: OPEN_MODEL, max_tokens: 50, stream: true, messages: user('hi') }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const events = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events.slice(0, 2)).toEqual(['message_start', 'ping']);
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });

  it('turns an upstream error before the first event into an HTTP error with retry-after', async () => {
    world.emulator.enqueue({ error: { name: 'ThrottlingException' } });
    const stream = world.client.messages.stream({ model: OPEN_MODEL, max_tokens: 100, messages: user('hi') });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBeTruthy();
  });

  it('reports a mid-stream failure as an error event the SDK throws', async () => {
    world.emulator.enqueue({
      text: 'this answer will break in the middle',
      chunkSize: 3,
      errorAfterEvents: { events: 4, name: 'ModelStreamErrorException', message: 'model crashed' },
    });
    const stream = world.client.messages.stream({ model: OPEN_MODEL, max_tokens: 100, messages: user('hi') });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
  });

  it('aborts the upstream call when the client goes away', async () => {
    world.emulator.enqueue({ text: 'slow '.repeat(200), chunkSize: 5, chunkDelayMs: 20 });
    const controller = new AbortController();
    const stream = world.client.messages.stream(
      { model: OPEN_MODEL, max_tokens: 1000, messages: user('hi') },
      { signal: controller.signal },
    );
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    controller.abort();
    await stream.finalMessage().catch(() => undefined);
    await expect
      .poll(() => world.emulator.requests.filter((r) => r.operation === 'ConverseStream').at(-1)?.aborted, {
        timeout: 3000,
      })
      .toBe(true);
  });
});

describe('count_tokens and models', () => {
  it('counts tokens with Bedrock CountTokens where the model has it', async () => {
    const { data, response } = await world.client.messages
      .countTokens({ model: 'claude-haiku-4-5', messages: user('count these words please') })
      .withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-abproxy-token-count')).toBe('bedrock');
    const call = world.emulator.requests.find((r) => r.operation === 'CountTokens');
    expect(call?.modelId).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(call?.status).toBe(200);
    // Claude is counted on the native body it would be sent, so tools/thinking count as they will.
    expect(JSON.stringify(call?.body)).toContain('invokeModel');
  });

  it('estimates tokens where Bedrock cannot count them', async () => {
    const short = await world.client.messages.countTokens({ model: OPEN_MODEL, messages: user('hi') });
    const long = await world.client.messages.countTokens({
      model: OPEN_MODEL,
      messages: user('many words '.repeat(200)),
    });
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
    expect(world.emulator.requests.some((r) => r.operation === 'CountTokens')).toBe(false);
  });

  it('lists models in Anthropic shape and finds one by id', async () => {
    const page = await world.client.models.list({ limit: 1000 });
    const ids = page.data.map((m) => m.id);
    expect(ids.some((id) => id.includes('claude'))).toBe(true);
    const first = page.data[0]!;
    expect((await world.client.models.retrieve(first.id)).id).toBe(first.id);
    await expect(world.client.models.retrieve('no-such-model-anywhere')).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
  });
});

describe('upstream connections', () => {
  it('reuses keep-alive connections to Bedrock across calls', async () => {
    world.emulator.reset();
    for (let i = 0; i < 6; i++) world.emulator.enqueue({ text: `answer ${i}` });
    for (let i = 0; i < 3; i++)
      await world.client.messages.create({ model: OPEN_MODEL, max_tokens: 10, messages: user('x') });
    await Promise.all(
      [0, 1, 2].map(() =>
        world.client.messages.create({ model: OPEN_MODEL, max_tokens: 10, messages: user('y') }),
      ),
    );
    // Six calls: sequential ones share a socket; the parallel burst adds at most two more.
    expect(world.emulator.connections).toBeLessThanOrEqual(3);
  });

  it('counts calls that wait for a connection at ABPROXY_UPSTREAM_MAX_CONNECTIONS', async () => {
    const narrow = await startGateway({ upstreamMaxConnections: 1 });
    try {
      world.emulator.reset();
      for (let i = 0; i < 3; i++) world.emulator.enqueue({ text: `slow ${i}`, delayMs: 200 });
      await Promise.all(
        [0, 1, 2].map(() =>
          narrow.client.messages.create({ model: OPEN_MODEL, max_tokens: 10, messages: user('z') }),
        ),
      );
      const metrics = await fetch(`${narrow.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^abproxy_upstream_connection_waits_total 2$/m);
    } finally {
      await narrow.server.close();
    }
  });
});

describe('HTTP/2 upstream (ABPROXY_UPSTREAM_HTTP=2)', () => {
  // Abort over HTTP/2 is not asserted: Node's http2 compat layer emits 'finish' before 'close' even on
  // RST_STREAM, so the emulator cannot tell an aborted stream from a finished one.
  it('multiplexes concurrent calls over one connection', async () => {
    const h2 = await startGateway({ upstreamHttp: '2' });
    try {
      world.emulator.reset();
      for (let i = 0; i < 4; i++) world.emulator.enqueue({ text: `h2 answer ${i}` });
      const answers = await Promise.all(
        [0, 1, 2, 3].map(() =>
          h2.client.messages.create({ model: OPEN_MODEL, max_tokens: 10, messages: user('x') }),
        ),
      );
      expect(answers.every((a) => a.content[0]?.type === 'text')).toBe(true);
      const calls = world.emulator.requests.filter((r) => r.operation === 'Converse');
      expect(calls.map((r) => r.httpVersion)).toEqual(['2', '2', '2', '2']);
      expect(world.emulator.connections).toBe(1);
    } finally {
      await h2.server.close();
    }
  });
});

describe('feature switches and warnings', () => {
  const thinking = { type: 'enabled' as const, budget_tokens: 2048 };

  it('forwards thinking to Claude by default', async () => {
    world.emulator.enqueue({ text: 'ok' });
    await world.client.messages.create({ model: MODEL, max_tokens: 4096, thinking, messages: user('think') });
    const body = world.emulator.requests.filter((r) => r.operation === 'InvokeModel').at(-1)?.body;
    expect(JSON.stringify(body)).toContain('budget_tokens');
  });

  it('says what the response translation lost in x-abproxy-warnings (non-stream)', async () => {
    world.emulator.enqueue({ text: 'ok', stopReason: 'brand_new_reason' });
    const { response } = await world.client.messages
      .create({ model: OPEN_MODEL, max_tokens: 10, messages: user('x') })
      .withResponse();
    expect(response.headers.get('x-abproxy-warnings')).toContain('brand_new_reason');
  });

  it('ENABLE_EXTENDED_THINKING=false drops thinking and says so in x-abproxy-warnings', async () => {
    const off = await startGateway(
      {},
      { ENABLE_EXTENDED_THINKING: 'false', PROMPT_CACHING_ENABLED: 'false' },
    );
    try {
      world.emulator.enqueue({ text: 'ok' });
      const { response } = await off.client.messages
        .create({
          model: MODEL,
          max_tokens: 4096,
          thinking,
          system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
          messages: user('think'),
        })
        .withResponse();
      const body = JSON.stringify(
        world.emulator.requests.filter((r) => r.operation === 'InvokeModel').at(-1)?.body,
      );
      expect(body).not.toContain('budget_tokens');
      expect(body).not.toContain('cache_control');
      expect(response.headers.get('x-abproxy-warnings')).toMatch(/^\d+; /);
    } finally {
      await off.server.close();
    }
  });
});

describe('graceful stop', () => {
  it('lets an in-flight stream finish, then refuses new connections', async () => {
    const g = await startGateway();
    world.emulator.enqueue({ text: 'still going '.repeat(10), chunkSize: 6, chunkDelayMs: 10 });
    const stream = g.client.messages.stream({ model: OPEN_MODEL, max_tokens: 500, messages: user('hi') });
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    const closed = g.server.close();
    const message = await stream.finalMessage();
    expect(message.content[0]).toMatchObject({ text: 'still going '.repeat(10) });
    await closed;
    await expect(fetch(`${g.url}/health`)).rejects.toThrow();
  });
});

describe('Bedrock API keys', () => {
  it.each(['1.1', '2'] as const)(
    'sends AWS_BEARER_TOKEN_BEDROCK as a bearer token instead of SigV4 (HTTP/%s)',
    async (upstreamHttp) => {
      const g = await startGateway(
        { upstreamHttp },
        { AWS_BEARER_TOKEN_BEDROCK: 'bedrock-api-key-for-tests' },
      );
      try {
        world.emulator.enqueue({ text: 'keyed' });
        const answer = await g.client.messages.create({
          model: OPEN_MODEL,
          max_tokens: 10,
          messages: user('x'),
        });
        expect(answer.content[0]).toMatchObject({ text: 'keyed' });
        const call = world.emulator.requests.filter((r) => r.operation === 'Converse').at(-1);
        expect(call?.headers.authorization).toBe('Bearer bedrock-api-key-for-tests');
      } finally {
        await g.server.close();
      }
    },
  );
});
