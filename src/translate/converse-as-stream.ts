/**
 * A whole Converse response as the ConverseStream events Bedrock would have sent for it. The one way a
 * Converse answer becomes the client's message: the stream translator turns these events into
 * Anthropic events, and a non-streaming answer is their fold (from-converse.ts), so both keep the same
 * rules. Also serves a streaming client from a non-streaming call, for models that take tools only
 * without streaming (Llama 3.1+ and 4, Mistral Large), while Claude Code always streams with tools.
 *
 * Reasoning goes first, as Bedrock streams it and Anthropic clients expect (the answer it led to
 * follows). What a stream could not carry is reported in `warnings`.
 *
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
import { memberName } from './member-name.ts';

/** A citation whose location Anthropic has no form for (a web citation). */
export const CITATIONS_DROPPED = 'citations in the response were dropped (text kept)';

interface BlockEvents {
  start?: ConverseStreamOutput;
  deltas: ContentBlockDelta[];
}

function deltasOf(block: ContentBlock, warnings: string[]): BlockEvents {
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
  if (reasoning !== undefined) {
    warnings.push(`dropped reasoning content of unknown kind '${reasoning.$unknown?.[0] ?? '?'}'`);
    return { deltas: [] };
  }
  if (block.citationsContent !== undefined) {
    // As ConverseStream sends a cited passage: its text, then its citations, on the same block.
    const text = (block.citationsContent.content ?? []).map((part) => part.text ?? '').join('');
    const citations = (block.citationsContent.citations ?? []).map(
      ({ title, source, sourceContent, location }): ContentBlockDelta => ({
        citation: {
          title,
          source,
          sourceContent: sourceContent?.map((part) => ({ text: part.text })),
          location,
        },
      }),
    );
    return { deltas: [...(text === '' ? [] : [{ text }]), ...citations] };
  }
  warnings.push(`dropped response content block of kind '${memberName(block)}'`);
  return { deltas: [] };
}

export function converseResponseAsStream(response: ConverseResponse): {
  result: ConverseStreamOutput[];
  warnings: string[];
} {
  const warnings: string[] = [];
  const message = response.output?.message;
  if (message === undefined) warnings.push('Converse output has no message');
  const blocks = message?.content ?? [];
  const reasoningFirst = [
    ...blocks.filter((block) => block.reasoningContent !== undefined),
    ...blocks.filter((block) => block.reasoningContent === undefined),
  ];
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
  for (const block of reasoningFirst) {
    const { start, deltas } = deltasOf(block, warnings);
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
  return { result: events, warnings };
}
