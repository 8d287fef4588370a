import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../anthropic/types.ts';
import { claudeFeaturesFor } from '../models/claude-features.ts';
import { claudeCodeRequest } from './claude-code-request.fixture.ts';
import { toInvokeBody } from './to-invoke.ts';

const SONNET_4_5 = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const SONNET_5_5 = 'anthropic.claude-sonnet-5-5';

/** The betas Claude Code 2.1.x sends on every call. */
const CLAUDE_CODE_BETAS = [
  'claude-code-20250219',
  'oauth-2025-04-20',
  'interleaved-thinking-2025-05-14',
  'context-management-2025-06-27',
  'fine-grained-tool-streaming-2025-05-14',
  'prompt-caching-scope-2026-01-05',
  'effort-2025-11-24',
];

const CAPS: Record<string, number> = {
  [SONNET_4_5]: 64_000,
  [SONNET_5_5]: 128_000,
  'anthropic.claude-3-5-sonnet-20241022-v2:0': 8_192,
  'anthropic.claude-3-7-sonnet-20250219-v1:0': 64_000,
  'anthropic.claude-opus-4-5-20251101-v1:0': 64_000,
  'anthropic.claude-opus-4-6-v1': 128_000,
  'anthropic.claude-opus-4-7': 128_000,
  'anthropic.claude-sonnet-5': 128_000,
};

function invoke(req: MessagesRequest, baseModelId: string, betas: string[] = []) {
  const result = toInvokeBody(req, {
    baseModelId,
    betas,
    features: claudeFeaturesFor(baseModelId),
    maxOutputTokens: CAPS[baseModelId] ?? 64_000,
  });
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
}

const sign = (text: string) => `sig-${text.length}`;

function claudeCode(overrides: Partial<MessagesRequest>): MessagesRequest {
  return { ...claudeCodeRequest({ sign, pngBase64: 'iVBORw0KGgo=' }), ...overrides };
}

function simple(overrides: Partial<MessagesRequest> = {}): MessagesRequest {
  return { model: 'claude', max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }], ...overrides };
}

