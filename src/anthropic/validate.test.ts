import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { validateCountTokensRequest, validateMessagesRequest } from './validate.ts';

type Body = Record<string, unknown>;

function base(extra: Body = {}): Body {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'Hello' }],
    ...extra,
  };
}

/** The message of the ApiError thrown by validating `body`, or a failure if none is thrown. */
function errorOf(body: unknown, betas?: string[]): string {
  try {
    validateMessagesRequest(body, { betas });
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const api = err as ApiError;
    expect(api.status).toBe(400);
    expect(api.type).toBe('invalid_request_error');
    return api.message;
  }
  throw new Error('expected a validation error');
}

const toolUseTurn = (...ids: string[]) => ({
  role: 'assistant',
  content: ids.map((id) => ({ type: 'tool_use', id, name: 'Read', input: { path: '/x' } })),
});
const toolResultTurn = (...ids: string[]) => ({
  role: 'user',
  content: ids.map((id) => ({ type: 'tool_result', tool_use_id: id, content: 'ok' })),
});

describe('validateMessagesRequest', () => {
  it('returns the same object, typed', () => {
    const body = base();
    expect(validateMessagesRequest(body)).toBe(body);
  });

  it('accepts what Claude Code sends, unknown fields and system-role turns included', () => {
    const body = base({
      max_tokens: 32000,
      stream: true,
      system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'system', content: '<system-reminder>x</system-reminder>' },
        toolUseTurn('toolu_1'),
        toolResultTurn('toolu_1'),
      ],
      tools: [
        { name: 'mcp__github__create_issue', input_schema: { type: 'object' }, defer_loading: true },
        { name: 'Read', description: 'read', input_schema: { type: 'object', properties: {} } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
      ],
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort: 'medium' },
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
      metadata: { user_id: 'user_abc_account_def_session_ghi' },
      service_tier: 'auto',
      speed: 'fast',
      diagnostics: { anything: true },
    });
    expect(validateMessagesRequest(body)).toBe(body);
  });

  it('keeps Anthropic block types the gateway does not model, and newer server-tool blocks', () => {
    const body = base({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'search_result', source: 's', title: 't', content: [] },
            { type: 'container_upload', file_id: 'f' },
            { type: 'future_thing_tool_result', tool_use_id: 'srvtoolu_1' },
          ],
        },
      ],
    });
    expect(() => validateMessagesRequest(body)).not.toThrow();
  });

  it('names missing and mistyped top-level fields', () => {
    const { model: _m, ...noModel } = base();
    expect(errorOf(noModel)).toBe('model: Field required');
    expect(errorOf(base({ model: 5 }))).toBe('model: Input should be a valid string');
    const { max_tokens: _t, ...noMax } = base();
    expect(errorOf(noMax)).toBe('max_tokens: Field required');
    expect(errorOf(base({ max_tokens: '10' }))).toBe('max_tokens: Input should be a valid integer');
    expect(errorOf(base({ max_tokens: 1.5 }))).toBe('max_tokens: Input should be a valid integer');
    expect(errorOf(base({ max_tokens: 0 }))).toBe('max_tokens: Input should be greater than or equal to 1');
    expect(errorOf(base({ messages: [] }))).toBe('messages: at least one message is required');
    // Claude Code's system-role messages are lifted into `system`; alone they leave no turn.
    expect(errorOf(base({ messages: [{ role: 'system', content: 'be nice' }] }))).toBe(
      'messages: at least one user or assistant message is required besides system-role messages',
    );
    expect(errorOf(base({ messages: 'hi' }))).toBe('messages: Input should be a valid list');
    expect(errorOf(base({ stream: 'yes' }))).toBe('stream: Input should be a valid boolean');
    expect(errorOf([])).toBe('Request body must be a JSON object');
  });

  it('checks sampling ranges', () => {
    expect(errorOf(base({ temperature: 1.5 }))).toBe('temperature: Input should be less than or equal to 1');
    expect(errorOf(base({ temperature: -0.1 }))).toBe(
      'temperature: Input should be greater than or equal to 0',
    );
    expect(errorOf(base({ top_p: 2 }))).toBe('top_p: Input should be less than or equal to 1');
    expect(errorOf(base({ top_k: -1 }))).toBe('top_k: Input should be greater than or equal to 0');
    expect(errorOf(base({ top_k: 0.5 }))).toBe('top_k: Input should be a valid integer');
    expect(() => validateMessagesRequest(base({ temperature: 0, top_p: 1, top_k: 0 }))).not.toThrow();
  });

  it("takes Anthropic's two service tiers only", () => {
    for (const tier of ['priority', 'standard', '', 5]) {
      expect(errorOf(base({ service_tier: tier }))).toBe(
        "service_tier: Input should be 'auto' or 'standard_only'",
      );
    }
    for (const tier of ['auto', 'standard_only', null]) {
      expect(() => validateMessagesRequest(base({ service_tier: tier }))).not.toThrow();
    }
  });

  it('treats null optional fields as absent', () => {
    const body = base({ temperature: null, system: null, tools: null });
    validateMessagesRequest(body);
    expect('temperature' in body).toBe(false);
    expect('tools' in body).toBe(false);
  });

  it('refuses empty and whitespace-only stop sequences', () => {
    expect(errorOf(base({ stop_sequences: [''] }))).toBe(
      'stop_sequences: each stop sequence must be non-empty',
    );
    expect(errorOf(base({ stop_sequences: ['ok', '\n'] }))).toBe(
      'stop_sequences: each stop sequence must contain non-whitespace',
    );
    expect(errorOf(base({ stop_sequences: [1] }))).toBe('stop_sequences.0: Input should be a valid string');
  });

  it('names the role and block paths', () => {
    expect(errorOf(base({ messages: [{ role: 'user' }, { role: 'assistant', content: 'x' }] }))).toBe(
      'messages.0.content: Field required',
    );
    expect(
      errorOf(base({ messages: [{ role: 'user', content: 'a' }, {}, { role: 'bot', content: 'x' }] })),
    ).toBe('messages.1.role: Field required');
    expect(
      errorOf(
        base({
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
            { role: 'bot', content: 'x' },
          ],
        }),
      ),
    ).toBe("messages.2.role: Input should be 'user', 'assistant' or 'system'");
    const msg = errorOf(
      base({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'foo' }] },
        ],
      }),
    );
    expect(msg).toMatch(
      /^messages\.1\.content\.0\.type: Input tag 'foo' found using 'type' does not match any of the expected tags: 'text', 'image', /,
    );
    expect(errorOf(base({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }))).toBe(
      "messages.0.content.0: Unable to extract tag using discriminator 'type'",
    );
    expect(errorOf(base({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }))).toBe(
      'messages.0.content.0.text: Field required',
    );
  });

  it('checks image sources', () => {
    const image = (source: unknown) =>
      base({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'see' },
              { type: 'image', source },
            ],
          },
        ],
      });
    expect(errorOf(image({ type: 'base64', media_type: 'image/bmp', data: 'AA' }))).toBe(
      "messages.0.content.1.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
    );
    expect(errorOf(image({ type: 'base64', media_type: 'image/png' }))).toBe(
      'messages.0.content.1.source.data: Field required',
    );
    expect(errorOf(image({ type: 'url' }))).toBe('messages.0.content.1.source.url: Field required');
    expect(errorOf(image({ type: 'blob' }))).toMatch(
      /^messages\.0\.content\.1\.source\.type: Input tag 'blob'/,
    );
    expect(errorOf(base({ messages: [{ role: 'user', content: [{ type: 'image' }] }] }))).toBe(
      'messages.0.content.0.source: Field required',
    );
    expect(() => validateMessagesRequest(image({ type: 'url', url: 'https://x/y.png' }))).not.toThrow();
    // The Files API has no Bedrock counterpart: refused before any model call, on every path.
    expect(errorOf(image({ type: 'file', file_id: 'file_011' }))).toBe(
      'messages.0.content.1.source: file sources (the Files API) are not available on Bedrock; send the data as base64',
    );
    const document = base({
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'f' } }] }],
    });
    expect(errorOf(document)).toMatch(/^messages\.0\.content\.0\.source: file sources/);
  });

  it('checks documents, including text and content sources', () => {
    const doc = (source: unknown) =>
      base({ messages: [{ role: 'user', content: [{ type: 'document', source }] }] });
    expect(() =>
      validateMessagesRequest(doc({ type: 'text', media_type: 'text/plain', data: 'hi' })),
    ).not.toThrow();
    expect(() =>
      validateMessagesRequest(doc({ type: 'content', content: [{ type: 'text', text: 'x' }] })),
    ).not.toThrow();
    expect(errorOf(doc({ type: 'content', content: [{ type: 'tool_use' }] }))).toMatch(
      /^messages\.0\.content\.0\.source\.content\.0\.type: Input tag 'tool_use'/,
    );
    expect(errorOf(doc({ type: 'base64', data: 'JVBER' }))).toBe(
      'messages.0.content.0.source.media_type: Field required',
    );
  });

  it('checks tool_use and tool_result shapes', () => {
    expect(
      errorOf(
        base({
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read' }] },
          ],
        }),
      ),
    ).toBe('messages.1.content.0.input: Field required');
    // A non-object input (as open models emit it, and the gateway hands it on) comes back as it went.
    expect(() =>
      validateMessagesRequest(
        base({
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: '{"a":' }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'bad input' }] },
          ],
        }),
        {},
      ),
    ).not.toThrow();
    expect(
      errorOf(
        base({
          messages: [
            { role: 'user', content: 'go' },
            toolUseTurn('t1'),
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'thinking' }] }],
            },
          ],
        }),
      ),
    ).toMatch(/^messages\.2\.content\.0\.content\.0\.type: Input tag 'thinking'/);
  });

  it('refuses a tool_result without a tool_use in the previous assistant turn', () => {
    const msg = errorOf(
      base({
        messages: [{ role: 'user', content: 'go' }, toolUseTurn('toolu_A'), toolResultTurn('toolu_B')],
      }),
    );
    expect(msg).toBe(
      'messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_B. ' +
        'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
    );
    expect(errorOf(base({ messages: [toolResultTurn('toolu_X')] }))).toMatch(
      /^messages\.0\.content\.0: unexpected `tool_use_id`/,
    );
  });

  it('refuses a tool_use left unanswered before the conversation goes on', () => {
    const msg = errorOf(
      base({
        messages: [
          { role: 'user', content: 'go' },
          toolUseTurn('toolu_A', 'toolu_B'),
          toolResultTurn('toolu_A'),
          { role: 'assistant', content: 'done' },
          { role: 'user', content: 'thanks' },
        ],
      }),
    );
    expect(msg).toBe(
      'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_B. ' +
        'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
    );
  });

  it('pairs tool results across system reminders, and allows a trailing tool_use prefill', () => {
    const reminder = { role: 'system', content: 'reminder' };
    expect(() =>
      validateMessagesRequest(
        base({
          messages: [{ role: 'user', content: 'go' }, toolUseTurn('a'), reminder, toolResultTurn('a')],
        }),
      ),
    ).not.toThrow();
    expect(() =>
      validateMessagesRequest(base({ messages: [{ role: 'user', content: 'go' }, toolUseTurn('a')] })),
    ).not.toThrow();
  });

  it('checks tool definitions', () => {
    const tools = (...list: unknown[]) => base({ tools: list });
    expect(errorOf(tools({ name: 'a', input_schema: {} }, { name: 'b' }))).toBe(
      'tools.1.input_schema: Field required',
    );
    expect(errorOf(tools({ name: 'a', input_schema: {} }, { name: 'a', input_schema: {} }))).toBe(
      'tools: Tool names must be unique.',
    );
    expect(errorOf(tools({ name: 'my tool', input_schema: {} }))).toBe(
      "tools.0.name: String should match pattern '^[^\\s\\p{Cc}]{1,128}$'",
    );
    for (const name of ['mcp__files.read', 'ns:tool', 'a/b@v1']) {
      expect(() => validateMessagesRequest(tools({ name, input_schema: {} }))).not.toThrow();
    }
    expect(errorOf(tools({ name: 'x'.repeat(129), input_schema: {} }))).toMatch(
      /^tools\.0\.name: String should match/,
    );
    expect(() => validateMessagesRequest(tools({ name: 'x'.repeat(128), input_schema: {} }))).not.toThrow();
  });

  it('refuses a tool name with an unpaired surrogate, in count_tokens as in messages', () => {
    const body = () => base({ tools: [{ name: 'read\ud800', input_schema: {} }] });
    expect(errorOf(body())).toBe('tools.0.name: String should not contain unpaired surrogates');
    expect(() => validateCountTokensRequest(body())).toThrow(
      'tools.0.name: String should not contain unpaired surrogates',
    );
    // A whole pair (an emoji) is a well-formed name.
    expect(() =>
      validateMessagesRequest(base({ tools: [{ name: 'read\u{1F600}', input_schema: {} }] })),
    ).not.toThrow();
  });

  it('checks tool_choice', () => {
    expect(errorOf(base({ tool_choice: { type: 'tool' } }))).toBe('tool_choice.name: Field required');
    expect(errorOf(base({ tool_choice: { type: 'some' } }))).toBe(
      "tool_choice.type: Input tag 'some' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
    );
    expect(() => validateMessagesRequest(base({ tool_choice: { type: 'none' } }))).not.toThrow();
  });

  it('checks thinking budgets against max_tokens', () => {
    expect(errorOf(base({ thinking: { type: 'enabled', budget_tokens: 500 } }))).toBe(
      'thinking.budget_tokens: Input should be greater than or equal to 1024',
    );
    expect(errorOf(base({ thinking: { type: 'enabled' } }))).toBe('thinking.budget_tokens: Field required');
    expect(errorOf(base({ max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 2000 } }))).toBe(
      'max_tokens must be greater than thinking.budget_tokens',
    );
    // Interleaved thinking lifts that rule.
    const body = base({ max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 4000 } });
    expect(() => validateMessagesRequest(body, { betas: ['interleaved-thinking-2025-05-14'] })).not.toThrow();
    expect(() =>
      validateMessagesRequest(
        base({ max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 } }),
      ),
    ).not.toThrow();
    expect(errorOf(base({ thinking: { type: 'on' } }))).toMatch(/^thinking\.type: Input tag 'on'/);
    expect(errorOf(base({ output_config: { effort: 'extreme' } }))).toBe(
      "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
    );
  });

  it("moves the structured-outputs beta's output_format to output_config.format (checked there)", () => {
    const format = { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'number' } } } };
    const moved = validateMessagesRequest(base({ output_format: format, output_config: { effort: 'low' } }));
    expect(moved.output_config).toEqual({ effort: 'low', format });
    expect(moved).not.toHaveProperty('output_format');
    // Both given: output_config.format stands.
    const both = validateMessagesRequest(
      base({ output_format: format, output_config: { format: { type: 'json_schema', schema: {} } } }),
    );
    expect(both.output_config?.format).toEqual({ type: 'json_schema', schema: {} });
    expect(errorOf(base({ output_format: { type: 'xml' } }))).toMatch(/^output_config\.format\.type/);
  });

  it('top-level cache_control marks the last cacheable block (automatic prompt caching)', () => {
    const cache = { type: 'ephemeral', ttl: '1h' };
    const onString = validateMessagesRequest(base({ cache_control: cache }));
    expect(onString).not.toHaveProperty('cache_control');
    expect(onString.messages.at(-1)?.content).toEqual([
      { type: 'text', text: 'Hello', cache_control: cache },
    ]);
    // Past thinking blocks (which take no mark), onto the tool result before them; an own mark stays.
    const blocks = validateMessagesRequest(
      base({
        cache_control: { type: 'ephemeral' },
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'a', input: {} }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 't1', content: 'ok' },
              { type: 'text', text: 'own', cache_control: { type: 'ephemeral', ttl: '1h' } },
            ],
          },
        ],
        tools: [{ name: 'a', input_schema: { type: 'object' } }],
      }),
    );
    const last = blocks.messages.at(-1)?.content as Array<{ cache_control?: unknown }>;
    expect(last[0]?.cache_control).toBeUndefined();
    expect(last[1]?.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(errorOf(base({ cache_control: { type: 'persistent' } }))).toMatch(/^cache_control\.type/);
  });

  it('checks a 500 KB body with 30 tools quickly', () => {
    const tools = Array.from({ length: 30 }, (_, i) => ({
      name: `tool_${i}`,
      description: 'd'.repeat(2000),
      input_schema: { type: 'object', properties: { a: { type: 'string' } } },
    }));
    const messages: unknown[] = [{ role: 'user', content: 'start' }];
    for (let i = 0; i < 200; i++) {
      messages.push(toolUseTurn(`t${i}`));
      messages.push({
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: `t${i}`, content: [{ type: 'text', text: 'x'.repeat(2000) }] },
        ],
      });
    }
    const body = base({ tools, messages });
    expect(JSON.stringify(body).length).toBeGreaterThan(450_000);
    const started = performance.now();
    for (let i = 0; i < 20; i++) validateMessagesRequest(body);
    expect((performance.now() - started) / 20).toBeLessThan(10);
  });
});

