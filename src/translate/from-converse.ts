// CONTRACT STUB — owned by the response-translation helper, who replaces the body. Signature agreed.
import type { ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesResponse } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';
import type { ToolNameMap } from './tool-names.ts';

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

/** Pure: Converse output → Anthropic message. */
export function fromConverseResponse(_out: ConverseCommandOutput, _ctx: ResponseContext): MessagesResponse {
  throw new Error('not implemented');
}