describe('toInvokeBody with Claude Code bodies', () => {
  it('Sonnet 4.5: budget thinking without display, context management, only Bedrock betas', () => {
    const req = claudeCode({
      model: 'claude-sonnet-4-5',
      max_tokens: 32_000,
      thinking: { type: 'enabled', budget_tokens: 31_999, display: 'omitted' },
      output_config: undefined,
    });
    const { json, droppedBetas } = invoke(req, SONNET_4_5, CLAUDE_CODE_BETAS);

    expect(Object.keys(json).sort()).toEqual(
      [
        'anthropic_beta',
        'anthropic_version',
        'context_management',
        'max_tokens',
        'messages',
        'metadata',
        'system',
        'thinking',
        'tool_choice',
        'tools',
      ].sort(),
    );
    expect(json.anthropic_version).toBe('bedrock-2023-05-31');
    expect(json.thinking).toEqual({ type: 'enabled', budget_tokens: 31_999 });
    expect(json.max_tokens).toBe(32_000);
    expect(json.anthropic_beta).toEqual(['interleaved-thinking-2025-05-14', 'context-management-2025-06-27']);
    expect(droppedBetas.sort()).toEqual(
      [
        'claude-code-20250219',
        'oauth-2025-04-20',
        'fine-grained-tool-streaming-2025-05-14',
        'prompt-caching-scope-2026-01-05',
        'effort-2025-11-24',
      ].sort(),
    );
    expect(json.context_management).toEqual(req.context_management);
  });

  it('Sonnet 5.5: adaptive thinking with display, effort, context management, 128k output', () => {
    const req = claudeCode({ max_tokens: 128_000 });
    const { json, warnings } = invoke(req, SONNET_5_5, CLAUDE_CODE_BETAS);

    expect(json.thinking).toEqual({ type: 'adaptive', display: 'omitted' });
    expect(json.output_config).toEqual({ effort: 'medium' });
    expect(json.max_tokens).toBe(128_000);
    expect(json.context_management).toEqual(req.context_management);
    expect(json.metadata).toEqual(req.metadata);
    expect(json).not.toHaveProperty('model');
    expect(json).not.toHaveProperty('stream');
    expect(json.anthropic_beta).toEqual([
      'interleaved-thinking-2025-05-14',
      'context-management-2025-06-27',
      'effort-2025-11-24',
    ]);
    expect(warnings.filter((w) => w.includes('thinking'))).toEqual([]);
  });

  it('keeps the conversation byte for byte apart from what Bedrock refuses', () => {
    const req = claudeCode({});
    const { json } = invoke(req, SONNET_5_5, CLAUDE_CODE_BETAS);
    const messages = json.messages as MessagesRequest['messages'];
    // Signatures, images and cache_control survive; the system reminder joins the previous user turn.
    expect(JSON.stringify(messages)).toContain('"signature":"sig-');
    expect(JSON.stringify(messages)).toContain('"media_type":"image/png"');
    expect(messages.some((m) => m.role === 'system')).toBe(false);
    expect(messages).toHaveLength(req.messages.length - 1);
    const reminder = messages.find(
      (m) => Array.isArray(m.content) && JSON.stringify(m.content).includes('TodoWrite tool'),
    );
    expect(reminder?.role).toBe('user');
    const content = reminder?.content as Array<{ type: string }>;
    expect(content.map((b) => b.type)).toEqual(['tool_result', 'tool_result', 'text']);
    // Without a tool-search beta, tool_reference becomes text and deferred tools load normally.
    expect(JSON.stringify(messages)).not.toContain('tool_reference');
    expect(JSON.stringify(messages)).toContain('Tool available: mcp__github__get.issue');
    expect((json.tools as Array<Record<string, unknown>>).some((t) => 'defer_loading' in t)).toBe(false);
    // The client's request is not mutated.
    expect(req.messages.some((m) => m.role === 'system')).toBe(true);
    expect(req.tools?.some((t) => t.defer_loading)).toBe(true);
  });

  it('keeps compaction blocks under the compaction beta and sends their summary as text elsewhere', () => {
    const compaction = { type: 'compaction', content: 'Summary: the parser is half done.', signature: 's' };
    const req = simple({
      messages: [
        { role: 'user', content: 'build a parser' },
        { role: 'assistant', content: [compaction as never] },
        { role: 'user', content: 'continue' },
      ],
    });
    const native = invoke(req, 'anthropic.claude-opus-4-6-v1', ['compact-2026-01-12']).json;
    expect((native.messages as MessagesRequest['messages'])[1]?.content).toEqual([compaction]);
    // A model switch after a compaction (Sonnet 4.5 has no compaction on Bedrock): the summary stays, and
    // what it summarizes goes, as Anthropic drops it.
    const { json: switched, warnings } = invoke(req, SONNET_4_5, ['compact-2026-01-12']);
    expect(switched.messages).toEqual([
      { role: 'user', content: expect.stringContaining('compacted') },
      { role: 'assistant', content: [{ type: 'text', text: 'Summary: the parser is half done.' }] },
      { role: 'user', content: 'continue' },
    ]);
    expect(switched).not.toHaveProperty('anthropic_beta');
    expect(warnings.join()).toContain('1 message(s) before the last compaction block dropped');
  });

  it('sends the same message objects when nothing needs a change', () => {
    const messages: MessagesRequest['messages'] = [
      {
        role: 'user',
        content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      },
    ];
    const { json } = invoke(simple({ messages }), SONNET_5_5);
    expect(json.messages).toEqual(messages);
  });
});

