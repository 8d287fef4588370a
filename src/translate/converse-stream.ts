// CONTRACT STUB — owned by the response-translation helper, who replaces the body. Signature agreed.
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { StreamEvent, Usage } from '../anthropic/types.ts';
import type { ResponseContext } from './from-converse.ts';

export interface StreamContext extends ResponseContext {
  /** Converse reports usage only at the end; message_start carries this estimate (exact in message_delta). */
  inputTokensEstimate: number;
}

/**
 * I/O-free state machine: ConverseStream events in, Anthropic stream events out (never `ping`; the SSE
 * writer adds those). Throws ApiError on an out-of-order event or an upstream exception event.
 */
export class ConverseStreamTranslator {
  constructor(_ctx: StreamContext) {}
  /** The first events (message_start), sent before any upstream event arrives. */
  start(): StreamEvent[] {
    throw new Error('not implemented');
  }
  push(_event: ConverseStreamOutput): StreamEvent[] {
    throw new Error('not implemented');
  }
  /** Upstream ended: closes open blocks, emits message_delta (after metadata) and message_stop. */
  end(): StreamEvent[] {
    throw new Error('not implemented');
  }
  /** Usage seen so far (for records when the client disconnects mid-stream). */
  usage(): Usage {
    throw new Error('not implemented');
  }
}
