/**
 * The subset of the Anthropic Messages API that the gateway reads and writes. Request types are what
 * validation guarantees; fields the gateway does not know are kept on the objects (index signatures
 * are avoided so that typos in our own code still fail to compile).
 */

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControl | null;
  citations?: unknown;
}

export type ImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string }
  | { type: 'file'; file_id: string };

export interface ImageBlockParam {
  type: 'image';
  source: ImageSource;
  cache_control?: CacheControl | null;
}

export type DocumentSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'text'; media_type: string; data: string }
  | { type: 'url'; url: string }
  | { type: 'content'; content: string | Array<TextBlockParam | ImageBlockParam> }
  | { type: 'file'; file_id: string };

export interface DocumentBlockParam {
  type: 'document';
  source: DocumentSource;
  title?: string | null;
  context?: string | null;
  citations?: { enabled?: boolean } | null;
  cache_control?: CacheControl | null;
}

export interface ThinkingBlockParam {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlockParam {
  type: 'redacted_thinking';
  data: string;
}

export interface ToolUseBlockParam {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
  cache_control?: CacheControl | null;
}

export interface ToolResultBlockParam {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<TextBlockParam | ImageBlockParam | DocumentBlockParam | ToolReferenceBlockParam>;
  is_error?: boolean;
  cache_control?: CacheControl | null;
}

/** Claude Code's tool search: a reference to a deferred tool, inside tool results. */
export interface ToolReferenceBlockParam {
  type: 'tool_reference';
  tool_name: string;
}

/** Blocks the gateway passes to Claude natively and drops (with a warning) elsewhere. */
export interface OtherBlockParam {
  type:
    | 'search_result'
    | 'server_tool_use'
    | 'web_search_tool_result'
    | 'web_fetch_tool_result'
    | 'code_execution_tool_result'
    | 'container_upload'
    | (string & {});
  [key: string]: unknown;
}

export type ContentBlockParam =
  | TextBlockParam
  | ImageBlockParam
  | DocumentBlockParam
  | ThinkingBlockParam
  | RedactedThinkingBlockParam
  | ToolUseBlockParam
  | ToolResultBlockParam
  | ToolReferenceBlockParam;

export interface MessageParam {
  role: 'user' | 'assistant' | 'system';
  content: string | ContentBlockParam[];
}

export interface Tool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  /** Server/built-in tools (bash_20250124, web_search_…) carry a `type` other than 'custom'. */
  type?: string;
  cache_control?: CacheControl | null;
  defer_loading?: boolean;
  strict?: boolean;
}

export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** `updates` (Claude Code 2.1.332+, beta thinking-display-updates-2026-08-18): only progress notes. */
export type ThinkingDisplay = 'summarized' | 'omitted' | 'updates';

export type ThinkingConfig =
  | { type: 'enabled'; budget_tokens: number; display?: ThinkingDisplay }
  | { type: 'adaptive'; display?: ThinkingDisplay }
  | { type: 'disabled' }
  | { type: 'between_tools' };

/** Anthropic's `output_config.effort` levels, lowest first. */
export const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type Effort = (typeof EFFORTS)[number];

export interface OutputConfig {
  effort?: Effort | null;
  format?: { type: 'json_schema'; schema: Record<string, unknown> } | null;
}

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  stream?: boolean;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: { user_id?: string | null };
  tools?: Tool[];
  tool_choice?: ToolChoice;
  thinking?: ThinkingConfig;
  output_config?: OutputConfig;
  context_management?: unknown;
  service_tier?: 'auto' | 'standard_only';
  container?: unknown;
  mcp_servers?: unknown;
}

/** What count_tokens accepts: the request without generation settings. */
export type CountTokensRequest = Pick<
  MessagesRequest,
  'model' | 'messages' | 'system' | 'tools' | 'tool_choice' | 'thinking' | 'output_config'
>;

// ---- responses ----

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
  /** cache_creation_input_tokens by the cache's lifetime (1-hour writes cost more). */
  cache_creation?: CacheCreation | null;
  service_tier?: 'standard' | 'priority' | 'batch' | null;
  /** Server tools the gateway ran for this response (web search/fetch). */
  server_tool_use?: ServerToolUsage;
  /** Claude's per-sampling counts when a server-side compaction ran (see billedUsage). */
  iterations?: unknown[];
}

export interface CacheCreation {
  ephemeral_5m_input_tokens: number;
  ephemeral_1h_input_tokens: number;
}

export interface ServerToolUsage {
  web_search_requests: number;
  web_fetch_requests: number;
}

export interface TextBlock {
  type: 'text';
  text: string;
  citations?: unknown[] | null;
}

export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

/** A server tool call the gateway ran itself (web_search, web_fetch). */
export interface ServerToolUseBlock {
  type: 'server_tool_use';
  id: string;
  name: string;
  input: unknown;
  caller?: { type: 'direct' };
}

/** web_search_tool_result / web_fetch_tool_result: content is Anthropic's result or error object. */
export interface ServerToolResultBlock {
  type: 'web_search_tool_result' | 'web_fetch_tool_result';
  tool_use_id: string;
  content: unknown;
  caller?: { type: 'direct' };
}

export type ContentBlock =
  | TextBlock
  | ThinkingBlock
  | RedactedThinkingBlock
  | ToolUseBlock
  | ServerToolUseBlock
  | ServerToolResultBlock;

export interface MessagesResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
}

// ---- stream events ----

export type ContentBlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'citations_delta'; citation: unknown };

export interface MessageDeltaUsage {
  input_tokens: number | null;
  output_tokens: number;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
  server_tool_use?: ServerToolUsage;
}

export type StreamEvent =
  | { type: 'message_start'; message: MessagesResponse }
  | {
      type: 'content_block_start';
      index: number;
      content_block:
        | { type: 'text'; text: '' }
        | { type: 'thinking'; thinking: ''; signature: '' }
        | RedactedThinkingBlock
        | { type: 'tool_use'; id: string; name: string; input: Record<string, never> }
        | {
            type: 'server_tool_use';
            id: string;
            name: string;
            input: Record<string, never>;
            caller?: { type: 'direct' };
          }
        | ServerToolResultBlock
        | { type: 'text'; text: ''; citations?: unknown[] | null };
    }
  | { type: 'content_block_delta'; index: number; delta: ContentBlockDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: StopReason | null; stop_sequence: string | null };
      usage: MessageDeltaUsage;
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: { type: string; message: string } };
