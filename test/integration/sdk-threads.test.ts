/**
 * Message threads (the `thread` field), driven by the official SDK's own thread users: `toolRunner`
 * (which threads by default) and `beta.messages.thread()`. The gateway holds the conversation between
 * turns, so each request sends only the new messages, while Bedrock still gets the whole history; a
 * thread it does not hold is 404 `thread_not_found`, and the SDK replays the conversation.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, type Json, storeKey } from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';

const setup = gatewayWithEmulator();

/** The client's own requests to the gateway, as sent (to see what the SDK put in `thread`). */
function recordingClient(apiKey?: string) {
  const sent: Json[] = [];
  const client = new Anthropic({
    baseURL: setup.gateway.url,
    apiKey: apiKey ?? setup.client.apiKey!,
    maxRetries: 0,
    fetch: async (url, init) => {
      if (String(url).endsWith('/v1/messages') && typeof init?.body === 'string')
        sent.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
  return { client, sent };
}

/** Texts of each message of a model call Bedrock received, Converse or InvokeModel alike. */
function upstreamTexts(body: Json): string[] {
  const messages = body.messages as { content: string | Array<Record<string, unknown>> }[];
  return messages.flatMap((m) =>
    (typeof m.content === 'string' ? [{ text: m.content }] : m.content).map((block) => {
      const result = (block.toolResult ?? block) as Record<string, unknown>;
      if (typeof block.text === 'string') return block.text;
      if (block.type === 'tool_result' || block.toolResult) return `result:${JSON.stringify(result.content)}`;
      if (block.type === 'tool_use' || block.toolUse) return 'tool_use';
      return String(block.type ?? Object.keys(block)[0]);
    }),
  );
}

describe.each([
  ['Claude (InvokeModel)', CLAUDE, 'InvokeModel', 'InvokeModelWithResponseStream'],
  ['an open model (Converse)', QWEN, 'Converse', 'ConverseStream'],
] as const)('message threads on %s', (_name, model, operation, streamOperation) => {
  it.each([false, true])(
    'toolRunner runs a two-tool loop to its end (stream: %s), each turn sending only its new messages',
    async (stream) => {
      setup.emulator.enqueue(
        {
          text: 'Checking both.',
          toolCalls: [
            { name: 'add', input: { a: 1, b: 2 }, id: 'tooluse_1' },
            { name: 'fail', input: {}, id: 'tooluse_2' },
          ],
        },
        { text: 'Result: {{toolResult}}' },
      );
      const { client, sent } = recordingClient();
      const runner = client.beta.messages.toolRunner({
        model,
        max_tokens: 500,
        stream,
        messages: [{ role: 'user', content: 'add 1 and 2, then fail' }],
        tools: [
          {
            name: 'add',
            description: 'adds',
            input_schema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
            run: async (input: { a: number; b: number }) => String(input.a + input.b),
          },
          {
            name: 'fail',
            description: 'fails',
            input_schema: { type: 'object', properties: {} },
            run: async () => {
              throw new Error('tool exploded');
            },
          },
        ],
      } as Parameters<typeof client.beta.messages.toolRunner>[0]);
      const final = await runner.runUntilDone();
      expect(final.content.at(-1)).toMatchObject({ type: 'text' });
      expect((final.content.at(-1) as { text: string }).text).toMatch(/^Result: /);

      // The SDK threaded: the second request continued the first reply with the tool results alone.
      expect(sent).toHaveLength(2);
      expect(sent[0]!.thread).toEqual({ type: 'create' });
      expect(sent[1]!.thread).toMatchObject({ type: 'continue' });
      expect((sent[1]!.messages as unknown[]).length).toBe(1);
      expect(sent[1]!.tools).toBeUndefined();

      // Bedrock got the whole conversation on the second call, with the tools.
      const calls = setup.calls(stream ? streamOperation : operation);
      expect(calls).toHaveLength(2);
      const second = calls[1]!.body as Json;
      const texts = upstreamTexts(second);
      expect(texts[0]).toBe('add 1 and 2, then fail');
      expect(texts).toContain('tool_use');
      expect(texts.join(' ')).toMatch(/result:.*3/);
      expect(texts.join(' ')).toMatch(/tool exploded/);
      expect(JSON.stringify(second)).toMatch(/"add"/);
    },
  );

  it('beta.messages.thread() keeps the conversation across three turns', async () => {
    const { client, sent } = recordingClient();
    const thread = client.beta.messages.thread({ model, max_tokens: 100, system: 'Be brief.' });
    await thread.send({ role: 'user', content: 'My name is Ada.' });
    await thread.send({ role: 'user', content: 'I like tea.' });
    const third = await thread.send({ role: 'user', content: 'What is my name?' });
    expect(third.content[0]).toMatchObject({ type: 'text', text: 'Echo: What is my name?' });
    expect(sent.map((body) => (body.thread as { type: string }).type)).toEqual([
      'create',
      'continue',
      'continue',
    ]);
    const last = setup.calls(operation).at(-1)!.body as Json;
    expect(upstreamTexts(last)).toEqual([
      'My name is Ada.',
      'Echo: My name is Ada.',
      'I like tea.',
      'Echo: I like tea.',
      'What is my name?',
    ]);
    expect(JSON.stringify(last)).toMatch(/Be brief\./);
  });
});

describe('threads the gateway does not hold', () => {
  it('another key cannot continue a thread: 404 thread_not_found, and the SDK replays the whole conversation', async () => {
    const { client } = recordingClient();
    const first = await client.beta.messages.create({
      model: QWEN,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'secret plans' }],
      thread: { type: 'create' },
    } as Parameters<typeof client.beta.messages.create>[0]);
    const { secret } = await storeKey(setup.gateway.store);
    const res = await fetch(`${setup.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: QWEN,
        max_tokens: 50,
        messages: [{ role: 'user', content: 'what were the plans?' }],
        thread: { type: 'continue', previous_message_id: (first as { id: string }).id },
      }),
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { type: string; details: { error_code: string } } };
    expect(body.error).toMatchObject({
      type: 'not_found_error',
      details: { error_code: 'thread_not_found' },
    });
    // Nothing of the first conversation reached Bedrock for the other key.
    expect(setup.calls('Converse')).toHaveLength(1);
  });

  it("a continue whose call fails keeps its thread: the SDK's retry of the same turn finds it", async () => {
    const sent: Json[] = [];
    const client = new Anthropic({
      baseURL: setup.gateway.url,
      apiKey: setup.client.apiKey!,
      maxRetries: 2,
      fetch: async (url, init) => {
        if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
        return fetch(url, init);
      },
    });
    const thread = client.beta.messages.thread({ model: QWEN, max_tokens: 50 });
    await thread.send({ role: 'user', content: 'first' });
    setup.emulator.enqueue({
      error: { name: 'ThrottlingException', status: 429, message: 'slow down', retryAfter: 0 },
    });
    const second = await thread.send({ role: 'user', content: 'second' });
    expect(second.content[0]).toMatchObject({ text: 'Echo: second' });
    // create, the throttled continue, and its retry: a continue again, not a replay.
    expect(sent.map((body) => (body.thread as { type: string }).type)).toEqual([
      'create',
      'continue',
      'continue',
    ]);
    expect(upstreamTexts(setup.lastBody('Converse'))).toEqual(['first', 'Echo: first', 'second']);
  });

  it('a malformed thread or a continue that repeats system or tools is a 400', async () => {
    const post = (thread: unknown, extra: Record<string, unknown> = {}) =>
      fetch(`${setup.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'x-api-key': setup.client.apiKey!,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: QWEN,
          max_tokens: 50,
          messages: [{ role: 'user', content: 'x' }],
          thread,
          ...extra,
        }),
      });
    for (const [thread, extra, message] of [
      ['create', {}, /thread: expected an object/],
      [{ type: 'fork' }, {}, /thread.type/],
      [{ type: 'continue' }, {}, /previous_message_id/],
      [{ type: 'continue', previous_message_id: 'msg_1' }, { system: 'new' }, /system: a thread keeps/],
    ] as const) {
      const res = await post(thread, extra);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(setup.calls('Converse')).toHaveLength(0);
  });
});

