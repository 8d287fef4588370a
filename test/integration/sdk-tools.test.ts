/**
 * Conformance: tools through the gateway, driven by the official Anthropic SDK against the strict
 * Bedrock emulator — schemas intact, tool_choice, reversible tool names, and full tool loops.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, type Json, PNG, PNG_BASE64, send } from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';

const COMPLEX_SCHEMA = {
  type: 'object',
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'EditFile',
  description: 'Edits a file',
  properties: {
    path: { type: 'string', pattern: '^/', minLength: 1 },
    mode: { type: 'string', enum: ['replace', 'append'], default: 'replace' },
    edits: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          old: { type: 'string' },
          new: { type: ['string', 'null'] },
          range: { $ref: '#/definitions/range' },
        },
        required: ['old', 'new'],
        additionalProperties: false,
      },
    },
    options: {
      anyOf: [{ type: 'object', properties: { dryRun: { type: 'boolean' } } }, { type: 'null' }],
    },
    tags: { type: 'object', additionalProperties: { type: 'integer', minimum: 0, maximum: 10 } },
  },
  required: ['path', 'edits'],
  additionalProperties: false,
  definitions: {
    range: {
      type: 'object',
      properties: { start: { type: 'integer' }, end: { type: 'integer' } },
      oneOf: [{ required: ['start'] }, { required: ['end'] }],
    },
  },
};

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const clock: Anthropic.Tool = {
  name: 'get_time',
  description: 'Current time',
  input_schema: { type: 'object', properties: {} },
};

const world = gatewayWithEmulator({ claudePath: 'converse' });
const { lastBody } = world;

describe('tool definitions', () => {
  it('passes a complex JSON schema to Bedrock intact', async () => {
    await world.client.messages.create({
      model: QWEN,
      max_tokens: 100,
      tools: [
        {
          name: 'edit_file',
          description: 'Edit a file',
          input_schema: COMPLEX_SCHEMA as Anthropic.Tool.InputSchema,
        },
      ],
      messages: [{ role: 'user', content: 'edit it' }],
    });
    const spec = lastBody().toolConfig.tools[0].toolSpec;
    expect(spec).toMatchObject({ name: 'edit_file', description: 'Edit a file' });
    expect(spec.inputSchema.json).toEqual(COMPLEX_SCHEMA);
  });

  it('leaves out an empty description (Bedrock refuses it) instead of failing', async () => {
    await world.client.messages.create({
      model: QWEN,
      max_tokens: 100,
      tools: [{ ...clock, description: '' }],
      messages: [{ role: 'user', content: 'time?' }],
    });
    expect(lastBody().toolConfig.tools[0].toolSpec).not.toHaveProperty('description');
  });

  it.each([
    ['auto', { type: 'auto' }, { auto: {} }],
    ['any', { type: 'any' }, { any: {} }],
    ['tool', { type: 'tool', name: 'get_time' }, { tool: { name: 'get_time' } }],
  ] as const)('maps tool_choice %s for Claude', async (_label, choice, expected) => {
    world.emulator.enqueue({ toolCalls: [{ name: 'get_time', input: {} }] });
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 100,
      tools: [weather, clock],
      tool_choice: choice as Anthropic.ToolChoice,
      messages: [{ role: 'user', content: 'time?' }],
    });
    expect(lastBody().toolConfig.toolChoice).toEqual(expected);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('tool_choice none: no tools upstream, so the model cannot call one', async () => {
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 100,
      tools: [weather],
      tool_choice: { type: 'none' },
      messages: [{ role: 'user', content: 'weather in Paris?' }],
    });
    expect(message.content.every((b) => b.type !== 'tool_use')).toBe(true);
    expect(lastBody().toolConfig).toBeUndefined();
  });

  it('falls back to auto where the model cannot force a tool, and says so', async () => {
    const { response } = await world.client.messages
      .create({
        model: QWEN,
        max_tokens: 100,
        tools: [weather],
        tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: 'weather?' }],
      })
      .withResponse();
    expect(lastBody().toolConfig.toolChoice).toEqual({ auto: {} });
    expect(response.headers.get('x-abproxy-warnings')).toContain('tool_choice');
    // The model is told in words what Converse cannot say for it.
    expect(JSON.stringify(lastBody().system)).toContain(
      'You must answer by calling one of the provided tools',
    );
  });

  it('structured outputs: schema and strict reach a model that has them; elsewhere strict is dropped, a schema refused', async () => {
    const format = { type: 'json_schema' as const, schema: { type: 'object' } };
    const strictWeather = { ...weather, strict: true };
    for (const [model, stream] of [
      [QWEN, false],
      ['openai.gpt-oss-120b-1:0', true],
    ] as const) {
      await send(
        world.client,
        {
          model,
          max_tokens: 100,
          tools: [strictWeather],
          output_config: { format },
          messages: [{ role: 'user', content: 'weather?' }],
        },
        stream,
      );
      const body = lastBody(stream ? 'ConverseStream' : 'Converse');
      expect(body.outputConfig.textFormat.structure.jsonSchema.schema).toBe('{"type":"object"}');
      expect(body.toolConfig.tools[0].toolSpec.strict).toBe(true);
    }

    const minimax = 'minimax.minimax-m2';
    const { response } = await world.client.messages
      .create({
        model: minimax,
        max_tokens: 100,
        tools: [strictWeather],
        messages: [{ role: 'user', content: 'weather?' }],
      })
      .withResponse();
    expect(lastBody().toolConfig.tools[0].toolSpec).not.toHaveProperty('strict');
    expect(response.headers.get('x-abproxy-warnings')).toContain('strict dropped');

    world.emulator.reset();
    const refused = await world.client.messages
      .create({
        model: minimax,
        max_tokens: 100,
        output_config: { format },
        messages: [{ role: 'user', content: 'hi' }],
      })
      .then(
        () => undefined,
        (e: unknown) => e as { status?: number; message?: string },
      );
    expect(refused?.status).toBe(400);
    expect(refused?.message).toMatch(
      /output_config\.format: .*minimax-m2 does not support structured outputs/,
    );
    expect(world.calls('Converse')).toHaveLength(0);
  });

  it("an open model calls the client's own memory and text-editor tools (Anthropic-defined) by their names", async () => {
    world.emulator.enqueue({
      toolCalls: [{ name: 'memory', input: { command: 'view', path: '/memories' } }],
    });
    const message = await world.client.beta.messages.create({
      model: QWEN,
      max_tokens: 100,
      tools: [
        { type: 'memory_20250818', name: 'memory' },
        { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
      ],
      messages: [{ role: 'user', content: 'what do you remember?' }],
      betas: ['context-management-2025-06-27'],
    });
    expect(message.content).toEqual([
      expect.objectContaining({
        type: 'tool_use',
        name: 'memory',
        input: { command: 'view', path: '/memories' },
      }),
    ]);
    const specs = (lastBody().toolConfig.tools as Json[]).map((t) => (t.toolSpec as Json).name);
    expect(specs).toEqual(['memory', 'str_replace_based_edit_tool']);
  });

  it('accepts disable_parallel_tool_use without failing', async () => {
    world.emulator.enqueue({ toolCalls: [{ name: 'get_weather', input: { city: 'Oslo' } }] });
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 100,
      tools: [weather, clock],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'weather in Oslo?' }],
    });
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } }),
    ]);
    expect(lastBody().toolConfig.toolChoice).toEqual({ auto: {} });
  });

  it('maps tool names Bedrock rejects to valid names and back, in both modes', async () => {
    const odd: Anthropic.Tool[] = [
      { name: 'mcp__files.read', input_schema: { type: 'object', properties: {} } },
      { name: 'ns:tool', input_schema: { type: 'object', properties: {} } },
      { name: 'mcp__files_read', input_schema: { type: 'object', properties: {} } },
    ];
    // Learn the upstream names from a first call.
    await world.client.messages.create({
      model: QWEN,
      max_tokens: 50,
      tools: odd,
      messages: [{ role: 'user', content: 'x' }],
    });
    const names = (lastBody().toolConfig.tools as Json[]).map((t) => t.toolSpec.name as string);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(new Set(names).size).toBe(3);
    expect(names[2]).toBe('mcp__files_read'); // a valid name is left alone

    world.emulator.enqueue({
      toolCalls: [
        { name: names[0]!, input: { a: 1 } },
        { name: names[1]!, input: {} },
      ],
    });
    const message = await world.client.messages.create({
      model: QWEN,
      max_tokens: 50,
      tools: odd,
      messages: [{ role: 'user', content: 'call them' }],
    });
    expect(
      message.content.filter((b) => b.type === 'tool_use').map((b) => (b as Anthropic.ToolUseBlock).name),
    ).toEqual(['mcp__files.read', 'ns:tool']);

    world.emulator.enqueue({ toolCalls: [{ name: names[1]!, input: { q: 'streamed' } }], chunkSize: 3 });
    const streamed = await world.client.messages
      .stream({ model: QWEN, max_tokens: 50, tools: odd, messages: [{ role: 'user', content: 'again' }] })
      .finalMessage();
    expect(streamed.content).toEqual([
      expect.objectContaining({ type: 'tool_use', name: 'ns:tool', input: { q: 'streamed' } }),
    ]);

    // The names travel back in history and must map to the same upstream names.
    const [first, second] = message.content.filter((b) => b.type === 'tool_use');
    await world.client.messages.create({
      model: QWEN,
      max_tokens: 50,
      tools: odd,
      messages: [
        { role: 'user', content: 'call them' },
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: first!.id, content: 'one' },
            { type: 'tool_result', tool_use_id: second!.id, content: 'two' },
          ],
        },
      ],
    });
    const history = lastBody().messages[1].content as Json[];
    expect(history.map((b) => b.toolUse?.name)).toEqual([names[0], names[1]]);
  });
});

describe('two-turn tool loop', () => {
  const question: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Paris?' };

  async function firstTurn(model: string, stream: boolean): Promise<Anthropic.Message> {
    world.emulator.enqueue({
      text: 'Let me check.',
      toolCalls: [{ name: 'get_weather', input: { city: 'Paris', units: { temp: 'C' } } }],
      chunkSize: 4,
    });
    const params = { model, max_tokens: 200, tools: [weather], messages: [question] };
    const message = await send(world.client, params, stream);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Let me check.' }),
      expect.objectContaining({
        type: 'tool_use',
        name: 'get_weather',
        input: { city: 'Paris', units: { temp: 'C' } },
        id: expect.any(String),
      }),
    ]);
    return message;
  }

  const toolUseIn = (message: Anthropic.Message) =>
    message.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;

  /** The turn after `first`: the question, `first` itself, then a user turn of `answer`. */
  const answering = (model: string, first: Anthropic.Message, answer: Anthropic.ContentBlockParam[]) => ({
    model,
    max_tokens: 200,
    tools: [weather],
    messages: [
      question,
      { role: 'assistant' as const, content: first.content },
      { role: 'user' as const, content: answer },
    ],
  });

  const results: [string, (id: string) => Anthropic.ToolResultBlockParam, Json[], string?][] = [
    [
      'a string',
      (id) => ({ type: 'tool_result', tool_use_id: id, content: '18°C, sunny' }),
      [{ text: '18°C, sunny' }],
    ],
    [
      'text blocks',
      (id) => ({
        type: 'tool_result',
        tool_use_id: id,
        content: [
          { type: 'text', text: 'line 1' },
          { type: 'text', text: 'line 2' },
        ],
      }),
      [{ text: 'line 1' }, { text: 'line 2' }],
    ],
    [
      'empty content',
      (id) => ({ type: 'tool_result', tool_use_id: id, content: '' }),
      [{ text: expect.any(String) }],
    ],
    ['no content at all', (id) => ({ type: 'tool_result', tool_use_id: id }), [{ text: expect.any(String) }]],
    [
      'is_error',
      (id) => ({ type: 'tool_result', tool_use_id: id, content: 'city not found', is_error: true }),
      [{ text: 'city not found' }],
      'error',
    ],
    [
      'is_error with empty content',
      (id) => ({ type: 'tool_result', tool_use_id: id, content: [], is_error: true }),
      [{ text: expect.any(String) }],
      'error',
    ],
  ];

  for (const stream of [false, true]) {
    const mode = stream ? 'stream' : 'non-stream';
    const op = stream ? 'ConverseStream' : 'Converse';
    for (const [label, result, expected, status] of results) {
      it(`${mode}: sends back a tool_result with ${label}`, async () => {
        const first = await firstTurn(QWEN, stream);
        const toolUse = toolUseIn(first);
        world.emulator.enqueue({ text: 'It is 18°C in Paris.' });
        const second = await send(world.client, answering(QWEN, first, [result(toolUse.id)]), stream);
        expect(second.content).toEqual([
          expect.objectContaining({ type: 'text', text: 'It is 18°C in Paris.' }),
        ]);
        expect(second.stop_reason).toBe('end_turn');
        const body = lastBody(op);
        expect(body.messages[1].content).toEqual([
          { text: 'Let me check.' },
          {
            toolUse: {
              toolUseId: toolUse.id,
              name: 'get_weather',
              input: { city: 'Paris', units: { temp: 'C' } },
            },
          },
        ]);
        const toolResult = body.messages[2].content[0].toolResult;
        expect(toolResult.toolUseId).toBe(toolUse.id);
        expect(toolResult.content).toEqual(expected);
        if (status) expect(toolResult.status).toBe(status);
        else expect(toolResult.status).toBeUndefined();
      });
    }
  }

  it.each([false, true])(
    'a tool call whose input is not an object (open models emit them) can be sent back, stream %s',
    async (stream) => {
      world.emulator.enqueue({ toolCalls: [{ name: 'get_weather', input: '{"city":' }], chunkSize: 4 });
      const first = await send(
        world.client,
        { model: QWEN, max_tokens: 200, tools: [weather], messages: [question] },
        stream,
      );
      const call = toolUseIn(first);
      expect(call.input).toBe('{"city":');
      // The agent loop answers with the tool's complaint and sends the turn back as it came.
      world.emulator.enqueue({ text: 'Sorry, retrying.' });
      const next = await send(
        world.client,
        answering(QWEN, first, [
          { type: 'tool_result', tool_use_id: call.id, content: 'input is not an object', is_error: true },
        ]),
        false,
      );
      expect(next.content).toEqual([expect.objectContaining({ type: 'text', text: 'Sorry, retrying.' })]);
      expect(lastBody().messages[1].content).toContainEqual({
        toolUse: expect.objectContaining({ input: '{"city":' }),
      });
    },
  );

  it('sends back a tool_result holding an image (Claude)', async () => {
    const first = await firstTurn(CLAUDE, false);
    const second = await world.client.messages.create(
      answering(CLAUDE, first, [
        {
          type: 'tool_result',
          tool_use_id: toolUseIn(first).id,
          content: [{ type: 'text', text: 'radar:' }, PNG],
        },
        { type: 'text', text: 'What does the radar show?' },
      ]),
    );
    expect(second.content[0]).toMatchObject({ type: 'text' });
    const user = lastBody().messages[2].content as Json[];
    expect(user[0]!.toolResult.content).toEqual([
      { text: 'radar:' },
      { image: { format: 'png', source: { bytes: PNG_BASE64 } } },
    ]);
    expect(user[1]).toEqual({ text: 'What does the radar show?' });
  });

  it('replaces an image in a tool result with a note for a text-only model', async () => {
    const first = await firstTurn(QWEN, false);
    const second = await world.client.messages.create(
      answering(QWEN, first, [{ type: 'tool_result', tool_use_id: toolUseIn(first).id, content: [PNG] }]),
    );
    expect(second.content[0]).toMatchObject({ type: 'text' });
    const content = lastBody().messages[2].content[0].toolResult.content as Json[];
    expect(content.every((b) => typeof b.text === 'string' && b.text.trim() !== '')).toBe(true);
  });
});