describe('toInvokeBody field and beta allow-list', () => {
  it('drops fields Bedrock refuses, with warnings', () => {
    const req = {
      ...simple(),
      container: 'c1',
      mcp_servers: [],
      speed: 'fast',
      inference_geo: 'us',
      diagnostics: {},
    } as MessagesRequest;
    const { json, warnings } = invoke(req, SONNET_5_5);
    expect(Object.keys(json).sort()).toEqual(['anthropic_version', 'max_tokens', 'messages']);
    for (const field of ['container', 'mcp_servers', 'speed', 'inference_geo', 'diagnostics']) {
      expect(warnings.some((w) => w.startsWith(`${field} `))).toBe(true);
    }
  });

  it('drops the server tools Bedrock does not run (and MCP toolsets), with a tool_choice naming one', () => {
    const read = { name: 'Read', input_schema: { type: 'object' } };
    const req = {
      ...simple(),
      tools: [
        read,
        { type: 'code_execution_20250825', name: 'code_execution' },
        { type: 'mcp_toolset', mcp_server_name: 'gh' },
      ],
      tool_choice: { type: 'tool', name: 'code_execution' },
    } as unknown as MessagesRequest;
    const { json, warnings } = invoke(req, SONNET_4_5);
    expect(json.tools).toEqual([read]);
    expect(json).not.toHaveProperty('tool_choice');
    expect(warnings).toContain(
      'server tools are not run by Bedrock for Claude; dropped: code_execution, mcp_toolset',
    );
    const only = invoke({ ...req, tools: req.tools?.slice(1) } as MessagesRequest, SONNET_4_5).json;
    expect(only).not.toHaveProperty('tools');
  });

  it("drops history blocks of server tools Bedrock does not run, keeps tool search's", () => {
    const code = [
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'code_execution', input: {} },
      { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_1', content: {} },
    ];
    const search = [
      { type: 'server_tool_use', id: 'srvtoolu_2', name: 'tool_search_tool_regex', input: {} },
      { type: 'tool_search_tool_result', tool_use_id: 'srvtoolu_2', content: {} },
    ];
    const req = simple({
      messages: [
        { role: 'user', content: 'compute' },
        { role: 'assistant', content: [...code, { type: 'text', text: '4' }, ...search] as never },
        { role: 'user', content: 'and?' },
        { role: 'assistant', content: code as never },
        { role: 'user', content: 'thanks' },
      ],
    });
    const { json, warnings } = invoke(req, SONNET_4_5);
    expect(json.messages).toEqual([
      { role: 'user', content: 'compute' },
      { role: 'assistant', content: [{ type: 'text', text: '4' }, ...search] },
      { role: 'user', content: 'and?' },
      // The turn left empty goes; Claude merges the user turns around it.
      { role: 'user', content: 'thanks' },
    ]);
    expect(warnings).toEqual([
      'content blocks of server tools Bedrock does not run dropped: server_tool_use, code_execution_tool_result',
    ]);
  });

  it('leaves service_tier to the gateway (it picks the Bedrock tier): not in the body, not called dropped', () => {
    const { json, warnings } = invoke(
      { ...simple(), service_tier: 'standard_only' } as MessagesRequest,
      SONNET_5_5,
    );
    expect(json).not.toHaveProperty('service_tier');
    expect(warnings).toEqual([]);
  });

  it('omits anthropic_beta when no beta is left, and ignores blanks', () => {
    const { json, droppedBetas } = invoke(simple(), SONNET_4_5, [' ', 'claude-code-20250219']);
    expect(json).not.toHaveProperty('anthropic_beta');
    expect(droppedBetas).toEqual(['claude-code-20250219']);
  });

  it("drops betas named like Object.prototype's members instead of reading them (was a 500)", () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
    const { json, droppedBetas } = invoke(simple(), SONNET_4_5, names);
    expect(json).not.toHaveProperty('anthropic_beta');
    expect(droppedBetas).toEqual(names);
  });

  it('renames advanced-tool-use to the Bedrock tool-search betas and keeps deferred tools', () => {
    const req = simple({
      tools: [{ name: 'a', input_schema: { type: 'object' }, defer_loading: true }],
    });
    const { json } = invoke(req, SONNET_4_5, ['advanced-tool-use-2025-11-20']);
    expect(json.anthropic_beta).toEqual(['tool-search-tool-2025-10-19', 'tool-examples-2025-10-29']);
    expect((json.tools as Array<Record<string, unknown>>)[0]?.defer_loading).toBe(true);
  });

  it('adds the context-management beta the field needs, and drops the field where it does not exist', () => {
    const context_management = { edits: [{ type: 'clear_tool_uses_20250919' }] };
    expect(invoke(simple({ context_management }), SONNET_4_5).json.anthropic_beta).toEqual([
      'context-management-2025-06-27',
    ]);
    const old = invoke(simple({ context_management }), 'anthropic.claude-3-7-sonnet-20250219-v1:0');
    expect(old.json).not.toHaveProperty('context_management');
    expect(old.json).not.toHaveProperty('anthropic_beta');
  });

  it('removes clear_thinking edits when thinking ends up off', () => {
    const context_management = {
      edits: [{ type: 'clear_thinking_20251015', keep: 'all' }, { type: 'clear_tool_uses_20250919' }],
    };
    const { json } = invoke(simple({ context_management }), SONNET_4_5);
    expect(json.context_management).toEqual({ edits: [{ type: 'clear_tool_uses_20250919' }] });
    const only = invoke(simple({ context_management: { edits: [context_management.edits[0]] } }), SONNET_4_5);
    expect(only.json).not.toHaveProperty('context_management');
    // A model that always thinks keeps them.
    expect(invoke(simple({ context_management }), SONNET_5_5).json.context_management).toEqual(
      context_management,
    );
  });

  it('needs the effort beta for effort on Opus 4.5 and adds it', () => {
    const { json } = invoke(
      simple({ output_config: { effort: 'max' } }),
      'anthropic.claude-opus-4-5-20251101-v1:0',
    );
    expect(json.output_config).toEqual({ effort: 'high' });
    expect(json.anthropic_beta).toEqual(['effort-2025-11-24']);
  });
});

