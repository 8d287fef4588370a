/**
 * Converse (non-streaming) output → Anthropic message, by the stream's own rules: the response as the
 * events Bedrock would have streamed (converse-as-stream.ts), through ConverseStreamTranslator, folded
 * into a message (fold-stream.ts). Reasoning keeps Claude's own signature; reasoning from open models
 * is signed by the gateway so clients can echo it back (see thinking-signature.ts).
 */
import type { ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesResponse } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import { converseResponseAsStream } from './converse-as-stream.ts';
import { ConverseStreamTranslator } from './converse-stream.ts';
import { foldStream } from './fold-stream.ts';
import type { ToolNameMap } from './tool-names.ts';

export { memberName } from './member-name.ts';

export interface ResponseContext {
  /** `msg_…` id the gateway assigns. */
  messageId: string;
  /** The model name the client asked for (echoed back). */
  model: string;
  caps: ModelCapabilities;
  toolNames: ToolNameMap;
  /** Secret used to sign reasoning that has no upstream signature. */
  signingSecret: string;
  /**
   * The request's stop sequences: open models do not say which one matched, so with exactly one it is
   * that one (clients read `stop_sequence`).
   */
  stopSequences?: readonly string[];
  /**
   * The client did not ask for thinking: models that reason on every call (gpt-oss, DeepSeek R1, Kimi
   * K2 Thinking…) still send their reasoning, which is left out, as Anthropic sends no thinking blocks
   * unless asked (a client reading `content[0].text` found a thinking block there).
   */
  omitReasoning?: boolean;
}

export interface TranslatedResponse {
  result: MessagesResponse;
  /** Lossy steps (dropped blocks, unknown stop reasons), for the log and x-abproxy-warnings. */
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
  const { result: upstreamEvents, warnings } = converseResponseAsStream(out);
  // Converse's usage comes in the events; message_start's estimate is overwritten by message_delta.
  const translator = new ConverseStreamTranslator({ ...ctx, inputTokensEstimate: 0 });
  const events = translator.start();
  for (const event of upstreamEvents) events.push(...translator.push(event));
  events.push(...translator.end());
  const result = foldStream(events);
  // message_delta has no place for the cache writes' split by lifetime; the message's usage does.
  const split = translator.usage().cache_creation;
  if (split) result.usage.cache_creation = split;
  return { result, warnings: [...warnings, ...translator.warnings] };
}
