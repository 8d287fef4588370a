import {
  type BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  type Message,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './server.ts';
import { runtimeClient, type Transport } from './test-clients.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const user = (text: string): Message => ({ role: 'user', content: [{ text }] });

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

async function collect(stream: AsyncIterable<ConverseStreamOutput> | undefined) {
  const events: ConverseStreamOutput[] = [];
  for await (const event of stream ?? []) events.push(event);
  return events;
}

describe.each<Transport>(['h2-default', 'h1-keepalive'])('Converse over %s', (transport) => {
  let client: BedrockRuntimeClient;
  beforeAll(() => {
    client = runtimeClient(emulator.url, transport);
  });
  afterAll(() => client.destroy());

  it('answers with a deterministic echo and records the call', async () => {
    const out = await client.send(new ConverseCommand({ modelId: SONNET, messages: [user('hello world')] }));
    expect(out.output?.message?.content).toEqual([{ text: 'Echo: hello world' }]);
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage?.inputTokens).toBeGreaterThan(0);
    const [recorded] = emulator.requests;
    expect(recorded).toMatchObject({ operation: 'Converse', modelId: SONNET, status: 200 });
    expect(recorded?.httpVersion).toBe(transport === 'h2-default' ? '2' : '1.1');
  });

  it('streams text deltas without a contentBlockStart, then stop and usage', async () => {
    emulator.enqueue({ text: 'The quick brown fox jumps', chunkSize: 5 });
    const out = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('go')] }));
    const events = await collect(out.stream);
    expect(Object.keys(events[0]!)).toEqual(['messageStart']);
    expect(events.some((e) => e.contentBlockStart)).toBe(false);
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
    expect(text).toBe('The quick brown fox jumps');
    expect(events.filter((e) => e.contentBlockDelta).length).toBe(5);
    expect(events.at(-2)?.messageStop?.stopReason).toBe('end_turn');
    expect(events.at(-1)?.metadata?.usage?.outputTokens).toBeGreaterThan(0);
  });

  it('streams a scripted tool call as a start event plus JSON input fragments', async () => {
    emulator.enqueue({
      toolCalls: [{ name: 'Read', input: { path: '/tmp/a.txt', limit: 10 }, id: 'tooluse_abc' }],
      chunkSize: 7,
    });
    const out = await client.send(
      new ConverseStreamCommand({
        modelId: SONNET,
        messages: [user('read it')],
        toolConfig: { tools: [{ toolSpec: { name: 'Read', inputSchema: { json: { type: 'object' } } } }] },
      }),
    );
    const events = await collect(out.stream);
    const start = events.find((e) => e.contentBlockStart)?.contentBlockStart;
    expect(start?.start?.toolUse).toEqual({ toolUseId: 'tooluse_abc', name: 'Read' });
    const input = events.map((e) => e.contentBlockDelta?.delta?.toolUse?.input ?? '').join('');
    expect(JSON.parse(input)).toEqual({ path: '/tmp/a.txt', limit: 10 });
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe('tool_use');
  });

  it('turns a mid-stream failure into the SDK exception after the events before it', async () => {
    emulator.enqueue({
      text: 'partial answer here',
      chunkSize: 4,
      errorAfterEvents: { events: 3, name: 'ThrottlingException', message: 'Too many tokens' },
    });
    const out = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('x')] }));
    const seen: ConverseStreamOutput[] = [];
    const error = await (async () => {
      try {
        for await (const event of out.stream ?? []) seen.push(event);
      } catch (err) {
        return err as Error;
      }
    })();
    expect(seen.length).toBe(3);
    expect(error?.name).toBe('ThrottlingException');
    expect(error?.message).toBe('Too many tokens');
  });
});