describe('a gateway that holds no threads (a restart, another team instance, ABPROXY_THREADS_MAX_BYTES=0)', () => {
  const bare = gatewayWithEmulator({ threadsMaxBytes: 0 });

  it('the SDK gets 404 thread_not_found on each continue, replays the whole conversation, and the answers are right', async () => {
    const sent: Json[] = [];
    const statuses: number[] = [];
    const client = new Anthropic({
      baseURL: bare.gateway.url,
      apiKey: bare.client.apiKey!,
      maxRetries: 0,
      fetch: async (url, init) => {
        if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
        const res = await fetch(url, init);
        statuses.push(res.status);
        return res;
      },
    });
    const thread = client.beta.messages.thread({ model: QWEN, max_tokens: 50 });
    await thread.send({ role: 'user', content: 'My name is Ada.' });
    const second = await thread.send({ role: 'user', content: 'What is my name?' });
    expect(second.content[0]).toMatchObject({ text: 'Echo: What is my name?' });
    expect(sent.map((body) => (body.thread as { type: string }).type)).toEqual([
      'create',
      'continue',
      'create',
    ]);
    expect(statuses).toEqual([200, 404, 200]);
    expect(upstreamTexts(bare.lastBody('Converse'))).toEqual([
      'My name is Ada.',
      'Echo: My name is Ada.',
      'What is my name?',
    ]);
  });
});

