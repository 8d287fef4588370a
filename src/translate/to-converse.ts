/**
 * Anthropic Messages request → Bedrock Converse / ConverseStream input. Pure: no I/O, no clock.
 *
 * The pieces live in their own modules: system.ts (system prompt), messages.ts (turns), content.ts,
 * media.ts and reasoning.ts (blocks), tools.ts (toolConfig), cache-points.ts (the 4-point limit), and
 * family-params.ts (thinking/effort/sampling per model family). This module assembles them and maps the
 * remaining top-level fields; anything it cannot carry is named in `warnings`.
 */
import type {
  ConverseStreamCommandInput,
  InferenceConfiguration,
  Message,
  OutputConfig,
  SystemContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type { MessagesRequest } from '../anthropic/types.ts';
import type { ModelCapabilities, ServiceTier } from '../models/types.ts';
import type { BlockContext } from './block-context.ts';
import { limitCachePoints, MAX_CACHE_POINTS } from './cache-points.ts';
import { compactedWarning, fromLastCompaction } from './compaction.ts';
import { DocumentNames } from './document-name.ts';
import { familyParams } from './family-params.ts';
import { limitMedia, MAX_DOCUMENTS, MAX_IMAGES } from './media-limits.ts';
import { convertMessages } from './messages.ts';
import { modelLacksFormat, refuseUnenforcedFormat } from './output-format.ts';
import { convertSystem, textAndCachePoints } from './system.ts';
import { ToolNameMap } from './tool-names.ts';
import { customTools, toolChoiceInstruction, toToolConfig } from './tools.ts';

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

// Bedrock's request-metadata alphabet and length (the same rules as its invocation-log filters).
const METADATA_UNSAFE = /[^a-zA-Z0-9\s._:/=+$@-]/g;
const METADATA_MAX = 256;

function requestMetadata(userId: string | null | undefined): Record<string, string> | undefined {
  if (!userId) return undefined;
  return { user_id: userId.replace(METADATA_UNSAFE, '_').slice(0, METADATA_MAX) };
}

/**
 * Converse outputConfig: effort, and the JSON schema where the model has structured outputs (elsewhere a
 * 400: output-format.ts).
 */
function outputConfig(
  req: MessagesRequest,
  effort: string | undefined,
  ctx: Pick<ConverseRequestContext, 'caps' | 'modelId'>,
): OutputConfig | undefined {
  const format = req.output_config?.format;
  const out: OutputConfig = {};
  if (effort !== undefined) out.effort = effort;
  refuseUnenforcedFormat(req, ctx.caps.structuredOutputs ? null : modelLacksFormat(ctx.modelId));
  if (format) {
    out.textFormat = {
      type: 'json_schema',
      structure: { jsonSchema: { schema: JSON.stringify(format.schema) } },
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Claude with thinking on insists that the assistant turn opening the current tool loop starts with its
 * thinking. When that thinking is gone (it came from another model, or was never echoed), the only valid
 * request is one without thinking for this turn — better than a 400 the client cannot fix.
 */
function thinkingBreaksToolLoop(messages: readonly Message[], caps: ModelCapabilities): boolean {
  if (caps.family !== 'claude') return false;
  if (caps.reasoning.kind === 'anthropic' && caps.reasoning.canDisable === false) return false;
  const last = messages.at(-1);
  const assistant = messages.at(-2);
  if (last?.role !== 'user' || assistant?.role !== 'assistant') return false;
  if (!last.content?.some((block) => block.toolResult !== undefined)) return false;
  return assistant.content?.[0]?.reasoningContent === undefined;
}

function historyTools(messages: readonly Message[]): { names: Set<string>; hasToolBlocks: boolean } {
  const names = new Set<string>();
  let hasToolBlocks = false;
  for (const block of messages.flatMap((m) => m.content ?? [])) {
    if (block.toolUse?.name !== undefined) names.add(block.toolUse.name);
    if (block.toolUse !== undefined || block.toolResult !== undefined) hasToolBlocks = true;
  }
  return { names, hasToolBlocks };
}

const UNSUPPORTED_FIELDS = ['context_management', 'container', 'mcp_servers'] as const;

/** Pure: Anthropic Messages request (validated, remote media already inlined) → Converse input. */
export function toConverseRequest(req: MessagesRequest, ctx: ConverseRequestContext): TranslatedRequest {
  const { caps, modelId } = ctx;
  const warnings = new Set<string>();
  const tools = customTools(req.tools, { caps, modelId, warnings });
  // Request tools are registered first so their Bedrock names never depend on the history.
  const toolNames = new ToolNameMap(tools.map((tool) => tool.name));
  const blockCtx: BlockContext = {
    modelId,
    caps,
    signingSecret: ctx.signingSecret,
    toolNames,
    documentNames: new DocumentNames(),
    warnings,
  };

  const compacted = fromLastCompaction(req.messages);
  if (compacted.dropped > 0) warnings.add(compactedWarning(compacted.dropped));
  const { messages, leadingSystem } = convertMessages(compacted.messages, blockCtx);
  let system: SystemContentBlock[] = [
    ...convertSystem(req.system, caps),
    ...textAndCachePoints(leadingSystem),
  ];
  const history = historyTools(messages);
  // Last, after any cache point: the instruction depends on this request's tool_choice.
  const instruction = toolChoiceInstruction(
    req.tool_choice,
    { tools: tools.length > 0, toolHistory: history.hasToolBlocks },
    blockCtx,
  );
  if (instruction !== undefined) system.push({ text: instruction });
  if (!caps.system && system.length > 0) {
    // convertMessages guarantees a first user turn.
    const first = messages[0] as Message;
    first.content = [...textAndCachePoints(system), ...(first.content ?? [])];
    system = [];
    warnings.add(`${modelId} has no system prompt; system text sent at the start of the first user turn`);
  }

  const toolConfig = toToolConfig(
    {
      tools,
      toolChoice: req.tool_choice,
      historyToolNames: history.names,
      historyHasToolBlocks: history.hasToolBlocks,
    },
    blockCtx,
  );

  const params = familyParams(caps, {
    thinking: req.thinking,
    effort: req.output_config?.effort,
    maxTokens: req.max_tokens,
    temperature: req.temperature,
    topP: req.top_p,
    topK: req.top_k,
  });
  for (const warning of params.warnings) warnings.add(warning);
  const additionalFields = { ...params.additionalModelRequestFields };
  if (additionalFields.thinking !== undefined && thinkingBreaksToolLoop(messages, caps)) {
    delete additionalFields.thinking;
    warnings.add(
      'thinking switched off for this turn: the tool call it continues has no Claude thinking to replay',
    );
  }

  let stopSequences = (req.stop_sequences ?? []).filter((s) => s !== '');
  if (stopSequences.length > 0 && caps.stopSequences === false) {
    warnings.add(`stop_sequences not sent: Bedrock refuses them for ${modelId}`);
    stopSequences = [];
  }
  const inferenceConfig: InferenceConfiguration = {
    ...(params.omitMaxTokens ? {} : { maxTokens: params.maxTokens }),
    ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
    ...(params.topP === undefined ? {} : { topP: params.topP }),
    ...(stopSequences.length > 0 ? { stopSequences } : {}),
  };

  const input: ConverseStreamCommandInput = { modelId, messages, inferenceConfig };
  // Claude reports the matched stop sequence only when asked; Anthropic clients read it from stop_sequence.
  if (stopSequences.length > 0 && caps.family === 'claude') {
    input.additionalModelResponseFieldPaths = ['/stop_sequence'];
  }
  if (system.length > 0) input.system = system;
  if (toolConfig) input.toolConfig = toolConfig;
  if (Object.keys(additionalFields).length > 0) {
    input.additionalModelRequestFields =
      additionalFields as ConverseStreamCommandInput['additionalModelRequestFields'];
  }
  const output = outputConfig(req, params.effort, ctx);
  if (output) input.outputConfig = output;
  const metadata = requestMetadata(req.metadata?.user_id);
  if (metadata) input.requestMetadata = metadata;
  if (ctx.serviceTier && ctx.serviceTier !== 'default') input.serviceTier = { type: ctx.serviceTier };

  for (const field of UNSUPPORTED_FIELDS) {
    if (req[field] === undefined || req[field] === null) continue;
    warnings.add(`${field} is not supported on Converse; ignored`);
  }
  const dropped = limitMedia(messages);
  for (const kind of ['image', 'document'] as const) {
    if (dropped[kind] > 0)
      warnings.add(
        `${dropped[kind]} earlier ${kind}(s) replaced by a note: Bedrock takes at most ${kind === 'image' ? MAX_IMAGES : MAX_DOCUMENTS} per request`,
      );
  }
  const removed = limitCachePoints(input);
  if (removed > 0) {
    warnings.add(`${removed} cache_control mark(s) dropped: Bedrock allows ${MAX_CACHE_POINTS} cache points`);
  }
  return { input, toolNames, warnings: [...warnings] };
}
