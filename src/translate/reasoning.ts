/**
 * Thinking blocks echoed back in assistant history → Converse reasoningContent, or nothing.
 *
 * Reasoning is replayed only to a model that accepts it (caps.reasoningHistory), and only when it is
 * provably that model family's own: a Claude signature for Claude (Bedrock checks it), or this gateway's
 * HMAC over the unaltered text for an open model (the model cannot check anything, so we do). Anything
 * else — reasoning from another model after a model switch, edited text, a forged signature — is dropped,
 * which every model tolerates, instead of being sent and failing or misleading the model.
 */
import type { ContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest, RedactedThinkingBlockParam, ThinkingBlockParam } from '../anthropic/types.ts';
import type { BlockContext } from './block-context.ts';
import { isGatewaySignature, isOpenRedacted, verifyThinking } from './thinking-signature.ts';

export function convertThinking(block: ThinkingBlockParam, ctx: BlockContext): ContentBlock | undefined {
  const { caps } = ctx;
  if (!caps.reasoningHistory) {
    ctx.warnings.add(`thinking in history dropped: ${ctx.modelId} does not accept reasoning history`);
    return undefined;
  }
  const signature = block.signature ?? '';
  if (caps.family === 'claude') {
    if (signature === '' || isGatewaySignature(signature)) {
      ctx.warnings.add('thinking without a Claude signature dropped from history');
      return undefined;
    }
    // Claude Code's display "omitted" echoes an empty text with a valid signature: keep it.
    return { reasoningContent: { reasoningText: { text: block.thinking, signature } } };
  }
  if (!verifyThinking(ctx.signingSecret, block.thinking, signature)) {
    ctx.warnings.add('thinking not produced by this gateway for this conversation dropped from history');
    return undefined;
  }
  if (block.thinking.trim() === '') return undefined;
  // Our HMAC means nothing to the model; Bedrock takes open models' reasoning without a signature.
  return { reasoningContent: { reasoningText: { text: block.thinking } } };
}

export function convertRedactedThinking(
  block: RedactedThinkingBlockParam,
  ctx: BlockContext,
): ContentBlock | undefined {
  // Only Claude can decrypt its own redacted reasoning (not an open model's, marked by the gateway).
  if (ctx.caps.family !== 'claude' || !ctx.caps.reasoningHistory || isOpenRedacted(block.data)) {
    ctx.warnings.add(`redacted_thinking dropped from history: ${ctx.modelId} cannot read it`);
    return undefined;
  }
  const bytes = Buffer.from(block.data, 'base64');
  if (bytes.length === 0) return undefined;
  return { reasoningContent: { redactedContent: bytes } };
}

/** Whether the request asks for thinking (enabled, adaptive or between tools): else none is shown. */
export function thinkingAsked(request: Pick<MessagesRequest, 'thinking'>): boolean {
  return request.thinking !== undefined && request.thinking.type !== 'disabled';
}
