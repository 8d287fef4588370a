/**
 * A request body shaped like Claude Code 2.1.x's (protocol-notes.md): billing line + cached system
 * blocks, `role: "system"` reminders between turns, 18 tools including MCP names Bedrock refuses and
 * deferred tools, adaptive thinking with effort, context_management, metadata.user_id, and a tool loop
 * with thinking, a tool search answered by tool_reference blocks, an image and an empty tool result.
 * Signatures are parameters: the caller decides whose thinking the history carries.
 */
import type { MessagesRequest, Tool } from '../anthropic/types.ts';

const cache = { type: 'ephemeral' as const };
const object = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  $schema: 'http://json-schema.org/draft-07/schema#',
});

export const CLAUDE_CODE_TOOLS: Tool[] = [
  {
    name: 'Task',
    description: 'Launch a new agent',
    input_schema: object({ prompt: { type: 'string' } }, ['prompt']),
  },
  {
    name: 'Bash',
    description: 'Run a shell command',
    input_schema: object({ command: { type: 'string' } }, ['command']),
  },
  {
    name: 'Glob',
    description: 'Find files',
    input_schema: object({ pattern: { type: 'string' } }, ['pattern']),
  },
  {
    name: 'Grep',
    description: 'Search files',
    input_schema: object({ pattern: { type: 'string' } }, ['pattern']),
  },
  {
    name: 'Read',
    description: 'Read a file',
    input_schema: object({ file_path: { type: 'string' } }, ['file_path']),
  },
  { name: 'Edit', description: 'Edit a file', input_schema: object({ file_path: { type: 'string' } }) },
  { name: 'Write', description: 'Write a file', input_schema: object({ file_path: { type: 'string' } }) },
  {
    name: 'NotebookEdit',
    description: 'Edit a notebook',
    input_schema: object({ path: { type: 'string' } }),
  },
  {
    name: 'WebFetch',
    description: 'Fetch a URL',
    input_schema: object({ url: { type: 'string', format: 'uri' } }),
  },
  {
    name: 'TodoWrite',
    description: 'Update the todo list',
    input_schema: object({ todos: { type: 'array' } }),
  },
  {
    name: 'ToolSearch',
    description: 'Search deferred tools',
    input_schema: object({ query: { type: 'string' } }),
  },
  { name: 'ExitPlanMode', description: '', input_schema: object({}) },
  {
    name: 'mcp__github__get.issue',
    description: 'Get an issue',
    input_schema: object({ number: { type: 'integer', minimum: 1 } }),
    defer_loading: true,
  },
  {
    name: 'mcp__github__create_pull_request',
    description: 'Open a pull request',
    input_schema: object({ title: { type: 'string' } }),
    defer_loading: true,
  },
  {
    name: 'mcp__slack__post.message',
    description: 'Post to Slack',
    input_schema: object({}),
    defer_loading: true,
  },
  {
    name: 'mcp__db__query:readonly',
    description: 'Run SQL',
    input_schema: object({ sql: { type: 'string' } }),
  },
  {
    name: `mcp__very_long_server_name_for_testing__${'x'.repeat(60)}`,
    description: 'A tool whose name exceeds 64 characters',
    input_schema: object({}),
  },
  {
    name: 'web_search',
    type: 'web_search_20250305',
    input_schema: {},
    cache_control: cache,
  },
];

export interface ClaudeCodeRequestOptions {
  /** Signature for a thinking text, as the model that produced it would have signed it. */
  sign: (thinking: string) => string;
  /** A base64 PNG returned by the Read tool. */
  pngBase64: string;
}

export function claudeCodeRequest({ sign, pngBase64 }: ClaudeCodeRequestOptions): MessagesRequest {
  const think1 = 'The test fails on the date parser. Read the file first.';
  const think2 = 'I need the GitHub tool; search for it.';
  const think3 = 'Now fetch issue 42.';
  return {
    model: 'claude-sonnet-5-5',
    max_tokens: 32_000,
    stream: true,
    system: [
      {
        type: 'text',
        text: 'x-anthropic-billing-header: cc_version=2.1.331.f3a; cc_entrypoint=cli; cch=0a1b2;',
      },
      {
        type: 'text',
        text: "You are Claude Code, Anthropic's official CLI for Claude.",
        cache_control: cache,
      },
      {
        type: 'text',
        text: 'You are an interactive CLI tool that helps users with software engineering tasks.',
        cache_control: cache,
      },
    ],
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: '<system-reminder>\nAs you answer, use the context below.\n</system-reminder>',
          },
          { type: 'text', text: 'Fix the failing date test and link issue 42.' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: think1, signature: sign(think1) },
          { type: 'text', text: "I'll read the parser." },
          { type: 'tool_use', id: 'toolu_01Read', name: 'Read', input: { file_path: '/repo/src/date.ts' } },
          { type: 'tool_use', id: 'toolu_02Shot', name: 'Read', input: { file_path: '/repo/failure.png' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01Read', content: '1\texport function parse() {}' },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_02Shot',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngBase64 } },
            ],
          },
        ],
      },
      {
        role: 'system',
        content: "<system-reminder>The TodoWrite tool hasn't been used recently.</system-reminder>",
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: think2, signature: sign(think2) },
          { type: 'tool_use', id: 'toolu_03Search', name: 'ToolSearch', input: { query: 'github issue' } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_03Search',
            content: [{ type: 'tool_reference', tool_name: 'mcp__github__get.issue' }],
          },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: think3, signature: sign(think3) },
          { type: 'tool_use', id: 'toolu_04Issue', name: 'mcp__github__get.issue', input: { number: 42 } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_04Issue', content: '', cache_control: cache },
          { type: 'text', text: 'Also run the tests.', cache_control: cache },
        ],
      },
    ],
    tools: CLAUDE_CODE_TOOLS,
    tool_choice: { type: 'auto' },
    thinking: { type: 'adaptive', display: 'omitted' },
    output_config: { effort: 'medium' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    metadata: {
      user_id:
        '{"device_id":"5f0c1e7a","account_uuid":"","session_id":"2b6c9d1e-77aa-4e0b-9f3a-0c1d2e3f4a5b"}',
    },
  };
}
