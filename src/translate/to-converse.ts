// CONTRACT STUB — owned by the request-translation helper, who replaces the body. Signature agreed.
import type { ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest } from '../anthropic/types.ts';
import type { ModelCapabilities, ServiceTier } from '../models/types.ts';
import type { ToolNameMap } from './tool-names.ts';

export interface ConverseRequestContext {
  /** Bedrock model id / inference profile / ARN for the URL. */
  modelId: string;
  caps: ModelCapabilities;
  serviceTier?: ServiceTier;
  /** Secret to verify gateway-signed thinking echoed back by the client. */
  signingSecret: string;
}

export interface TranslatedRequest {
  /** Same shape serves Converse and ConverseStream. */
  input: ConverseStreamCommandInput;
  /** The tool-name map built for this request; the response translators need it to map names back. */
  toolNames: ToolNameMap;
  /** Lossy steps taken (dropped blocks/fields), for logs and the `x-abproxy-warnings` header. */
  warnings: string[];
}

/** Pure: Anthropic Messages request (validated, remote media already inlined) → Converse input. */
export function toConverseRequest(_req: MessagesRequest, _ctx: ConverseRequestContext): TranslatedRequest {
  throw new Error('not implemented');
}
