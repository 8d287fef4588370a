/**
 * Which Bedrock API serves a model: Claude natively through InvokeModel (the Anthropic body itself, so
 * every Claude feature survives) unless config says Converse; every other family through Converse.
 * Messages and count_tokens ask here, so a count is made on the body the real call would send.
 */
import type { Config } from '../../config/config.ts';
import type { ResolvedModel } from '../../models/types.ts';

export type MessagePath = 'invoke' | 'converse';

export function messagePath(
  config: Pick<Config, 'claudePath'>,
  model: Pick<ResolvedModel, 'caps'>,
): MessagePath {
  return model.caps.family === 'claude' && config.claudePath === 'invoke' ? 'invoke' : 'converse';
}