describe('toInvokeBody thinking, effort and limits', () => {
  it.each([
    // [model, thinking in, max_tokens, effort, thinking out, output_config out]
    [SONNET_5_5, { type: 'disabled' }, 1000, undefined, undefined, undefined],
    ['anthropic.claude-sonnet-5', { type: 'disabled' }, 1000, undefined, { type: 'disabled' }, undefined],
    // Bedrock refuses `disabled` on Opus 4.7/4.8, which think only when asked: off is no thinking field.
    ['anthropic.claude-opus-4-7', { type: 'disabled' }, 1000, undefined, undefined, undefined],
    [
      'anthropic.claude-opus-4-7',
      { type: 'enabled', budget_tokens: 20_000 },
      32_000,
      undefined,
      { type: 'adaptive' },
      { effort: 'high' },
    ],
    [
      SONNET_4_5,
      { type: 'adaptive' },
      32_000,
      undefined,
      { type: 'enabled', budget_tokens: 31_999 },
      undefined,
    ],
    [SONNET_4_5, { type: 'adaptive' }, 20_000, 'low', { type: 'enabled', budget_tokens: 4_096 }, undefined],
    [SONNET_4_5, { type: 'adaptive' }, 8_000, 'high', { type: 'enabled', budget_tokens: 7_999 }, undefined],
    [SONNET_4_5, { type: 'adaptive' }, 1_000, undefined, undefined, undefined],
    [
      'anthropic.claude-opus-4-5-20251101-v1:0',
      { type: 'adaptive' },
      32_000,
      'medium',
      { type: 'enabled', budget_tokens: 16_384 },
      { effort: 'medium' },
    ],
    [
      'anthropic.claude-opus-4-6-v1',
      { type: 'adaptive', display: 'summarized' },
      32_000,
      'xhigh',
      { type: 'adaptive' },
      { effort: 'high' },
    ],
    [
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
      { type: 'enabled', budget_tokens: 2000 },
      4000,
      undefined,
      undefined,
      undefined,
    ],
  ] as const)(
    '%s: %j with max_tokens %i, effort %s → %j, %j',
    (model, thinking, maxTokens, effort, want, config) => {
      const req = simple({
        max_tokens: maxTokens,
        thinking: thinking as MessagesRequest['thinking'],
        ...(effort ? { output_config: { effort } } : {}),
      });
      const { json } = invoke(req, model);
      expect(json.thinking).toEqual(want);
      expect(json.output_config).toEqual(config);
    },
  );

  it('clamps max_tokens to the model cap and keeps the budget below it', () => {
    const req = simple({ max_tokens: 100_000, thinking: { type: 'enabled', budget_tokens: 80_000 } });
    const { json, warnings } = invoke(req, SONNET_4_5);
    expect(json.max_tokens).toBe(64_000);
    expect(json.thinking).toEqual({ type: 'enabled', budget_tokens: 63_999 });
    expect(warnings.some((w) => w.includes('clamped to 64000'))).toBe(true);
  });

  it('lets the budget exceed max_tokens with interleaved thinking', () => {
    const req = simple({ max_tokens: 100_000, thinking: { type: 'enabled', budget_tokens: 80_000 } });
    const { json } = invoke(req, SONNET_4_5, ['interleaved-thinking-2025-05-14']);
    expect(json.thinking).toEqual({ type: 'enabled', budget_tokens: 80_000 });
  });

  it('raises Claude 3.7 Sonnet to 128k output with its beta', () => {
    const model = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
    expect(invoke(simple({ max_tokens: 128_000 }), model, ['output-128k-2025-02-19']).json.max_tokens).toBe(
      128_000,
    );
    expect(invoke(simple({ max_tokens: 128_000 }), model).json.max_tokens).toBe(64_000);
  });

  it('drops tool strict where structured outputs are missing, keeps it where present', () => {
    const tools = [
      { name: 'Read', input_schema: { type: 'object' }, strict: true },
      { name: 'Ls', input_schema: { type: 'object' } },
    ];
    expect(invoke(simple({ tools }), SONNET_4_5).json.tools).toEqual(tools);
    const old = invoke(simple({ tools }), 'anthropic.claude-sonnet-4-20250514-v1:0');
    expect(old.json.tools).toEqual([
      { name: 'Read', input_schema: { type: 'object' } },
      { name: 'Ls', input_schema: { type: 'object' } },
    ]);
    expect(old.warnings).toContain('tool strict is not accepted by this model; removed from 1 tool(s)');
  });

  it('refuses output_config.format where structured outputs are missing, keeps it where present', () => {
    const format = { type: 'json_schema' as const, schema: { type: 'object' } };
    expect(invoke(simple({ output_config: { format } }), SONNET_4_5).json.output_config).toEqual({ format });
    // Dropped, the schema never reached the model and the client parsed free text as if it matched.
    expect(() =>
      invoke(simple({ output_config: { format } }), 'anthropic.claude-sonnet-4-20250514-v1:0'),
    ).toThrow(
      /output_config\.format: anthropic\.claude-sonnet-4-20250514-v1:0 does not support structured outputs/,
    );
  });
});

