/**
 * Anthropic Messages request → the body of Bedrock's own Anthropic Messages API
 * (`POST /anthropic/v1/messages` on bedrock-runtime or bedrock-mantle) for a Claude model.
 *
 * The same allow-list as InvokeModel decides what passes (to-invoke.ts `shapeClaudeBody`: fields and
 * betas per generation, thinking/effort reshaping, the billing line left out, cache rules); the wire
 * differs: no `anthropic_version` in the body (the `anthropic-version` header, pinned by the
 * transport), betas as the `anthropic-beta` header, `stream` in the body, and `model` added by the
 * transport (the pool may change the id per upstream). On top of the allow-list, what these endpoints
 * refuse for Claude (protocol-notes.md, "Bedrock's Messages API"; observed, not documented by AWS) is
 * dropped and reported, tool `strict` and `inference_geo`, or a 400 for `output_config.format`, whose
 * schema the client would parse the answer as (output-format.ts). (Anthropic's server tools, which
 * Bedrock does not run, are dropped by shapeClaudeBody for every Claude path.)
 */
import type { MessagesRequest, Tool } from '../anthropic/types.ts';
import { messagesApiLacksFormat, refuseUnenforcedFormat } from './output-format.ts';
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

export function toMessagesApiBody(
  req: MessagesRequest,
  ctx: InvokeContext & { stream: boolean },
): MessagesApiBody {
  refuseUnenforcedFormat(req, messagesApiLacksFormat(ctx.baseModelId));
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
  if (Array.isArray(req.tools)) {
    const tools = withoutStrict(req.tools, warnings);
    if (tools !== req.tools) edit().tools = tools;
  }
  return out;
}

/** The same array when no tool sets `strict`. */
function withoutStrict(tools: Tool[], warnings: string[]): Tool[] {
  let strict = 0;
  const kept: Tool[] = [];
  for (const tool of tools) {
    if (tool.strict !== undefined) {
      const { strict: _strict, ...rest } = tool;
      strict++;
      kept.push(rest);
    } else kept.push(tool);
  }
  if (strict === 0) return tools;
  warnings.push(`tool strict is refused by Bedrock's Messages API; removed from ${strict} tool(s)`);
  return kept;
}
