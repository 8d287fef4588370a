import type { ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import type { MessagesRequest } from '../anthropic/types.ts';
import type { ModelCapabilities, ServiceTier } from '../models/types.ts';
import { CLAUDE, OPEN, SECRET, TEXT_ONLY } from './caps.fixture.ts';
import type { FamilyParamsInput } from './family-params.ts';
import { toConverseRequest } from './to-converse.ts';

// family-params.ts has its own tests; here it is a stand-in whose output is easy to recognise, so these
// cases check where toConverseRequest puts that output, not what the family rules are.
vi.mock('./family-params.ts', () => ({
  familyParams: (_caps: ModelCapabilities, input: FamilyParamsInput) => {
    const thinkingOn = input.thinking !== undefined && input.thinking.type !== 'disabled';
    return {
      additionalModelRequestFields: {
        ...(thinkingOn ? { thinking: { type: 'adaptive' } } : {}),
        ...(input.topK === undefined ? {} : { top_k: input.topK }),
      },
      maxTokens: Math.min(input.maxTokens, 1000),
      ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
      ...(input.topP === undefined ? {} : { topP: input.topP }),
      ...(input.effort ? { effort: input.effort } : {}),
      reasoning: thinkingOn,
      warnings: input.maxTokens > 1000 ? ['max_tokens clamped'] : [],
    };
  },
}));

interface Case {
  name: string;
  caps?: ModelCapabilities;
  serviceTier?: ServiceTier;
  request: Omit<MessagesRequest, 'model'>;
  /** The whole Converse input apart from modelId. */
  expected: Omit<ConverseStreamCommandInput, 'modelId'>;
  /** Substrings, one per expected warning. */
  warnings?: string[];
}

const cache = { type: 'ephemeral' as const };
const point = { cachePoint: { type: 'default' as const } };
const pdf = Buffer.from('%PDF-1.7 body');

const CASES: Case[] = [
  {
    name: 'plain chat with sampling, stop sequences, user metadata and a tier',
    serviceTier: 'flex',
    caps: OPEN,
    request: {
      max_tokens: 500,
      system: 'Answer in French.',
      messages: [{ role: 'user', content: 'Hello' }],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['\n\nHuman:', ''],
      metadata: { user_id: '{"device_id":"abc123","session_id":"s-1"}' },
    },
    expected: {
      messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
      system: [{ text: 'Answer in French.' }],
      inferenceConfig: { maxTokens: 500, temperature: 0.2, topP: 0.9, stopSequences: ['\n\nHuman:'] },
      additionalModelRequestFields: { top_k: 40 },
      requestMetadata: { user_id: '__device_id_:_abc123___session_id_:_s-1__' },
      serviceTier: { type: 'flex' },
    },
  },
  {
    name: 'a model without system prompts gets the system text in the first user turn',
    caps: TEXT_ONLY,
    serviceTier: 'default',
    request: {
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be terse.' }],
      messages: [
        { role: 'assistant', content: 'Earlier answer.' },
        { role: 'user', content: 'Go on.' },
      ],
    },
    expected: {
      messages: [
        { role: 'user', content: [{ text: 'Be terse.' }, { text: '(start of conversation)' }] },
        { role: 'assistant', content: [{ text: 'Earlier answer.' }] },
        { role: 'user', content: [{ text: 'Go on.' }] },
      ],
      inferenceConfig: { maxTokens: 100 },
    },
    warnings: ['no system prompt'],
  },
  {
    name: 'tools with a forced tool, effort and clamped max_tokens',
    request: {
      max_tokens: 32_000,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          cache_control: cache,
        },
      ],
      tool_choice: { type: 'tool', name: 'get_weather' },
      output_config: { effort: 'low' },
    },
    expected: {
      messages: [{ role: 'user', content: [{ text: 'Weather in Paris?' }] }],
      inferenceConfig: { maxTokens: 1000 },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Current weather',
              inputSchema: {
                json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
              },
            },
          },
          point,
        ],
        toolChoice: { tool: { name: 'get_weather' } },
      },
      outputConfig: { effort: 'low' },
    },
    warnings: ['max_tokens clamped'],
  },
  {
    name: 'a forced tool the model cannot be forced to call is asked for in the system prompt',
    caps: OPEN,
    request: {
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    },
    expected: {
      system: [
        { text: 'Be brief.' },
        {
          text: 'You must answer by calling the tool "get_weather"; do not answer with text alone. Call at most one tool in this answer.',
        },
      ],
      messages: [{ role: 'user', content: [{ text: 'Weather in Paris?' }] }],
      inferenceConfig: { maxTokens: 100 },
      toolConfig: {
        tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
        toolChoice: { auto: {} },
      },
    },
    warnings: ['disable_parallel_tool_use is not supported', 'tool_choice "tool" is not supported'],
  },
  {
    name: 'tool history without tools gets synthesised tool specs',
    request: {
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Summarise the session.' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_9', name: 'Grep', input: { q: 'x' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'no match' }] },
      ],
    },
    expected: {
      messages: [
        { role: 'user', content: [{ text: 'Summarise the session.' }] },
        {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: 'toolu_9', name: 'Grep', input: { q: 'x' } } }],
        },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 'toolu_9', content: [{ text: 'no match' }] } }],
        },
      ],
      inferenceConfig: { maxTokens: 100 },
      toolConfig: { tools: [{ toolSpec: { name: 'Grep', inputSchema: { json: { type: 'object' } } } }] },
    },
  },
  {
    name: 'a PDF with a question, structured output, and ignored Anthropic-only fields',
    caps: { ...CLAUDE, structuredOutputs: true },
    request: {
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'Annual report (2025).pdf',
              source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') },
            },
            { type: 'text', text: 'Revenue?' },
          ],
        },
      ],
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
    },
    expected: {
      messages: [
        {
          role: 'user',
          content: [
            { document: { format: 'pdf', name: 'Annual report (2025) pdf', source: { bytes: pdf } } },
            { text: 'Revenue?' },
          ],
        },
      ],
      inferenceConfig: { maxTokens: 100 },
      outputConfig: {
        textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: '{"type":"object"}' } } },
      },
    },
    warnings: ['context_management'],
  },
  {
    name: 'a compaction block stands for the history before it: its summary is sent, what it replaced is not',
    request: {
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'build a parser' },
        { role: 'assistant', content: 'on it' },
        { role: 'user', content: 'go on' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'before' },
            { type: 'compaction', content: 'Summary: half done.', signature: 's' } as never,
            { type: 'text', text: 'after' },
          ],
        },
        { role: 'user', content: 'continue' },
      ],
    },
    expected: {
      messages: [
        { role: 'user', content: [{ text: '(earlier conversation compacted; its summary follows)' }] },
        { role: 'assistant', content: [{ text: 'Summary: half done.' }, { text: 'after' }] },
        { role: 'user', content: [{ text: 'continue' }] },
      ],
      inferenceConfig: { maxTokens: 100 },
    },
    warnings: ['3 message(s) before the last compaction block dropped'],
  },
  {
    name: 'a 1-hour cache mark keeps its TTL where the model has the 1-hour cache, and becomes 5 minutes elsewhere',
    caps: { ...CLAUDE, cacheTtl: true },
    request: {
      max_tokens: 100,
      tools: [{ name: 'ls', input_schema: { type: 'object' }, cache_control: { ...cache, ttl: '1h' } }],
      system: [{ type: 'text', text: 'S', cache_control: { ...cache, ttl: '1h' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'U', cache_control: { ...cache, ttl: '5m' } }] },
      ],
    },
    expected: {
      messages: [{ role: 'user', content: [{ text: 'U' }, point] }],
      system: [{ text: 'S' }, { cachePoint: { type: 'default', ttl: '1h' } }],
      toolConfig: {
        tools: [
          { toolSpec: { name: 'ls', inputSchema: { json: { type: 'object' } } } },
          { cachePoint: { type: 'default', ttl: '1h' } },
        ],
      },
      inferenceConfig: { maxTokens: 100 },
    },
  },
  {
    name: 'a 1-hour cache mark on a model without the 1-hour cache is a 5-minute cache point',
    request: {
      max_tokens: 100,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'U', cache_control: { ...cache, ttl: '1h' } }] },
      ],
    },
    expected: {
      messages: [{ role: 'user', content: [{ text: 'U' }, point] }],
      inferenceConfig: { maxTokens: 100 },
    },
  },
  {
    name: 'more than four cache marks keep the last four',
    request: {
      max_tokens: 100,
      system: [
        { type: 'text', text: 'S1', cache_control: cache },
        { type: 'text', text: 'S2', cache_control: cache },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'U1', cache_control: cache }] },
        { role: 'assistant', content: [{ type: 'text', text: 'A1', cache_control: cache }] },
        { role: 'user', content: [{ type: 'text', text: 'U2', cache_control: cache }] },
      ],
    },
    expected: {
      messages: [
        { role: 'user', content: [{ text: 'U1' }, point] },
        { role: 'assistant', content: [{ text: 'A1' }, point] },
        { role: 'user', content: [{ text: 'U2' }, point] },
      ],
      system: [{ text: 'S1' }, { text: 'S2' }, point],
      inferenceConfig: { maxTokens: 100 },
    },
    warnings: ['1 cache_control'],
  },
  {
    name: 'Claude thinking is switched off when the tool call it continues lost its thinking',
    request: {
      max_tokens: 100,
      thinking: { type: 'adaptive' },
      messages: [
        { role: 'user', content: 'run it' },
        {
          role: 'assistant',
          content: [
            // Reasoning from an open model, signed by the gateway: Claude cannot take it.
            { type: 'thinking', thinking: 'open thoughts', signature: 'abp1.not-for-claude' },
            { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt' }] },
      ],
      tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
    },
    expected: {
      messages: [
        { role: 'user', content: [{ text: 'run it' }] },
        {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: 'toolu_1', name: 'Bash', input: { command: 'ls' } } }],
        },
        { role: 'user', content: [{ toolResult: { toolUseId: 'toolu_1', content: [{ text: 'a.txt' }] } }] },
      ],
      inferenceConfig: { maxTokens: 100 },
      toolConfig: { tools: [{ toolSpec: { name: 'Bash', inputSchema: { json: { type: 'object' } } } }] },
    },
    warnings: ['without a Claude signature', 'thinking switched off'],
  },
];