describe('toInvokeBody cache control', () => {
  it('removes scope everywhere and ttl on models without the 1-hour cache', () => {
    const cc = { type: 'ephemeral', ttl: '1h', scope: 'global' } as never;
    const req = simple({
      system: [{ type: 'text', text: 'sys', cache_control: cc }],
      tools: [{ name: 't', input_schema: { type: 'object' }, cache_control: cc }],
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'x',
              content: [{ type: 'text', text: 'r', cache_control: cc }],
            },
            { type: 'text', text: 'Hi', cache_control: cc },
          ],
        },
      ],
    });
    const newer = JSON.stringify(invoke(req, SONNET_4_5).json);
    expect(newer).not.toContain('scope');
    expect(newer.match(/"ttl":"1h"/g)).toHaveLength(4);
    const older = JSON.stringify(invoke(req, 'anthropic.claude-sonnet-4-20250514-v1:0').json);
    expect(older).not.toContain('ttl');
    expect(older.match(/"cache_control":\{"type":"ephemeral"\}/g)).toHaveLength(4);
  });

  it("leaves out Claude Code's per-session billing line so the cached system prefix is stable", () => {
    const cc = { type: 'ephemeral' } as const;
    const req = simple({
      system: [
        {
          type: 'text',
          text: 'x-anthropic-billing-header: cc_version=2.1.331.f3a; cc_entrypoint=cli; cch=0a1b2;',
        },
        { type: 'text', text: 'You are Claude Code.', cache_control: cc },
      ],
    });
    expect(invoke(req, SONNET_4_5).json.system).toEqual([
      { type: 'text', text: 'You are Claude Code.', cache_control: cc },
    ]);
  });

  it('moves leading system-role messages into the system prompt', () => {
    const req = simple({
      system: 'Base.',
      messages: [
        { role: 'system', content: 'Reminder.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'system', content: [{ type: 'text', text: 'Late.' }] },
      ],
    });
    const { json } = invoke(req, SONNET_5_5);
    expect(json.system).toEqual([
      { type: 'text', text: 'Base.' },
      { type: 'text', text: 'Reminder.' },
    ]);
    expect(json.messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: [{ type: 'text', text: 'Late.' }] },
    ]);
  });

  it('puts a reminder before a tool result turn after its tool_result blocks', () => {
    const req = simple({
      messages: [
        { role: 'user', content: 'Run it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }] },
        { role: 'system', content: 'Reminder.' },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'ok' },
            { type: 'text', text: 'Next.' },
          ],
        },
      ],
    });
    const messages = invoke(req, SONNET_5_5).json.messages as MessagesRequest['messages'];
    expect(messages).toHaveLength(3);
    expect(messages[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 't1', content: 'ok' },
      { type: 'text', text: 'Reminder.' },
      { type: 'text', text: 'Next.' },
    ]);
  });
});

