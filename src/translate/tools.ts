/**
 * Anthropic `tools` + `tool_choice` → Converse toolConfig.
 *
 * - Custom tools travel, and the Anthropic-defined tools the client runs itself (bash, text editor,
 *   memory) as custom tools with their documented schemas (client-tools.ts). Server tools that run inside
 *   Anthropic's API (code_execution_…) cannot run on Bedrock: dropped with a warning.
 * - `defer_loading` tools (Claude Code's tool search) are sent as ordinary tools: Converse has no deferral,
 *   and a model that sees the tool up front can still call it, which is what the client wants eventually.
 * - Converse needs a toolConfig whenever the history holds tool blocks, even if the request has no tools
 *   (e.g. a summary request over a tool loop): minimal specs are synthesised for the names in history.
 * - `tool_choice: none` has no Converse form: with no tool history the tools are simply not sent (the
 *   model then cannot call any); with tool history they must stay, without a choice, and we warn.
 */

import { createHash } from 'node:crypto';
import type {
  Tool as ConverseTool,
  ToolChoice,
  ToolConfiguration,
  ToolInputSchema,
} from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../anthropic/errors.ts';
import type { ToolChoice as AnthropicToolChoice, Tool } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import type { BlockContext } from './block-context.ts';
import { cachePointFor } from './cache-points.ts';
import { asCustomTool } from './client-tools.ts';

/** Converse's JSON document type (the SDK re-exports it only through @smithy/types). */
export type JsonDocument = ToolInputSchema.JsonMember['json'];

type ToolsContext = Pick<BlockContext, 'caps' | 'modelId' | 'toolNames' | 'warnings'>;

const VALID_TOOL_USE_ID = /^[a-zA-Z0-9_-]{1,64}$/;

