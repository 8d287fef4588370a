import { ConverseCommand, type ConverseCommandInput, type Message } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './server.ts';
import { runtimeClient } from './test-clients.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const user = (text: string): Message => ({ role: 'user', content: [{ text }] });
const tool = (name: string) => ({ toolSpec: { name, inputSchema: { json: { type: 'object' } } } });

let emulator: Emulator;
let client: ReturnType<typeof runtimeClient>;
beforeAll(async () => {
  emulator = await startEmulator();
  client = runtimeClient(emulator.url, 'h1-keepalive');
});
afterAll(async () => {
  client.destroy();
  await emulator.close();
});

async function rejection(input: Partial<ConverseCommandInput>) {
  const error = await client
    .send(new ConverseCommand({ modelId: SONNET, messages: [user('hi')], ...input } as ConverseCommandInput))
    .then(
      () => undefined,
      (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
    );
  expect(error, 'the request should have been refused').toBeDefined();
  return { name: error!.name, status: error!.$metadata?.httpStatusCode, message: error!.message };
}

describe('Converse validation', () => {
  const cases: [string, Partial<ConverseCommandInput>, RegExp][] = [
    [
      'text beside tool results in one user turn (an open model)',
      {
        modelId: 'qwen.qwen3-coder-480b-a35b-v1:0',
        messages: [
          user('go'),
          { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'a', input: {} } }] },
          {
            role: 'user',
            content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'ok' }] } }, { text: 'and?' }],
          },
        ],
        toolConfig: { tools: [tool('a')] },
      },
      /Conversation blocks and tool result blocks cannot be provided in the same turn/,
    ],
    [
      "Bedrock's own tool call id in a Mistral history (Mistral takes 9 letters or digits only)",
      {
        modelId: 'mistral.mistral-large-2407-v1:0',
        messages: [
          user('go'),
          {
            role: 'assistant',
            content: [{ toolUse: { toolUseId: 'tooluse_bpe71yCfRu2b5i-nKGDr5g', name: 'a', input: {} } }],
          },
          {
            role: 'user',
            content: [
              { toolResult: { toolUseId: 'tooluse_bpe71yCfRu2b5i-nKGDr5g', content: [{ text: 'ok' }] } },
            ],
          },
        ],
        toolConfig: { tools: [tool('a')] },
      },
      /Tool call id was tooluse_bpe71yCfRu2b5i-nKGDr5g but must be a-z, A-Z, 0-9, with a length of 9/,
    ],
    [
      'an image inside a tool result for a vision model other than Claude, Nova and Llama (Pixtral)',
      {
        modelId: 'us.mistral.pixtral-large-2502-v1:0',
        messages: [
          user('look'),
          { role: 'assistant', content: [{ toolUse: { toolUseId: 'a1B2c3D4e', name: 'a', input: {} } }] },
          {
            role: 'user',
            content: [
              {
                toolResult: {
                  toolUseId: 'a1B2c3D4e',
                  content: [{ image: { format: 'png', source: { bytes: new Uint8Array(100) } } }],
                },
              },
            ],
          },
        ],
        toolConfig: { tools: [tool('a')] },
      },
      /This model doesn't support the image field for user messages/,
    ],
    [
      'conversation starting with assistant',
      { messages: [{ role: 'assistant', content: [{ text: 'x' }] }] },
      /must start with a user message/,
    ],
    [
      'two user turns in a row',
      { messages: [user('a'), user('b')] },
      /must alternate between user and assistant roles/,
    ],
    [
      'whitespace-only text',
      { messages: [user('   ')] },
      /text field in the ContentBlock object at messages\.0\.content\.0 is blank/,
    ],
    [
      'empty content',
      { messages: [{ role: 'user', content: [] }] },
      /content field in the Message object at messages\.0 is empty/,
    ],
    [
      'tool use without a result',
      {
        toolConfig: { tools: [tool('ls')] },
        messages: [
          user('a'),
          { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'ls', input: {} } }] },
          user('b'),
        ],
      },
      /Expected toolResult blocks at messages\.2\.content for the following Ids: tooluse_1/,
    ],
    [
      'tool blocks without toolConfig',
      {
        messages: [
          user('a'),
          { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'ls', input: {} } }] },
          { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'ok' }] } }] },
        ],
      },
      /toolConfig field must be defined when using toolUse and toolResult content blocks/,
    ],
    [
      'a dotted tool name',
      { toolConfig: { tools: [tool('mcp.server.tool')] } },
      /toolSpec\.name' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    ],
    [
      'a 65-character tool name',
      { toolConfig: { tools: [tool('a'.repeat(65))] } },
      /Member must have length less than or equal to 64/,
    ],
    [
      'a non-object input schema',
      { toolConfig: { tools: [{ toolSpec: { name: 'x', inputSchema: { json: { type: 'string' } } } }] } },
      /input_schema\.type: Input should be 'object'/,
    ],
    [
      'maxTokens over the model limit',
      { inferenceConfig: { maxTokens: 64_001 } },
      /exceeds the model limit of 64000/,
    ],
    [
      'temperature above 1',
      { inferenceConfig: { temperature: 1.5 } },
      /inferenceConfig\.temperature' failed to satisfy constraint: Member must have value less than or equal to 1/,
    ],
    [
      'an unknown additional field',
      { additionalModelRequestFields: { reasoning_effort: 'high' } },
      /extraneous key \[reasoning_effort\] is not permitted/,
    ],
    [
      'an unknown beta',
      { additionalModelRequestFields: { anthropic_beta: ['made-up-2099-01-01'] } },
      /invalid beta flag/,
    ],
    ['flex tier on Claude', { serviceTier: { type: 'flex' } }, /service tier \(flex\) is not supported/],
    [
      'five cache points',
      {
        system: [
          { text: 'a' },
          ...Array.from({ length: 5 }, () => ({ cachePoint: { type: 'default' as const } })),
        ],
      },
      /A maximum of 4 blocks with cache_control may be provided\. Found 5\./,
    ],
    [
      'a thinking budget below 1024',
      { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 500 } } },
      /budget_tokens: Input should be greater than or equal to 1024/,
    ],
    [
      'thinking.display on an older Claude',
      {
        additionalModelRequestFields: {
          thinking: { type: 'enabled', budget_tokens: 2000, display: 'omitted' },
        },
        inferenceConfig: { maxTokens: 4000 },
      },
      /thinking\.enabled\.display: Extra inputs are not permitted/,
    ],
    [
      'thinking.display on Opus 4.6 (taken from Opus 4.7 on)',
      {
        modelId: 'us.anthropic.claude-opus-4-6-v1',
        additionalModelRequestFields: { thinking: { type: 'adaptive', display: 'summarized' } },
      },
      /thinking\.adaptive\.display: Extra inputs are not permitted/,
    ],
    [
      'a thinking budget on Opus 4.7 (adaptive only)',
      {
        modelId: 'us.anthropic.claude-opus-4-7',
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2000 } },
        inferenceConfig: { maxTokens: 4000 },
      },
      /"thinking\.type\.enabled" is not supported for this model/,
    ],
    [
      'temperature on Opus 4.7 (sampling parameters removed)',
      { modelId: 'us.anthropic.claude-opus-4-7', inferenceConfig: { temperature: 0.5 } },
      /`temperature` is deprecated for this model/,
    ],
    [
      'top_k on Opus 4.7',
      { modelId: 'us.anthropic.claude-opus-4-7', additionalModelRequestFields: { top_k: 5 } },
      /`top_k` is deprecated for this model/,
    ],
    [
      'adaptive thinking on Sonnet 4.5',
      { additionalModelRequestFields: { thinking: { type: 'adaptive' } } },
      /Input tag 'adaptive' found using 'type'/,
    ],
    [
      'a document with a bad name',
      {
        messages: [
          {
            role: 'user',
            content: [
              {
                document: { format: 'txt', name: 'notes.txt', source: { bytes: new Uint8Array([104, 105]) } },
              },
              { text: 'read' },
            ],
          },
        ],
      },
      /document file name can only contain/,
    ],
  ];

  it.each(cases)('refuses %s', async (_label, input, message) => {
    const error = await rejection(input);
    expect(error).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(error.message).toMatch(message);
  });

  it("takes a Mistral history whose tool call ids are Mistral's own nine letters or digits", async () => {
    const use = { toolUse: { toolUseId: 'a1B2c3D4e', name: 'a', input: {} } };
    const result = { toolResult: { toolUseId: 'a1B2c3D4e', content: [{ text: 'ok' }] } };
    const answer = await client.send(
      new ConverseCommand({
        modelId: 'mistral.mistral-large-2407-v1:0',
        messages: [user('go'), { role: 'assistant', content: [use] }, { role: 'user', content: [result] }],
        toolConfig: { tools: [tool('a')] },
      }),
    );
    expect(answer.stopReason).toBe('end_turn');
  });

  it('refuses toolChoice any on a model that only takes auto', async () => {
    const error = await rejection({
      modelId: 'us.meta.llama3-3-70b-instruct-v1:0',
      toolConfig: { tools: [tool('ls')], toolChoice: { any: {} } },
    });
    expect(error.message).toBe(
      "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again.",
    );
  });

  it('refuses images for a text-only model and reasoning history for a non-reasoning one', async () => {
    const image = await rejection({
      modelId: 'us.amazon.nova-micro-v1:0',
      messages: [
        {
          role: 'user',
          content: [{ image: { format: 'png', source: { bytes: new Uint8Array(100) } } }, { text: 'see' }],
        },
      ],
    });
    expect(image.message).toMatch(/doesn't support the image field/);
    const reasoning = await rejection({
      modelId: 'qwen.qwen3-32b-v1:0',
      messages: [
        user('a'),
        {
          role: 'assistant',
          content: [{ reasoningContent: { reasoningText: { text: 'hm' } } }, { text: 'b' }],
        },
        user('c'),
      ],
    });
    expect(reasoning.message).toMatch(/doesn't support the reasoningContent field/);
    // DeepSeek-R1 reasons, yet refuses its reasoning back.
    const r1 = await rejection({
      modelId: 'us.deepseek.r1-v1:0',
      messages: [
        user('a'),
        {
          role: 'assistant',
          content: [{ reasoningContent: { reasoningText: { text: 'hm' } } }, { text: 'b' }],
        },
        user('c'),
      ],
    });
    expect(r1.message).toMatch(/cannot contain reasoning content/);
  });

  it('requires an inference profile for Claude 4 on demand, and knows profile geographies', async () => {
    const bare = await rejection({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0' });
    expect(bare.message).toMatch(
      /with on-demand throughput isn’t supported\. Retry your request with the ID or ARN of an inference profile/,
    );
    const wrongGeo = await rejection({ modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0' });
    expect(wrongGeo.message).toBe('The provided model identifier is invalid.');
    const arn =
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0';
    await expect(
      client.send(new ConverseCommand({ modelId: arn, messages: [user('hi')] })),
    ).resolves.toBeDefined();
    // An ARN names the endpoint's region and, for a profile, the caller's own account.
    const send = (modelId: string) =>
      client.send(new ConverseCommand({ modelId, messages: [user('hi')] })).catch((e) => e);
    const otherAccount = await send(arn.replace('123456789012', '999999999999'));
    expect(otherAccount.name).toBe('AccessDeniedException');
    const otherRegion = await send(arn.replace('us-east-1', 'us-west-2'));
    expect(otherRegion.message).toBe('The provided model identifier is invalid.');
    const qwenArn = 'arn:aws:bedrock:us-east-1::foundation-model/qwen.qwen3-coder-480b-a35b-v1:0';
    expect((await send(qwenArn)).output).toBeDefined();
    const withAccount = await send(qwenArn.replace('::', ':123456789012:'));
    expect(withAccount.message).toBe('The provided model identifier is invalid.');
    await expect(
      client.send(
        new ConverseCommand({ modelId: 'qwen.qwen3-coder-480b-a35b-v1:0', messages: [user('hi')] }),
      ),
    ).resolves.toBeDefined();
  });

  it('takes outputConfig.effort only on Claude models with effort', async () => {
    const sonnet45 = await rejection({ outputConfig: { effort: 'high' } });
    expect(sonnet45.message).toMatch(/doesn't support the outputConfig\.effort field/);
    const qwen = await rejection({ modelId: 'qwen.qwen3-32b-v1:0', outputConfig: { effort: 'low' } });
    expect(qwen.message).toMatch(/outputConfig\.effort/);
    const badLevel = await rejection({
      modelId: 'us.anthropic.claude-sonnet-4-6',
      outputConfig: { effort: 'extreme' },
    });
    expect(badLevel.message).toMatch(/outputConfig\.effort/);
    for (const modelId of ['us.anthropic.claude-sonnet-4-6', 'us.anthropic.claude-opus-4-5-20251101-v1:0']) {
      await expect(
        client.send(
          new ConverseCommand({ modelId, messages: [user('hi')], outputConfig: { effort: 'medium' } }),
        ),
      ).resolves.toBeDefined();
    }
  });

  it('takes structured outputs (outputConfig.textFormat, tool strict) only on models that have them', async () => {
    const textFormat = {
      type: 'json_schema' as const,
      structure: { jsonSchema: { schema: '{"type":"object"}' } },
    };
    const strictTool = { toolSpec: { ...tool('ls').toolSpec, strict: true } };
    for (const modelId of ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'minimax.minimax-m2']) {
      const format = await rejection({ modelId, outputConfig: { textFormat } });
      expect(format.message).toMatch(/doesn't support the outputConfig\.textFormat field/);
      const strict = await rejection({ modelId, toolConfig: { tools: [strictTool] } });
      expect(strict.message).toMatch(/doesn't support the toolConfig\.tools\.0\.toolSpec\.strict field/);
    }
    for (const modelId of [SONNET, 'qwen.qwen3-32b-v1:0', 'openai.gpt-oss-120b-1:0']) {
      await expect(
        client.send(
          new ConverseCommand({
            modelId,
            messages: [user('hi')],
            outputConfig: { textFormat },
            toolConfig: { tools: [strictTool] },
          }),
        ),
      ).resolves.toBeDefined();
    }
  });

  it('Opus 4.7 takes thinking.display and omits the thinking text unless it says summarized', async () => {
    const thinkingOf = async (display?: string) => {
      const out = await client.send(
        new ConverseCommand({
          modelId: 'global.anthropic.claude-opus-4-7',
          messages: [user('why?')],
          additionalModelRequestFields: { thinking: { type: 'adaptive', ...(display ? { display } : {}) } },
        }),
      );
      return out.output?.message?.content?.[0]?.reasoningContent?.reasoningText;
    };
    expect((await thinkingOf('summarized'))?.text).toMatch(/The user wrote: why\?/);
    for (const display of [undefined, 'omitted']) {
      const omitted = await thinkingOf(display);
      expect(omitted?.text).toBe('');
      expect(omitted?.signature).toBeTruthy();
    }
  });

  it('takes a 1-hour cachePoint TTL on Claude 4.5 and later only', async () => {
    const marked = [
      {
        role: 'user' as const,
        content: [{ text: 'hi' }, { cachePoint: { type: 'default' as const, ttl: '1h' as const } }],
      },
    ];
    await expect(
      client.send(
        new ConverseCommand({ modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', messages: marked }),
      ),
    ).resolves.toBeDefined();
    const sonnet4 = await rejection({
      modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
      messages: marked,
    });
    expect(sonnet4.message).toMatch(/1h cache TTL/);
  });

  it('rewords an oversized prompt as Claude does', async () => {
    const error = await rejection({
      messages: [user('word '.repeat(170_000))],
      inferenceConfig: { maxTokens: 1000 },
    });
    expect(error.message).toMatch(/prompt is too long: \d+ tokens > 200000 maximum/);
  });

  it('refuses unknown top-level fields sent without the SDK', async () => {
    const res = await fetch(`${emulator.url}/model/${encodeURIComponent(SONNET)}/converse`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-api-key', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }], temprature: 0.5 }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe(
      'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
    );
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(await res.json()).toEqual({ message: expect.stringContaining('temprature') });
  });
});
