/**
 * Converse (non-streaming) output → Anthropic message. Reasoning keeps Claude's own signature; reasoning
 * from open models is signed by the gateway so clients can echo it back (see thinking-signature.ts).
 */
import type {
  ContentBlock as BedrockContentBlock,
  ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import type { ContentBlock, MessagesResponse } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { mapStopReason, stopSequenceFrom } from './stop-reason.ts';
import { signThinking } from './thinking-signature.ts';
import type { ToolNameMap } from './tool-names.ts';
import { fromBedrockUsage } from './usage.ts';

export interface ResponseContext {
  /** `msg_…` id the gateway assigns. */
  messageId: string;
  /** The model name the client asked for (echoed back). */
  model: string;
  caps: ModelCapabilities;
  toolNames: ToolNameMap;
  /** Secret used to sign reasoning that has no upstream signature. */
  signingSecret: string;
}

export interface TranslatedResponse {
  result: MessagesResponse;
  /** Lossy steps (dropped blocks, unknown stop reasons), for the log. */
  warnings: string[];
}

/** Pure: Converse output → Anthropic message. */
export function fromConverseResponse(out: ConverseCommandOutput, ctx: ResponseContext): MessagesResponse {
  return translateConverseResponse(out, ctx).result;
}

/** As fromConverseResponse, with the warnings the caller should log. */
export function translateConverseResponse(
  out: ConverseCommandOutput,
  ctx: ResponseContext,
): TranslatedResponse {
  const warnings: string[] = [];
  const blocks = out.output?.message?.content ?? [];
  if (out.output?.message === undefined) warnings.push('Converse output has no message');

  const thinking: ContentBlock[] = [];
  const rest: ContentBlock[] = [];
  blocks.forEach((block, i) => {
    for (const converted of convertBlock(block, i, ctx, warnings)) {
      (converted.type === 'thinking' || converted.type === 'redacted_thinking' ? thinking : rest).push(
        converted,
      );
    }
  });

  const stop = mapStopReason(out.stopReason);
  if (stop.warning !== undefined) warnings.push(stop.warning);
  const stopSequence =
    stop.stopReason === 'stop_sequence' ? stopSequenceFrom(out.additionalModelResponseFields) : null;

  return {
    result: {
      id: ctx.messageId,
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      // Anthropic clients expect reasoning before the answer it led to.
      content: [...thinking, ...rest],
      stop_reason: stop.stopReason,
      stop_sequence: stopSequence,
      usage: fromBedrockUsage(out.usage),
    },
    warnings,
  };
}

function convertBlock(
  block: BedrockContentBlock,
  position: number,
  ctx: ResponseContext,
  warnings: string[],
): ContentBlock[] {
  if (block.text !== undefined) {
    // Empty text blocks would come back in the next request, and Converse rejects them there.
    return block.text === '' ? [] : [{ type: 'text', text: block.text }];
  }
  if (block.toolUse !== undefined) {
    const { toolUseId, name, input } = block.toolUse;
    return [
      {
        type: 'tool_use',
        id: toolUseId ?? `toolu_${ctx.messageId}_${position}`,
        name: ctx.toolNames.toAnthropic(name ?? ''),
        input: input ?? {},
      },
    ];
  }
  if (block.reasoningContent !== undefined) {
    const reasoning = block.reasoningContent;
    if (reasoning.reasoningText !== undefined) {
      const text = reasoning.reasoningText.text ?? '';
      const upstream = reasoning.reasoningText.signature;
      if (text === '' && !upstream) return [];
      const signature = upstream ? upstream : signThinking(ctx.signingSecret, text);
      return [{ type: 'thinking', thinking: text, signature }];
    }
    if (reasoning.redactedContent !== undefined) {
      return [{ type: 'redacted_thinking', data: Buffer.from(reasoning.redactedContent).toString('base64') }];
    }
    warnings.push(`dropped reasoning content of unknown kind '${reasoning.$unknown?.[0] ?? '?'}'`);
    return [];
  }
  if (block.citationsContent !== undefined) {
    // Bedrock's citation locations do not match Anthropic's; keep the cited text, drop the locations.
    const text = (block.citationsContent.content ?? []).map((part) => part.text ?? '').join('');
    warnings.push('citations in the response were dropped (text kept)');
    return text === '' ? [] : [{ type: 'text', text }];
  }
  warnings.push(`dropped response content block of kind '${memberName(block)}'`);
  return [];
}

/** The member set on an SDK tagged-union value (`{text: …}`, `{toolUse: …}`), for messages. */
export function memberName(value: object | undefined): string {
  if (value === undefined) return 'none';
  const entries: [string, unknown][] = Object.entries(value);
  return entries.find(([, member]) => member !== undefined)?.[0] ?? 'none';
}