/** Bedrock toolUseIds are [a-zA-Z0-9_-]{1,64}; deterministic, so a tool_use and its result still pair. */
export function bedrockToolUseId(id: string): string {
  if (VALID_TOOL_USE_ID.test(id)) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 12);
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64 - 13)}_${hash}`;
}

const MISTRAL_TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Mistral models take only their own tool call ids, nine letters or digits ("Tool call id was … but must
 * be a-z, A-Z, 0-9, with a length of 9"), though Bedrock hands them `tooluse_…` ids like every model's:
 * any other id becomes nine characters of its hash, the same for a tool_use and its result.
 */
function mistralToolCallId(id: string): string {
  if (MISTRAL_TOOL_CALL_ID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  return Array.from(digest.subarray(0, 9), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
}

/** The toolUseId the model takes for a client's tool_use id (in a tool_use or a tool_result). */
export function toolUseIdFor(id: string, caps: Pick<ModelCapabilities, 'family'>): string {
  return caps.family === 'mistral' ? mistralToolCallId(id) : bedrockToolUseId(id);
}

function isCustom(tool: Tool): boolean {
  return tool.type === undefined || tool.type === 'custom';
}

/** The request's tools that can run through Converse; the others are reported and dropped. */
export function customTools(
  tools: readonly Tool[] | undefined,
  ctx: Pick<ToolsContext, 'caps' | 'modelId' | 'warnings'>,
): Tool[] {
  if (!tools || tools.length === 0) return [];
  if (!ctx.caps.tools) {
    ctx.warnings.add(`tools dropped: ${ctx.modelId} does not support tool use`);
    return [];
  }
  const kept: Tool[] = [];
  for (const tool of tools) {
    if (isCustom(tool)) {
      kept.push(tool);
      continue;
    }
    const clientRun = asCustomTool(tool);
    if (clientRun) kept.push(clientRun);
    // An MCP toolset has no name of its own: its server's name says which.
    else {
      const name = tool.name ?? (tool as { mcp_server_name?: unknown }).mcp_server_name;
      ctx.warnings.add(`server tool "${String(name)}" (${tool.type}) dropped: it cannot run on Bedrock`);
    }
  }
  return kept;
}

function toolSpec(tool: Tool, ctx: ToolsContext): ConverseTool {
  const description = tool.description?.trim() ? tool.description : undefined;
  return {
    toolSpec: {
      name: ctx.toolNames.toBedrock(tool.name),
      // Bedrock rejects an empty description; it is optional, so leave it out.
      ...(description === undefined ? {} : { description }),
      // The schema goes through intact: dropping keys changes what the model may send.
      inputSchema: { json: tool.input_schema as JsonDocument },
      ...(tool.strict === true && ctx.caps.structuredOutputs ? { strict: true } : {}),
    },
  };
}

/**
 * `strict` goes only to models with Bedrock's structured outputs (elsewhere Bedrock refuses the field);
 * dropped, the tool still carries its input schema, so the call goes on and the client hears that the
 * inputs are not schema-enforced.
 */
function warnUnenforcedStrict(tools: readonly Tool[], ctx: ToolsContext): void {
  if (ctx.caps.structuredOutputs) return;
  const strict = tools.filter((tool) => tool.strict === true).length;
  if (strict > 0)
    ctx.warnings.add(
      `strict dropped from ${strict} tool(s): ${ctx.modelId} has no structured outputs on Bedrock, so tool inputs are not schema-enforced`,
    );
}

function toolChoice(choice: AnthropicToolChoice, ctx: ToolsContext): ToolChoice | undefined {
  switch (choice.type) {
    case 'auto':
      return { auto: {} };
    case 'any':
      if (ctx.caps.toolChoiceAny) return { any: {} };
      ctx.warnings.add(`tool_choice "any" is not supported by ${ctx.modelId}; sent as "auto"`);
      return { auto: {} };
    case 'tool':
      if (ctx.caps.toolChoiceTool) return { tool: { name: ctx.toolNames.toBedrock(choice.name) } };
      ctx.warnings.add(`tool_choice "tool" is not supported by ${ctx.modelId}; sent as "auto"`);
      return { auto: {} };
    case 'none':
      return undefined;
    default: {
      const unknown: never = choice;
      throw ApiError.invalid(
        `tool_choice.type: unknown value ${JSON.stringify((unknown as { type: unknown }).type)}`,
      );
    }
  }
}

export interface ToolConfigInput {
  /** The custom tools (see customTools). */
  tools: readonly Tool[];
  toolChoice?: AnthropicToolChoice;
  /** Bedrock names of the tools called in the translated history. */
  historyToolNames: ReadonlySet<string>;
  /** The translated history holds toolUse/toolResult blocks, so Converse requires a toolConfig. */
  historyHasToolBlocks: boolean;
}

export function toToolConfig(input: ToolConfigInput, ctx: ToolsContext): ToolConfiguration | undefined {
  const { tools, toolChoice: choice, historyHasToolBlocks } = input;
  if (!ctx.caps.tools) {
    if (choice?.type === 'any' || choice?.type === 'tool') {
      throw ApiError.invalid(
        `tool_choice: ${ctx.modelId} does not support tool use, so no tool call can be forced`,
      );
    }
    return undefined;
  }
  if (choice?.type === 'none' && !historyHasToolBlocks) return undefined;

  warnUnenforcedStrict(tools, ctx);
  const specs: ConverseTool[] = [];
  for (const tool of tools) {
    specs.push(toolSpec(tool, ctx));
    if (tool.cache_control && ctx.caps.caching) specs.push(cachePointFor(tool.cache_control, ctx.caps));
  }
  if (tools.length === 0) {
    if (!historyHasToolBlocks) return undefined;
    for (const name of input.historyToolNames) {
      specs.push({ toolSpec: { name, inputSchema: { json: { type: 'object' } } } });
    }
    if (specs.length === 0) {
      // Tool results whose calls are gone still need some toolConfig.
      specs.push({ toolSpec: { name: 'unavailable_tool', inputSchema: { json: { type: 'object' } } } });
    }
    return { tools: specs };
  }

  if (choice?.type === 'none') {
    ctx.warnings.add('tool_choice "none" cannot be expressed on Converse; tools kept for the tool history');
  }
  if (choice !== undefined && 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use) {
    ctx.warnings.add(
      'disable_parallel_tool_use is not supported on Converse; the model may call several tools',
    );
  }
  const converseChoice = choice === undefined ? undefined : toolChoice(choice, ctx);
  return converseChoice === undefined ? { tools: specs } : { tools: specs, toolChoice: converseChoice };
}

/**
 * What `tool_choice` asks that Converse cannot express for this model, said to the model instead (a
 * system instruction): a forced call (`any`, or `tool` where the model takes only `auto`), no call
 * (`none`, where the tools must stay for the history), one call at most (`disable_parallel_tool_use`).
 * Anthropic guarantees these; an open model mostly follows the instruction, and the warning stays.
 */
export function toolChoiceInstruction(
  choice: AnthropicToolChoice | undefined,
  sent: { tools: boolean; toolHistory: boolean },
  ctx: Pick<ToolsContext, 'caps' | 'toolNames'>,
): string | undefined {
  if (choice === undefined || !ctx.caps.tools) return undefined;
  const parts: string[] = [];
  if (choice.type === 'any' && !ctx.caps.toolChoiceAny && sent.tools)
    parts.push('You must answer by calling one of the provided tools; do not answer with text alone.');
  if (choice.type === 'tool' && !ctx.caps.toolChoiceTool && sent.tools)
    parts.push(
      `You must answer by calling the tool "${ctx.toolNames.toBedrock(choice.name)}"; do not answer with text alone.`,
    );
  // `none` leaves the tools out, unless the history's tool blocks need them sent.
  if (choice.type === 'none' && sent.tools && sent.toolHistory)
    parts.push('Do not call any tool in this answer; answer with text.');
  if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use)
    parts.push('Call at most one tool in this answer.');
  return parts.length > 0 ? parts.join(' ') : undefined;
}
