/**
 * A whole Converse response as the ConverseStream events Bedrock would have sent for it, so a streaming
 * client can be served by a non-streaming call. Needed for models that take tools only without
 * streaming (Llama 3.1+ and 4, Mistral Large: "This model doesn't support tool use in streaming mode"),
 * while Claude Code always streams with tools. The events feed ConverseStreamTranslator unchanged.
 * The usage (`metadata`) comes right after messageStart rather than last: Bedrock has billed the whole
 * answer already, so a client that hangs up mid-replay is still charged exactly (the translator takes
 * metadata in either place).
 */
import type {
  ContentBlock,
  ContentBlockDelta,
  ConverseResponse,
  ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';

function deltasOf(block: ContentBlock): { start?: ConverseStreamOutput; deltas: ContentBlockDelta[] } {
  if (block.text !== undefined) return { deltas: block.text === '' ? [] : [{ text: block.text }] };
  if (block.toolUse !== undefined) {
    const { toolUseId, name, input } = block.toolUse;
    return {
      start: { contentBlockStart: { start: { toolUse: { toolUseId, name } } } } as ConverseStreamOutput,
      deltas: [{ toolUse: { input: JSON.stringify(input ?? {}) } }],
    };
  }
  const reasoning = block.reasoningContent;
  if (reasoning?.reasoningText !== undefined) {
    const { text, signature } = reasoning.reasoningText;
    const deltas: ContentBlockDelta[] = [];
    if (text) deltas.push({ reasoningContent: { text } });
    if (signature) deltas.push({ reasoningContent: { signature } });
    return { deltas };
  }
  if (reasoning?.redactedContent !== undefined) {
    return { deltas: [{ reasoningContent: { redactedContent: reasoning.redactedContent } }] };
  }
  return { deltas: [] };
}

export function converseResponseAsStream(response: ConverseResponse): ConverseStreamOutput[] {
  const message = response.output?.message;
  const events: ConverseStreamOutput[] = [
    { messageStart: { role: message?.role ?? 'assistant' } },
    {
      metadata: {
        usage: response.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
        metrics: response.metrics ?? { latencyMs: 0 },
      },
    } as ConverseStreamOutput,
  ];
  let index = 0;
  for (const block of message?.content ?? []) {
    const { start, deltas } = deltasOf(block);
    if (!start && deltas.length === 0) continue;
    if (start) {
      events.push({
        contentBlockStart: { ...start.contentBlockStart, contentBlockIndex: index },
      } as ConverseStreamOutput);
    }
    for (const delta of deltas) events.push({ contentBlockDelta: { contentBlockIndex: index, delta } });
    events.push({ contentBlockStop: { contentBlockIndex: index } });
    index++;
  }
  events.push({
    messageStop: {
      stopReason: response.stopReason ?? 'end_turn',
      ...(response.additionalModelResponseFields !== undefined
        ? { additionalModelResponseFields: response.additionalModelResponseFields }
        : {}),
    },
  });
  return events;
}
