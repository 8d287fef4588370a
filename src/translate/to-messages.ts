/**
 * Anthropic Messages request → the body of Bedrock's own Anthropic Messages API
 * (`POST /anthropic/v1/messages` on bedrock-runtime or bedrock-mantle) for a Claude model.
 *
 * The same allow-list as InvokeModel decides what passes (to-invoke.ts `shapeClaudeBody`: fields and
 * betas per generation, thinking/effort reshaping, the billing line left out, cache rules); the wire
 * differs: no `anthropic_version` in the body (the `anthropic-version` header, pinned by the
 * transport), betas as the `anthropic-beta` header, `stream` in the body, and `model` added by the
 * transport (the pool may change the id per upstream). On top of the allow-list, what these endpoints
 * refuse for Claude is dropped and reported (protocol-notes.md, "Bedrock's Messages API"; observed,
 * not documented by AWS): `output_config.format`, tool `strict`, `inference_geo`, and Anthropic's
 * server tools (web search/fetch, code execution), which Bedrock does not run.
 */
import type { MessagesRequest, Tool, ToolChoice } from '../anthropic/types.ts';
import { type InvokeContext, shapeClaudeBody } from './to-invoke.ts';

export interface MessagesApiBody {
  /** JSON text without `model` (codec `withModel` adds it). */
  body: string;
  /** For the `anthropic-beta` header. */
  betas: string[];
  warnings: string[];
  /** Client betas not sent to Bedrock. */
  droppedBetas: string[];
}

/** Server tools Anthropic runs on its side; Bedrock refuses them for Claude. */
const SERVER_TOOL = /^(web_search|web_fetch|code_execution)_/;

export function toMessagesApiBody(
  req: MessagesRequest,
  ctx: InvokeContext & { stream: boolean },
): MessagesApiBody {
  const warnings: string[] = [];
  const refusedRemoved = withoutRefused(req, warnings);
  const shaped = shapeClaudeBody(refusedRemoved, ctx);
  const { out } = shaped;
  delete out.anthropic_version;
  if (ctx.stream) out.stream = true;
  return {
    body: JSON.stringify(out),
    betas: shaped.betas,
    warnings: [...warnings, ...shaped.warnings],
    droppedBetas: shaped.droppedBetas,
  };
}

/** The request without what Bedrock's Messages API refuses (a shallow copy where something goes). */
function withoutRefused(req: MessagesRequest, warnings: string[]): MessagesRequest {
  let out = req;
  const edit = (): MessagesRequest & Record<string, unknown> => {
    if (out === req) out = { ...req };
    return out as MessagesRequest & Record<string, unknown>;
  };
  if ((req as unknown as Record<string, unknown>).inference_geo !== undefined) {
    delete edit().inference_geo;
    warnings.push("inference_geo is refused by Bedrock's Messages API; dropped");
  }
  if (req.output_config?.format) {
    const { format: _format, ...rest } = req.output_config;
    if (Object.keys(rest).length > 0) edit().output_config = rest;
    else delete edit().output_config;
    warnings.push("output_config.format is refused by Bedrock's Messages API; dropped");
  }
  if (Array.isArray(req.tools)) {
    const tools = fixTools(req.tools, warnings);
    if (tools !== req.tools) {
      const target = edit();
      if (tools.length > 0) {
        target.tools = tools;
        if (!choiceStillValid(req.tool_choice, tools)) delete target.tool_choice;
      } else {
        delete target.tools;
        delete target.tool_choice;
      }
    }
  }
  return out;
}

function fixTools(tools: Tool[], warnings: string[]): Tool[] {
  const server: string[] = [];
  let strict = 0;
  const kept: Tool[] = [];
  for (const tool of tools) {
    if (typeof tool.type === 'string' && SERVER_TOOL.test(tool.type)) {
      server.push(tool.name ?? tool.type);
      continue;
    }
    if (tool.strict !== undefined) {
      const { strict: _strict, ...rest } = tool;
      strict++;
      kept.push(rest);
    } else kept.push(tool);
  }
  if (server.length === 0 && strict === 0) return tools;
  if (server.length > 0)
    warnings.push(`server tools are not run by Bedrock for Claude; dropped: ${server.join(', ')}`);
  if (strict > 0)
    warnings.push(`tool strict is refused by Bedrock's Messages API; removed from ${strict} tool(s)`);
  return kept;
}

function choiceStillValid(choice: ToolChoice | undefined, tools: Tool[]): boolean {
  if (choice?.type !== 'tool') return true;
  return tools.some((t) => t.name === choice.name);
}