describe('cache_control marks', () => {
  const eph = { type: 'ephemeral' } as const;
  /** Six marks: a tool, a system block, and four in the conversation (one inside a tool_result). */
  function sixMarks(): MessagesRequest {
    return simple({
      tools: [{ name: 'Read', input_schema: { type: 'object' }, cache_control: eph }],
      system: [{ type: 'text', text: 'sys', cache_control: eph }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'one', cache_control: eph }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: 'file', cache_control: eph }],
            },
            { type: 'text', text: 'two', cache_control: eph },
          ],
        },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'three', cache_control: eph }] },
      ],
    });
  }

  it('keeps the latest four of more, removing the earliest, and says so', () => {
    const req = sixMarks();
    const before = JSON.stringify(req);
    const { json, warnings } = invoke(req, SONNET_4_5);
    const marksIn = (value: unknown) => JSON.stringify(value).split('"cache_control"').length - 1;
    expect(marksIn(json.tools)).toBe(0);
    expect(marksIn(json.system)).toBe(0);
    expect(marksIn(json.messages)).toBe(4);
    expect(warnings).toContain('2 earliest cache_control mark(s) removed: at most 4 are taken');
    // The client's objects are left as they were (the web-tool loop sends the same request again).
    expect(JSON.stringify(req)).toBe(before);
  });

  it('leaves four or fewer untouched', () => {
    const req = sixMarks();
    delete req.tools![0]!.cache_control;
    (req.system as { cache_control?: unknown }[])[0]!.cache_control = undefined;
    const { json, warnings } = invoke(req, SONNET_4_5);
    expect(JSON.stringify(json.messages).split('"cache_control"').length - 1).toBe(4);
    expect(warnings.join()).not.toMatch(/cache_control/);
  });
});

describe('metadata', () => {
  it('keeps user_id only, saying which keys were dropped', () => {
    const req = simple({ metadata: { user_id: 'u1', session: 's', trace: 't' } as never });
    const { json, warnings } = invoke(req, SONNET_4_5);
    expect(json.metadata).toEqual({ user_id: 'u1' });
    expect(warnings).toContain('metadata session, trace dropped: Bedrock takes metadata.user_id only');
    expect(req.metadata).toEqual({ user_id: 'u1', session: 's', trace: 't' });
  });

  it('passes user_id alone untouched', () => {
    const { json, warnings } = invoke(simple({ metadata: { user_id: 'u1' } }), SONNET_4_5);
    expect(json.metadata).toEqual({ user_id: 'u1' });
    expect(warnings.join()).not.toMatch(/metadata/);
  });
});