describe('threads within the limits of one request', () => {
  const small = gatewayWithEmulator({ maxBodyBytes: 20_000 });

  it('a continue whose whole conversation passes the body limit is a 413, as the whole body would be', async () => {
    const { client } = { client: small.client };
    const big = 'x'.repeat(12_000);
    const first = (await client.beta.messages.create({
      model: QWEN,
      max_tokens: 20,
      messages: [{ role: 'user', content: big }],
      thread: { type: 'create' },
    } as Parameters<typeof client.beta.messages.create>[0])) as { id: string };
    const res = await fetch(`${small.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': client.apiKey!,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: QWEN,
        max_tokens: 20,
        messages: [{ role: 'user', content: 'y'.repeat(9_000) }],
        thread: { type: 'continue', previous_message_id: first.id },
      }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('request_too_large');
  });

  it('count_tokens with a continue counts the whole conversation; an unknown thread is thread_not_found', async () => {
    const client = small.client;
    const first = (await client.beta.messages.create({
      model: QWEN,
      max_tokens: 20,
      messages: [{ role: 'user', content: 'word '.repeat(400) }],
      thread: { type: 'create' },
    } as Parameters<typeof client.beta.messages.create>[0])) as { id: string };
    const count = (thread?: unknown) =>
      fetch(`${small.gateway.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: {
          'x-api-key': client.apiKey!,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({ model: QWEN, messages: [{ role: 'user', content: 'and?' }], thread }),
      });
    const alone = (await (await count()).json()) as { input_tokens: number };
    const whole = (await (await count({ type: 'continue', previous_message_id: first.id })).json()) as {
      input_tokens: number;
    };
    expect(whole.input_tokens).toBeGreaterThan(alone.input_tokens + 300);
    // Counting takes nothing away: the thread is still there to continue.
    const again = await count({ type: 'continue', previous_message_id: first.id });
    expect(again.status).toBe(200);
    const unknown = await count({ type: 'continue', previous_message_id: 'msg_never' });
    expect(unknown.status).toBe(404);
  });

  it("a thread's history keeps no cache marks from earlier turns (they would pile up past Bedrock's four)", async () => {
    const client = small.client;
    const thread = client.beta.messages.thread({
      model: CLAUDE,
      max_tokens: 20,
      system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
    });
    for (const text of ['one', 'two', 'three', 'four', 'five']) {
      await thread.send({
        role: 'user',
        content: [{ type: 'text', text, cache_control: { type: 'ephemeral' } }],
      });
    }
    const sent = JSON.stringify(small.calls('InvokeModel').at(-1)!.body);
    // The system's mark and this turn's: the earlier turns' marks were not kept.
    expect(sent.match(/cache_control/g)).toHaveLength(2);
  });
});