describe('stop reasons an agent loop relies on', () => {
  const GPT_OSS = 'openai.gpt-oss-120b-1:0';

  it("gpt-oss's tool calls end in tool_use though Bedrock reports end_turn (stream and not)", async () => {
    const ask = {
      model: GPT_OSS,
      max_tokens: 200,
      tools: [weather],
      messages: [{ role: 'user' as const, content: 'weather in Rome?' }],
    };
    world.emulator.enqueue({
      model: 'gpt-oss',
      toolCalls: [{ name: 'get_weather', input: { city: 'Rome' } }],
    });
    const streamed = await world.client.messages.stream(ask).finalMessage();
    world.emulator.enqueue({
      model: 'gpt-oss',
      toolCalls: [{ name: 'get_weather', input: { city: 'Rome' } }],
    });
    const whole = await world.client.messages.create(ask);
    for (const message of [streamed, whole]) {
      expect(message.content.some((b) => b.type === 'tool_use')).toBe(true);
      // The loop of Anthropic's tool-use guide: `while (response.stop_reason === 'tool_use')`.
      expect(message.stop_reason).toBe('tool_use');
    }
  });
});

describe.each(['converse', 'messages', 'mantle'] as const)('ABPROXY_CLAUDE_PATH=%s', (claudePath) => {
  const claude = gatewayWithEmulator({ claudePath });
  const question: Anthropic.MessageParam = { role: 'user', content: 'weather and time in Rome?' };

  it('runs a tool loop with parallel calls answered in one user turn (stream)', async () => {
    claude.emulator.enqueue({
      toolCalls: [
        { name: 'get_weather', input: { city: 'Rome' } },
        { name: 'get_time', input: {} },
      ],
      chunkSize: 2,
    });
    const first = await claude.client.messages
      .stream({ model: CLAUDE, max_tokens: 200, tools: [weather, clock], messages: [question] })
      .finalMessage();
    const uses = first.content.filter((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock[];
    expect(uses.map((u) => [u.name, u.input])).toEqual([
      ['get_weather', { city: 'Rome' }],
      ['get_time', {}],
    ]);
    claude.emulator.enqueue({ text: 'done' });
    const second = await claude.client.messages
      .stream({
        model: CLAUDE,
        max_tokens: 200,
        tools: [weather, clock],
        messages: [
          question,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'here you go' },
              { type: 'tool_result', tool_use_id: uses[1]!.id, content: '12:00' },
              { type: 'tool_result', tool_use_id: uses[0]!.id, content: 'rainy' },
            ],
          },
        ],
      })
      .finalMessage();
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'done' });
    if (claudePath === 'converse') {
      const user = claude.lastBody('ConverseStream').messages[2].content as Json[];
      // Tool results lead the user turn (Bedrock/Claude rule); the text follows.
      expect(user.map((b) => Object.keys(b)[0])).toEqual(['toolResult', 'toolResult', 'text']);
    }
  });
});