describe('Converse behaviours', () => {
  let real: BedrockRuntimeClient;
  beforeAll(() => {
    real = runtimeClient(emulator.url, 'h1-keepalive');
  });
  afterAll(() => real.destroy());

  it('calls a tool when asked to `use tool NAME` and accepts the tool result next turn', async () => {
    const toolConfig = {
      tools: [{ toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object' } } } }],
    };
    const first = await real.send(
      new ConverseCommand({ modelId: SONNET, messages: [user('please use tool get_time')], toolConfig }),
    );
    expect(first.stopReason).toBe('tool_use');
    const call = first.output?.message?.content?.[0]?.toolUse;
    expect(call?.name).toBe('get_time');
    expect(call?.toolUseId).toMatch(/^tooluse_/);
    const second = await real.send(
      new ConverseCommand({
        modelId: SONNET,
        toolConfig,
        messages: [
          user('please use tool get_time'),
          { role: 'assistant', content: first.output?.message?.content as ContentBlock[] },
          {
            role: 'user',
            content: [{ toolResult: { toolUseId: call!.toolUseId!, content: [{ text: '12:00' }] } }],
          },
        ],
      }),
    );
    expect(second.output?.message?.content?.[0]?.text).toBe('Echo: 12:00');
  });

  it('returns signed reasoning for Claude with thinking and accepts it back unchanged only', async () => {
    const thinking = { thinking: { type: 'enabled', budget_tokens: 1024 } };
    const toolConfig = { tools: [{ toolSpec: { name: 'ls', inputSchema: { json: { type: 'object' } } } }] };
    const first = await real.send(
      new ConverseCommand({
        modelId: SONNET,
        messages: [user('use tool ls')],
        toolConfig,
        inferenceConfig: { maxTokens: 4000 },
        additionalModelRequestFields: thinking,
      }),
    );
    const content = first.output?.message?.content as ContentBlock[];
    const reasoning = content[0]?.reasoningContent?.reasoningText;
    expect(reasoning?.text).toBeTruthy();
    expect(reasoning?.signature).toBeTruthy();
    const toolUseId = content[1]?.toolUse?.toolUseId as string;
    const followUp = (assistant: ContentBlock[]) =>
      real.send(
        new ConverseCommand({
          modelId: SONNET,
          toolConfig,
          inferenceConfig: { maxTokens: 4000 },
          additionalModelRequestFields: thinking,
          messages: [
            user('use tool ls'),
            { role: 'assistant', content: assistant },
            { role: 'user', content: [{ toolResult: { toolUseId, content: [{ text: 'a b c' }] } }] },
          ],
        }),
      );
    await expect(followUp(content)).resolves.toBeDefined();
    const tampered: ContentBlock[] = [
      {
        reasoningContent: {
          reasoningText: { text: `${reasoning?.text} (edited)`, signature: reasoning?.signature },
        },
      },
      content[1]!,
    ];
    await expect(followUp(tampered)).rejects.toThrow(/Invalid `signature` in `thinking` block/);
    await expect(followUp([content[1]!])).rejects.toThrow(
      /Expected `thinking` or `redacted_thinking`, but found `tool_use`/,
    );
  });

  it('reasons first on always-reasoning open models, without a signature', async () => {
    const out = await real.send(
      new ConverseCommand({ modelId: 'openai.gpt-oss-120b-1:0', messages: [user('think')] }),
    );
    const [first, second] = out.output?.message?.content ?? [];
    expect(first?.reasoningContent?.reasoningText?.text).toContain('think');
    expect(first?.reasoningContent?.reasoningText?.signature).toBeUndefined();
    expect(second?.text).toBe('Echo: think');
  });

  it('cites a searchResult that asks for citations (Claude), both as citationsContent and as a citation delta', async () => {
    const searchResult = {
      source: 'https://docs.example',
      title: 'Docs',
      content: [{ text: 'The answer is 42.' }],
      citations: { enabled: true },
    };
    const messages: Message[] = [{ role: 'user', content: [{ searchResult }, { text: 'what is it?' }] }];
    const citation = {
      title: 'Docs',
      source: 'https://docs.example',
      sourceContent: [{ text: 'The answer is 42.' }],
      location: { searchResultLocation: { searchResultIndex: 0, start: 0, end: 1 } },
    };
    const out = await real.send(new ConverseCommand({ modelId: SONNET, messages }));
    expect(out.output?.message?.content?.[1]).toEqual({
      citationsContent: { content: [{ text: 'The answer is 42.' }], citations: [citation] },
    });
    const streamed = await collect(
      (await real.send(new ConverseStreamCommand({ modelId: SONNET, messages }))).stream,
    );
    expect(streamed.map((e) => e.contentBlockDelta?.delta?.citation).filter(Boolean)).toEqual([citation]);

    const refused = real.send(new ConverseCommand({ modelId: 'qwen.qwen3-32b-v1:0', messages }));
    await expect(refused).rejects.toThrow(/doesn't support the searchResult field/);
  });

  it('stops at maxTokens with stopReason max_tokens', async () => {
    emulator.enqueue({ text: 'x'.repeat(400) });
    const out = await real.send(
      new ConverseCommand({
        modelId: 'qwen.qwen3-32b-v1:0',
        messages: [user('long')],
        inferenceConfig: { maxTokens: 10 },
      }),
    );
    expect(out.stopReason).toBe('max_tokens');
    expect(out.output?.message?.content?.[0]?.text).toHaveLength(40);
    expect(out.usage?.outputTokens).toBe(10);
  });

  it('writes then reads the prompt cache across two identical calls', async () => {
    const system = [
      { text: 'You are a careful assistant. '.repeat(50) },
      { cachePoint: { type: 'default' as const } },
    ];
    const call = () => real.send(new ConverseCommand({ modelId: SONNET, system, messages: [user('hi')] }));
    const first = await call();
    const second = await call();
    expect(first.usage?.cacheWriteInputTokens).toBeGreaterThan(0);
    expect(first.usage?.cacheReadInputTokens).toBe(0);
    expect(second.usage?.cacheReadInputTokens).toBe(first.usage?.cacheWriteInputTokens);
  });

  it('fails with a scripted exception, keeping name, status and message', async () => {
    emulator.enqueue({
      error: { name: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
    });
    const error = await real
      .send(new ConverseCommand({ modelId: SONNET, messages: [user('x')] }))
      .catch((e) => e);
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata.httpStatusCode).toBe(429);
    expect(error.message).toBe('Too many requests, please wait before trying again.');
  });

  it('applies a script only to the model it names', async () => {
    emulator.enqueue({ model: 'nova', text: 'from nova script' });
    const claude = await real.send(new ConverseCommand({ modelId: SONNET, messages: [user('a')] }));
    const nova = await real.send(
      new ConverseCommand({ modelId: 'us.amazon.nova-pro-v1:0', messages: [user('b')] }),
    );
    expect(claude.output?.message?.content?.[0]?.text).toBe('Echo: a');
    expect(nova.output?.message?.content?.[0]?.text).toBe('from nova script');
  });

  it('records a stream the client aborted', async () => {
    emulator.enqueue({ text: 'slow '.repeat(40), chunkSize: 5, chunkDelayMs: 20 });
    const controller = new AbortController();
    const out = await real.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('x')] }), {
      abortSignal: controller.signal,
    });
    let count = 0;
    await (async () => {
      for await (const _event of out.stream ?? []) {
        count += 1;
        if (count === 3) controller.abort();
      }
    })().catch(() => undefined);
    await expect.poll(() => emulator.requests[0]?.aborted, { timeout: 2000 }).toBe(true);
  });
});

describe('connection counting', () => {
  it('shows a keep-alive HTTP/1.1 client reusing one connection for sequential calls', async () => {
    const client = runtimeClient(emulator.url, 'h1-keepalive');
    for (let i = 0; i < 5; i++)
      await client.send(new ConverseCommand({ modelId: SONNET, messages: [user(`n${i}`)] }));
    expect(emulator.connections).toBe(1);
    client.destroy();
  });

  it('counts each connection the default HTTP/2 handler opens', async () => {
    const client = runtimeClient(emulator.url, 'h2-default');
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        client.send(new ConverseCommand({ modelId: SONNET, messages: [user(`c${i}`)] })),
      ),
    );
    // The SDK's default handler disables concurrent streams: one connection per in-flight call.
    expect(emulator.connections).toBe(4);
    expect(emulator.requests.every((r) => r.httpVersion === '2')).toBe(true);
    client.destroy();
  });
});