describe('validateCountTokensRequest', () => {
  it('does not need max_tokens and ignores generation settings', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 7 };
    expect(validateCountTokensRequest(body)).toBe(body);
  });

  it('still checks the conversation', () => {
    expect(() => validateCountTokensRequest({ model: 'm', messages: [] })).toThrow(
      'messages: at least one message is required',
    );
    expect(() => validateCountTokensRequest({ messages: [{ role: 'user', content: 'x' }] })).toThrow(
      'model: Field required',
    );
  });
});

describe('hostile values (issue 11)', () => {
  it('refuses a model name that is too long, not printable or not well-formed, naming model', () => {
    for (const model of [
      'x'.repeat(257),
      'claude-\ud800',
      '\udc00',
      'claude\u0000',
      'a\u001b[41mb',
      'a\u2028b',
    ]) {
      expect(errorOf(base({ model }))).toMatch(/^model: /);
      expect(() => validateCountTokensRequest(base({ model }))).toThrow(/^model: /);
    }
    expect(validateMessagesRequest(base({ model: 'x'.repeat(256) })).model).toHaveLength(256);
    expect(validateMessagesRequest(base({ model: 'claude-sonnet-4-5[1m]' })).model).toBe(
      'claude-sonnet-4-5[1m]',
    );
  });

  /** `{"a":{"a":…}}` nested `depth` levels. */
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };

  it('refuses JSON nested deeper than the limit anywhere, naming the field', () => {
    const tool = (schema: unknown) => ({ tools: [{ name: 't', input_schema: schema }] });
    expect(errorOf(base(tool(nested(200_000))))).toMatch(/^tools\.0\.input_schema\.a\.a\.a…: .*nested/);
    expect(errorOf(base({ metadata: { user_id: 'u', extra: nested(500) } }))).toMatch(/^metadata\.extra/);
    expect(errorOf(base({ unknown_field: [nested(300)] }))).toMatch(/^unknown_field\.0/);
    const deepInput = {
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'x', name: 't', input: nested(1000) }] },
      ],
    };
    expect(errorOf(base(deepInput))).toMatch(/^messages\.0\.content\.0\.input/);
    expect(() => validateCountTokensRequest(base(tool(nested(200_000))))).toThrow(/^tools\.0\.input_schema/);
    // Real schemas stay far below the limit.
    expect(() => validateMessagesRequest(base(tool(nested(100))))).not.toThrow();
  });

  it('refuses image and document data that is not base64', () => {
    const image = (data: string) => ({
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }],
        },
      ],
    });
    const pdf = (data: string) => ({
      messages: [
        {
          role: 'user',
          content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data } }],
        },
      ],
    });
    for (const data of ['not base64!', 'abc', 'ab=c', 'YWJj\nZA==', '', '====']) {
      expect(errorOf(base(image(data)))).toBe(
        'messages.0.content.0.source.data: Input should be valid base64 data',
      );
      expect(errorOf(base(pdf(data)))).toMatch(/^messages\.0\.content\.0\.source\.data: /);
    }
    expect(() => validateMessagesRequest(base(image('YWJjZA==')))).not.toThrow();
    expect(() => validateMessagesRequest(base(pdf('JVBERi0xLjQK')))).not.toThrow();
  });

  it('refuses tool_choice naming a tool that is not in tools', () => {
    const tools = [{ name: 'Read', input_schema: { type: 'object' } }];
    expect(errorOf(base({ tools, tool_choice: { type: 'tool', name: 'zzz' } }))).toMatch(
      /^tool_choice\.name: /,
    );
    expect(errorOf(base({ tool_choice: { type: 'tool', name: 'Read' } }))).toMatch(/^tool_choice\.name: /);
    expect(() =>
      validateCountTokensRequest(base({ tools, tool_choice: { type: 'tool', name: 'zzz' } })),
    ).toThrow(/^tool_choice\.name/);
    expect(() =>
      validateMessagesRequest(base({ tools, tool_choice: { type: 'tool', name: 'Read' } })),
    ).not.toThrow();
  });
});
