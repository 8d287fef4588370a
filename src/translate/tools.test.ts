import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import type { Tool, ToolChoice } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { blockContext, CLAUDE, OPEN, TEXT_ONLY } from './caps.fixture.ts';
import { ToolNameMap } from './tool-names.ts';
import { bedrockToolUseId, customTools, toolChoiceInstruction, toolUseIdFor, toToolConfig } from './tools.ts';

const SCHEMA = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'file', pattern: '^/' },
    lines: { type: 'array', items: { type: 'integer' }, maxItems: 3 },
  },
  required: ['path'],
  additionalProperties: false,
  $schema: 'http://json-schema.org/draft-07/schema#',
};

const read: Tool = { name: 'Read', description: 'Read a file', input_schema: SCHEMA };
const noHistory = { historyToolNames: new Set<string>(), historyHasToolBlocks: false };

function config(tools: Tool[], toolChoice?: ToolChoice, caps = CLAUDE, history = noHistory) {
  const ctx = blockContext(
    caps,
    tools.map((t) => t.name),
  );
  const kept = customTools(tools, ctx);
  return { config: toToolConfig({ tools: kept, toolChoice, ...history }, ctx), warnings: [...ctx.warnings] };
}

describe('toToolConfig', () => {
  it('passes the input schema through intact and keeps the description', () => {
    const { config: c } = config([read]);
    expect(c).toEqual({
      tools: [{ toolSpec: { name: 'Read', description: 'Read a file', inputSchema: { json: SCHEMA } } }],
    });
  });

  it('omits an empty description and maps names Bedrock refuses', () => {
    const { config: c } = config([
      { name: 'mcp__github__get.issue', description: '  ', input_schema: { type: 'object' } },
    ]);
    const spec = c?.tools?.[0]?.toolSpec;
    expect(spec).not.toHaveProperty('description');
    expect(spec?.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(spec?.name).not.toBe('mcp__github__get.issue');
  });

  it('sends strict to models with structured outputs, whatever the family, and says so where it is dropped', () => {
    const strict = { ...read, strict: true };
    for (const caps of [CLAUDE, OPEN].map((c) => ({ ...c, structuredOutputs: true }))) {
      const sent = config([strict], undefined, caps);
      expect(sent.config?.tools?.[0]?.toolSpec?.strict).toBe(true);
      expect(sent.warnings).toEqual([]);
    }
    for (const caps of [CLAUDE, OPEN]) {
      const dropped = config([strict, { ...read, name: 'Other' }], undefined, caps);
      expect(dropped.config?.tools?.[0]?.toolSpec).not.toHaveProperty('strict');
      expect(dropped.warnings).toEqual([expect.stringMatching(/^strict dropped from 1 tool\(s\)/)]);
    }
  });

  it('names a dropped MCP toolset by its server', () => {
    const { warnings } = config([
      read,
      { type: 'mcp_toolset', mcp_server_name: 'github' } as unknown as Tool,
    ]);
    expect(warnings).toEqual(['server tool "github" (mcp_toolset) dropped: it cannot run on Bedrock']);
  });

  it('drops server tools with a warning and keeps deferred tools', () => {
    const { config: c, warnings } = config([
      { name: 'web_search', type: 'web_search_20250305', input_schema: {} },
      { ...read, defer_loading: true },
    ]);
    expect(c?.tools?.map((t) => t.toolSpec?.name)).toEqual(['Read']);
    expect(warnings.join()).toContain('web_search');
  });

  it('sends the tools the client runs itself (bash, text editor, memory) with their schemas; drops code execution', () => {
    const { config: c, warnings } = config(
      [
        { name: 'bash', type: 'bash_20250124' },
        { name: 'str_replace_based_edit_tool', type: 'text_editor_20250728' },
        { name: 'memory', type: 'memory_20250818' },
        { name: 'code_execution', type: 'code_execution_20250825' },
      ] as unknown as Tool[],
      undefined,
      OPEN,
    );
    const specs = c?.tools?.map((t) => t.toolSpec);
    expect(specs?.map((s) => s?.name)).toEqual(['bash', 'str_replace_based_edit_tool', 'memory']);
    expect(specs?.[1]?.inputSchema?.json).toMatchObject({
      required: ['command', 'path'],
      properties: { command: { enum: expect.arrayContaining(['view', 'str_replace', 'insert']) } },
    });
    expect(specs?.[2]?.description).toMatch(/memory directory/);
    expect(warnings.join()).toMatch(/code_execution.*dropped/);
  });

  it('adds a cache point after a tool marked with cache_control, where the model caches', () => {
    const marked = { ...read, cache_control: { type: 'ephemeral' as const } };
    expect(config([marked]).config?.tools?.[1]).toEqual({ cachePoint: { type: 'default' } });
    expect(config([marked], undefined, { ...CLAUDE, caching: false }).config?.tools).toHaveLength(1);
  });

  it.each([
    [{ type: 'auto' }, { auto: {} }],
    [{ type: 'any' }, { any: {} }],
    [{ type: 'tool', name: 'Read' }, { tool: { name: 'Read' } }],
  ] as Array<[ToolChoice, unknown]>)('maps tool_choice %j', (choice, expected) => {
    expect(config([read], choice).config?.toolChoice).toEqual(expected);
  });

  it('falls back to auto with a warning where the model cannot force a tool', () => {
    for (const choice of [{ type: 'any' }, { type: 'tool', name: 'Read' }] as ToolChoice[]) {
      const { config: c, warnings } = config([read], choice, OPEN);
      expect(c?.toolChoice).toEqual({ auto: {} });
      expect(warnings).toHaveLength(1);
    }
  });

  it('sends no tools for tool_choice none without tool history', () => {
    expect(config([read], { type: 'none' }).config).toBeUndefined();
  });

  it('keeps the tools without a choice for tool_choice none when history has tool blocks', () => {
    const history = { historyToolNames: new Set(['Read']), historyHasToolBlocks: true };
    const { config: c, warnings } = config([read], { type: 'none' }, CLAUDE, history);
    expect(c?.tools).toHaveLength(1);
    expect(c).not.toHaveProperty('toolChoice');
    expect(warnings.join()).toContain('none');
  });

  it('synthesises minimal tools for the history when the request has none', () => {
    const history = { historyToolNames: new Set(['Read', 'Bash']), historyHasToolBlocks: true };
    expect(config([], undefined, CLAUDE, history).config).toEqual({
      tools: [
        { toolSpec: { name: 'Read', inputSchema: { json: { type: 'object' } } } },
        { toolSpec: { name: 'Bash', inputSchema: { json: { type: 'object' } } } },
      ],
    });
    expect(config([]).config).toBeUndefined();
  });

  it('warns that disable_parallel_tool_use cannot be honoured', () => {
    expect(config([read], { type: 'auto', disable_parallel_tool_use: true }).warnings.join()).toContain(
      'disable_parallel_tool_use',
    );
  });

  it('drops tools for a model without tool use, and refuses to force a call', () => {
    const { config: c, warnings } = config([read], { type: 'auto' }, TEXT_ONLY);
    expect(c).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(() => config([read], { type: 'any' }, TEXT_ONLY)).toThrow(ApiError);
  });
});

describe('bedrockToolUseId', () => {
  it('keeps valid ids and maps others deterministically into the Bedrock pattern', () => {
    expect(bedrockToolUseId('toolu_01ABCdef-9')).toBe('toolu_01ABCdef-9');
    const mapped = bedrockToolUseId('call:1/2.3');
    expect(mapped).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(bedrockToolUseId('call:1/2.3')).toBe(mapped);
    expect(bedrockToolUseId('call:1/2.4')).not.toBe(mapped);
    expect(bedrockToolUseId('x'.repeat(100))).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });
});

describe('toolUseIdFor', () => {
  const mistral = { family: 'mistral' } as const;

  it("gives a Mistral model nine letters or digits for Bedrock's or Claude's ids, the same for a call and its result", () => {
    const bedrock = toolUseIdFor('tooluse_bpe71yCfRu2b5i-nKGDr5g', mistral);
    const claude = toolUseIdFor('toolu_bdrk_01ABCdef', mistral);
    expect(bedrock).toMatch(/^[a-zA-Z0-9]{9}$/);
    expect(claude).toMatch(/^[a-zA-Z0-9]{9}$/);
    expect(toolUseIdFor('tooluse_bpe71yCfRu2b5i-nKGDr5g', mistral)).toBe(bedrock);
    // Ids sharing a prefix stay distinct (keeping the first nine characters would make them all `tooluseXX`).
    expect(toolUseIdFor('tooluse_bpe71yCfRu2b5i-nKGDr5h', mistral)).not.toBe(bedrock);
    expect(toolUseIdFor('a1B2c3D4e', mistral)).toBe('a1B2c3D4e');
  });

  it('leaves other models their Bedrock-valid ids', () => {
    expect(toolUseIdFor('tooluse_bpe71yCfRu2b5i-nKGDr5g', OPEN)).toBe('tooluse_bpe71yCfRu2b5i-nKGDr5g');
    expect(toolUseIdFor('call:1', CLAUDE)).toBe(bedrockToolUseId('call:1'));
  });
});

describe('toolChoiceInstruction', () => {
  const ctx = (caps: ModelCapabilities) => ({ caps, toolNames: new ToolNameMap(['mcp__a.b']) });
  const sent = { tools: true, toolHistory: false };

  it('asks in words only for what Converse cannot express for the model', () => {
    expect(toolChoiceInstruction({ type: 'any' }, sent, ctx(CLAUDE))).toBeUndefined();
    expect(toolChoiceInstruction({ type: 'any' }, sent, ctx(OPEN))).toMatch(
      /calling one of the provided tools/,
    );
    // Under the name the model knows the tool by.
    expect(toolChoiceInstruction({ type: 'tool', name: 'mcp__a.b' }, sent, ctx(OPEN))).toMatch(
      /calling the tool "mcp__a_b[^"]*"/,
    );
    expect(toolChoiceInstruction({ type: 'auto' }, sent, ctx(OPEN))).toBeUndefined();
    // No tools sent: nothing to force.
    expect(
      toolChoiceInstruction({ type: 'any' }, { tools: false, toolHistory: false }, ctx(OPEN)),
    ).toBeUndefined();
  });

  it('`none` is said only when the tools must be sent for the history', () => {
    expect(toolChoiceInstruction({ type: 'none' }, sent, ctx(OPEN))).toBeUndefined();
    expect(toolChoiceInstruction({ type: 'none' }, { tools: true, toolHistory: true }, ctx(OPEN))).toMatch(
      /Do not call any tool/,
    );
  });
});
