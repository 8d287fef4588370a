/**
 * `output_config.format` (structured outputs) has one rule on every path: the schema goes only where
 * Bedrock enforces it, and anywhere else the request is a 400, as Anthropic answers for a model without
 * structured outputs. A client that sends a schema parses the answer as that schema; dropping it (with a
 * warning header nobody reads) meant the model never saw the schema and the client's parse failed on
 * free text, or passed with the wrong shape. count_tokens asks the same, so it refuses what the call refuses.
 */
import { ApiError } from '../anthropic/errors.ts';
import type { MessagesRequest } from '../anthropic/types.ts';

/** The 400 when `req` asks for a schema that `reason` says cannot be enforced (null: it can), with the fix. */
export function refuseUnenforcedFormat(
  req: Pick<MessagesRequest, 'output_config'>,
  reason: string | null,
): void {
  if (!req.output_config?.format || reason === null) return;
  throw ApiError.invalid(`output_config.format: ${reason}`);
}

/** The reason and fix for a model without structured outputs on Bedrock. */
export function modelLacksFormat(modelId: string): string {
  return `${modelId} does not support structured outputs on Bedrock; leave the schema out or use a model that has them`;
}

/** The reason and fix on Bedrock's Anthropic Messages API, which refuses `output_config.format` for every Claude (observed). */
export function messagesApiLacksFormat(modelId: string): string {
  return `${modelId} is served here through Bedrock's Messages API (Claude path messages or mantle), which takes no structured outputs; leave the schema out (a model bedrock-runtime serves takes them on the invoke path: ABPROXY_CLAUDE_PATHS)`;
}