describe('toConverseRequest', () => {
  it.each(CASES)('$name', ({ caps = CLAUDE, serviceTier, request, expected, warnings = [] }) => {
    const modelId = 'us.example.model-v1:0';
    const out = toConverseRequest(
      { model: 'client-name', ...request },
      { modelId, caps, serviceTier, signingSecret: SECRET },
    );
    expect(out.input).toEqual({ modelId, ...expected });
    expect(out.warnings).toHaveLength(warnings.length);
    for (const [i, w] of warnings.entries()) expect(out.warnings[i]).toContain(w);
  });

  it('refuses a JSON schema for a model without structured outputs (400), sends it where it has them', () => {
    const request: MessagesRequest = {
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
    };
    const refuse = () => toConverseRequest(request, { modelId: 'm', caps: OPEN, signingSecret: SECRET });
    expect(refuse).toThrow(ApiError);
    expect(refuse).toThrow(/output_config\.format: m does not support structured outputs/);
    const out = toConverseRequest(request, {
      modelId: 'm',
      caps: { ...OPEN, structuredOutputs: true },
      signingSecret: SECRET,
    });
    expect(out.input.outputConfig?.textFormat?.structure?.jsonSchema?.schema).toBe('{"type":"object"}');
  });

  it('returns the tool-name map that maps Bedrock names back', () => {
    const out = toConverseRequest(
      {
        model: 'm',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ name: 'mcp__srv__tool.name', input_schema: { type: 'object' } }],
      },
      { modelId: 'm', caps: CLAUDE, signingSecret: SECRET },
    );
    const sent = out.input.toolConfig?.tools?.[0]?.toolSpec?.name ?? '';
    expect(sent).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(out.toolNames.toAnthropic(sent)).toBe('mcp__srv__tool.name');
  });

  it('keeps Claude thinking that opens the tool loop', () => {
    const out = toConverseRequest(
      {
        model: 'm',
        max_tokens: 10,
        thinking: { type: 'adaptive' },
        messages: [
          { role: 'user', content: 'run it' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: '', signature: 'claude-sig' },
              { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
        ],
        tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
      },
      { modelId: 'm', caps: CLAUDE, signingSecret: SECRET },
    );
    expect(out.input.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' } });
    expect(out.input.messages?.[1]?.content?.[0]?.reasoningContent).toBeDefined();
    expect(out.warnings).toEqual([]);
  });
});
