/**
 * ConverseStream events → Anthropic stream events, as an I/O-free state machine.
 *
 * Anthropic streams one content block at a time with its own indexes 0..n; Bedrock numbers blocks with
 * contentBlockIndex, may start a text block with a bare delta, and may skip contentBlockStop. So a block
 * opens on its first non-empty delta (or contentBlockStart for tools) and a new block closes the
 * previous one. Converse sends usage in `metadata` after `messageStop`, so message_delta waits for it.
 */
import type {
  ContentBlockDelta as BedrockDelta,
  ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../anthropic/errors.ts';
import type { MessageDeltaUsage, StopReason, StreamEvent, Usage } from '../anthropic/types.ts';
import { anthropicCitation } from './citations.ts';
import { CITATIONS_DROPPED } from './converse-as-stream.ts';
import type { ResponseContext } from './from-converse.ts';
import { memberName } from './member-name.ts';
import { mapStopReason, stopSequenceFrom } from './stop-reason.ts';
import { streamException } from './stream-errors.ts';
import { markOpenRedacted, signThinking } from './thinking-signature.ts';
import { CHARS_PER_TOKEN, fromBedrockUsage, outputChars } from './usage.ts';

export interface StreamContext extends ResponseContext {
  /** Converse reports usage only at the end; message_start carries this estimate (exact in message_delta). */
  inputTokensEstimate: number;
}

type Block =
  | { kind: 'text'; index: number }
  | { kind: 'tool_use'; index: number }
  | { kind: 'thinking'; index: number; text: string; signature: string }
  /** Anthropic sends redacted data whole in content_block_start, so its index is given when it closes. */
  | { kind: 'redacted'; chunks: Uint8Array[] };

type Phase = 'new' | 'streaming' | 'stopped' | 'done';

function outOfOrder(what: string): ApiError {
  return new ApiError('api_error', `Bedrock stream out of order: ${what}`);
}

/**
 * I/O-free state machine: ConverseStream events in, Anthropic stream events out (never `ping`; the SSE
 * writer adds those). Throws ApiError on an out-of-order event or an upstream exception event.
 */
export class ConverseStreamTranslator {
  readonly #ctx: StreamContext;
  #phase: Phase = 'new';
  #sawMessageStart = false;
  #nextIndex = 0;
  #current: { bedrockIndex: number; block: Block } | undefined;
  /** Bedrock indexes whose block is finished; a later delta for one of them is an error. */
  readonly #closed = new Set<number>();
  #stopReason: StopReason | null = null;
  #sawToolUse = false;
  #stopSequence: string | null = null;
  #usage: Usage | undefined;
  #outputChars = 0;
  readonly #warnings: string[] = [];

  constructor(ctx: StreamContext) {
    this.#ctx = ctx;
  }

  /** Lossy or unexpected things seen so far (unknown events, dropped deltas), for the log. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** True once Bedrock's own usage arrived; before that usage() is an estimate. */
  get usageIsExact(): boolean {
    return this.#usage !== undefined;
  }

  /** The opposite, named as the invoke stream names it (usage records mark estimates). */
  get usageIsEstimated(): boolean {
    return this.#usage === undefined;
  }

  /** The first events (message_start), sent before any upstream event arrives. */
  start(): StreamEvent[] {
    if (this.#phase !== 'new') throw outOfOrder('start() called twice');
    this.#phase = 'streaming';
    return [
      {
        type: 'message_start',
        message: {
          id: this.#ctx.messageId,
          type: 'message',
          role: 'assistant',
          model: this.#ctx.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: this.#ctx.inputTokensEstimate,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      },
    ];
  }

  push(event: ConverseStreamOutput): StreamEvent[] {
    if (this.#phase === 'new') throw outOfOrder('event before start()');
    if (this.#phase === 'done') throw outOfOrder('event after message_stop');

    if (event.messageStart !== undefined) {
      if (this.#sawMessageStart || this.#phase !== 'streaming') throw outOfOrder('second messageStart');
      this.#sawMessageStart = true;
      return [];
    }
    if (event.contentBlockStart !== undefined) {
      this.#requireStreaming('contentBlockStart');
      const { start, contentBlockIndex = 0 } = event.contentBlockStart;
      if (start?.toolUse === undefined) {
        this.#warn(`ignored contentBlockStart of kind '${memberName(start)}'`);
        return [];
      }
      if (this.#closed.has(contentBlockIndex) || this.#current?.bedrockIndex === contentBlockIndex) {
        throw outOfOrder(`contentBlockStart for block ${contentBlockIndex} already seen`);
      }
      const out = this.#closeCurrent();
      const index = this.#nextIndex++;
      this.#current = { bedrockIndex: contentBlockIndex, block: { kind: 'tool_use', index } };
      const { toolUseId, name } = start.toolUse;
      this.#sawToolUse = true;
      out.push({
        type: 'content_block_start',
        index,
        content_block: {
          type: 'tool_use',
          id: toolUseId ?? `toolu_${this.#ctx.messageId}_${index}`,
          name: this.#ctx.toolNames.toAnthropic(name ?? ''),
          input: {},
        },
      });
      return out;
    }
    if (event.contentBlockDelta !== undefined) {
      this.#requireStreaming('contentBlockDelta');
      const { delta, contentBlockIndex = 0 } = event.contentBlockDelta;
      return delta === undefined ? [] : this.#delta(contentBlockIndex, delta);
    }
    if (event.contentBlockStop !== undefined) {
      this.#requireStreaming('contentBlockStop');
      const index = event.contentBlockStop.contentBlockIndex ?? 0;
      if (this.#current?.bedrockIndex === index) return this.#closeCurrent();
      // A block that never opened (only empty text) or was closed when the next one began.
      this.#closed.add(index);
      return [];
    }
    if (event.messageStop !== undefined) {
      this.#requireStreaming('messageStop');
      const out = this.#closeCurrent();
      const stop = mapStopReason(event.messageStop.stopReason);
      if (stop.warning !== undefined) this.#warn(stop.warning);
      this.#stopReason = this.#agreeWithContent(event.messageStop.stopReason, stop.stopReason);
      this.#stopSequence =
        stop.stopReason === 'stop_sequence'
          ? (stopSequenceFrom(event.messageStop.additionalModelResponseFields) ??
            (this.#ctx.stopSequences?.length === 1 ? this.#ctx.stopSequences[0]! : null))
          : null;
      this.#phase = 'stopped';
      // Usage normally follows in `metadata`; if it came first, the message is complete now.
      if (this.#usage !== undefined) out.push(...this.#finish());
      return out;
    }
    if (event.metadata !== undefined) {
      if (this.#usage !== undefined) throw outOfOrder('second metadata event');
      this.#usage = fromBedrockUsage(event.metadata.usage);
      if (event.metadata.usage === undefined) this.#warn('Bedrock metadata carried no usage');
      return this.#phase === 'stopped' ? this.#finish() : [];
    }
    if (event.$unknown !== undefined) {
      this.#warn(`ignored unknown ConverseStream event '${event.$unknown[0]}'`);
      return [];
    }
    const exception = streamException(event);
    if (exception) throw exception;
    this.#warn(`ignored unrecognized ConverseStream event '${memberName(event)}'`);
    return [];
  }

  /**
   * Bedrock's stop reason, made to agree with what the model produced: gpt-oss reports `end_turn` for a
   * message that calls tools (strands-agents/harness-sdk#644), and a text-only message sometimes ends in
   * `tool_use` (strands-rl/strands-env#252). Anthropic clients loop on `tool_use`: the first would end an
   * agent's loop before its tools ran, the second makes Claude Code call the model again for nothing.
   */
  #agreeWithContent(bedrock: string | undefined, stop: StopReason): StopReason {
    if (bedrock === 'end_turn' && this.#sawToolUse) {
      this.#warn('Bedrock stop reason end_turn for a message with tool calls reported as tool_use');
      return 'tool_use';
    }
    if (bedrock === 'tool_use' && !this.#sawToolUse) {
      this.#warn('Bedrock stop reason tool_use for a message without tool calls reported as end_turn');
      return 'end_turn';
    }
    return stop;
  }

  /** Upstream ended: closes open blocks, emits message_delta (after metadata) and message_stop. */
  end(): StreamEvent[] {
    switch (this.#phase) {
      case 'done':
        return [];
      case 'new':
        throw outOfOrder('end() before start()');
      case 'streaming':
        // Without messageStop there is no honest stop_reason: report the truncation as an error.
        throw new ApiError('api_error', 'Bedrock stream ended before messageStop');
      case 'stopped':
        this.#warn('Bedrock stream ended without metadata; usage is estimated');
        return this.#finish();
      default: {
        const unreachable: never = this.#phase;
        return unreachable;
      }
    }
  }

  /** Usage seen so far (for records when the client disconnects mid-stream). */
  usage(): Usage {
    if (this.#usage !== undefined) return { ...this.#usage };
    return {
      input_tokens: this.#ctx.inputTokensEstimate,
      output_tokens: Math.ceil(this.#outputChars / CHARS_PER_TOKEN),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    };
  }

  #delta(bedrockIndex: number, delta: BedrockDelta): StreamEvent[] {
    if (delta.text !== undefined) return this.#textDelta(bedrockIndex, 'text', delta.text);
    if (delta.toolUse !== undefined) {
      const current = this.#current;
      if (current?.bedrockIndex !== bedrockIndex || current.block.kind !== 'tool_use') {
        throw outOfOrder(`tool input for block ${bedrockIndex} without an open tool_use block`);
      }
      const json = delta.toolUse.input ?? '';
      if (json === '') return [];
      this.#outputChars += outputChars(json);
      return [
        {
          type: 'content_block_delta',
          index: current.block.index,
          delta: { type: 'input_json_delta', partial_json: json },
        },
      ];
    }
    if (delta.reasoningContent !== undefined) {
      const reasoning = delta.reasoningContent;
      if (this.#ctx.omitReasoning) {
        // Still output the model made (and Bedrock bills): counted for a cut stream's estimate.
        this.#outputChars += outputChars(reasoning.text ?? '');
        return [];
      }
      if (reasoning.text !== undefined) return this.#textDelta(bedrockIndex, 'thinking', reasoning.text);
      if (reasoning.signature !== undefined) {
        // Held until the block closes: Anthropic's signature_delta replaces, it does not append.
        const { out, block } = this.#ensure(bedrockIndex, 'thinking');
        block.signature += reasoning.signature;
        return out;
      }
      if (reasoning.redactedContent !== undefined) {
        const { out, block } = this.#ensure(bedrockIndex, 'redacted');
        block.chunks.push(reasoning.redactedContent);
        return out;
      }
      this.#warn(`ignored reasoning delta of kind '${reasoning.$unknown?.[0] ?? '?'}'`);
      return [];
    }
    if (delta.citation !== undefined) {
      // The cited text arrives as text deltas of the same block; the citation joins that text block.
      const citation = anthropicCitation(delta.citation);
      if (citation === undefined) {
        this.#warn(CITATIONS_DROPPED);
        return [];
      }
      const { out, block } = this.#ensure(bedrockIndex, 'text');
      out.push({
        type: 'content_block_delta',
        index: block.index,
        delta: { type: 'citations_delta', citation },
      });
      return out;
    }
    this.#warn(`ignored content delta of kind '${memberName(delta)}'`);
    return [];
  }

  /** Text or thinking: into the open block of that kind (opened if needed), counted as output. */
  #textDelta(bedrockIndex: number, kind: 'text' | 'thinking', text: string): StreamEvent[] {
    if (text === '') return [];
    const { out, block } = this.#ensure(bedrockIndex, kind);
    if (block.kind === 'thinking') block.text += text;
    this.#outputChars += outputChars(text);
    out.push({
      type: 'content_block_delta',
      index: block.index,
      delta:
        block.kind === 'thinking' ? { type: 'thinking_delta', thinking: text } : { type: 'text_delta', text },
    });
    return out;
  }

  /** The open block for this Bedrock index with this kind, opening it (and closing another) if needed. */
  #ensure<K extends 'text' | 'thinking' | 'redacted'>(
    bedrockIndex: number,
    kind: K,
  ): { out: StreamEvent[]; block: Extract<Block, { kind: K }> } {
    if (this.#closed.has(bedrockIndex)) throw outOfOrder(`delta for closed block ${bedrockIndex}`);
    const current = this.#current;
    if (current?.bedrockIndex === bedrockIndex && current.block.kind === kind) {
      return { out: [], block: current.block as Extract<Block, { kind: K }> };
    }
    if (current?.bedrockIndex === bedrockIndex && current.block.kind === 'tool_use') {
      throw outOfOrder(`${kind} delta inside tool_use block ${bedrockIndex}`);
    }
    // Another block, or the same Bedrock block switching kind (reasoning then text): a new Anthropic block.
    const out = this.#closeCurrent();
    this.#closed.delete(bedrockIndex);
    const block = this.#open(kind, out);
    this.#current = { bedrockIndex, block };
    return { out, block: block as Extract<Block, { kind: K }> };
  }

  #open(kind: 'text' | 'thinking' | 'redacted', out: StreamEvent[]): Block {
    switch (kind) {
      case 'text': {
        const index = this.#nextIndex++;
        out.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        return { kind, index };
      }
      case 'thinking': {
        const index = this.#nextIndex++;
        out.push({
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        });
        return { kind, index, text: '', signature: '' };
      }
      case 'redacted':
        return { kind, chunks: [] };
      default: {
        const unreachable: never = kind;
        return unreachable;
      }
    }
  }

  #closeCurrent(): StreamEvent[] {
    const current = this.#current;
    if (current === undefined) return [];
    this.#current = undefined;
    this.#closed.add(current.bedrockIndex);
    const { block } = current;
    switch (block.kind) {
      case 'text':
      case 'tool_use':
        return [{ type: 'content_block_stop', index: block.index }];
      case 'thinking': {
        // Claude's own signature passes through; open-model reasoning is signed by the gateway.
        const signature = block.signature || signThinking(this.#ctx.signingSecret, block.text);
        return [
          { type: 'content_block_delta', index: block.index, delta: { type: 'signature_delta', signature } },
          { type: 'content_block_stop', index: block.index },
        ];
      }
      case 'redacted': {
        const index = this.#nextIndex++;
        const raw = Buffer.concat(block.chunks).toString('base64');
        const data = this.#ctx.caps.family === 'claude' ? raw : markOpenRedacted(raw);
        return [
          { type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data } },
          { type: 'content_block_stop', index },
        ];
      }
      default: {
        const unreachable: never = block;
        return unreachable;
      }
    }
  }

  #finish(): StreamEvent[] {
    const out = this.#closeCurrent();
    const usage = this.usage();
    const deltaUsage: MessageDeltaUsage = {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
    };
    out.push(
      {
        type: 'message_delta',
        delta: { stop_reason: this.#stopReason, stop_sequence: this.#stopSequence },
        usage: deltaUsage,
      },
      { type: 'message_stop' },
    );
    this.#phase = 'done';
    return out;
  }

  #requireStreaming(what: string): void {
    if (this.#phase !== 'streaming') throw outOfOrder(`${what} after messageStop`);
  }

  #warn(message: string): void {
    if (!this.#warnings.includes(message)) this.#warnings.push(message);
  }
}
