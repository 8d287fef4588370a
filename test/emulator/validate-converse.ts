/**
 * Converse / ConverseStream request validation, as strict as Bedrock. Messages reuse Bedrock's wording
 * where it is known (collected from public bug reports); the rest follow the same style.
 */
import { BedrockError, constraintError, modelRejected, validationError } from './errors.ts';
import type { EmulatedModel } from './models.ts';
import { verifyClaudeSignature } from './signature.ts';

type Json = Record<string, unknown>;

const TOP_LEVEL_FIELDS = new Set([
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'guardrailConfig',
  'additionalModelRequestFields',
  'promptVariables',
  'additionalModelResponseFieldPaths',
  'requestMetadata',
  'performanceConfig',
  'serviceTier',
  'outputConfig',
]);
const IMAGE_FORMATS = ['gif', 'jpeg', 'png', 'webp'];
const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'];
const TOOL_NAME = /^[a-zA-Z0-9_-]+$/;
// Mistral's chat template takes only its own tool call ids, Bedrock's `tooluse_…` included
// (vercel/ai#11802, mistral.ministral-3-14b-instruct on Converse; wording from Mistral's API).
const MISTRAL_TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
// Letters, digits, whitespace, hyphens, parentheses and square brackets; no consecutive whitespace.
const DOCUMENT_NAME = /^[a-zA-Z0-9\s\-()[\]]+$/;
const CONTENT_KINDS = [
  'text',
  'image',
  'document',
  'video',
  'toolUse',
  'toolResult',
  'guardContent',
  'cachePoint',
  'reasoningContent',
  'citationsContent',
  'searchResult',
] as const;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ConverseCheckOptions {
  model: EmulatedModel;
  stream: boolean;
}

export function validateConverseRequest(body: unknown, { model, stream }: ConverseCheckOptions): void {
  if (!isObject(body)) throw validationError('The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_FIELDS.has(key)) throw validationError(`The request contains an unknown field: ${key}.`); // unverified wording
  }
  const messages = body.messages;
  if (!Array.isArray(messages)) {
    throw validationError(
      "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null",
    );
  }
  if (messages.length === 0)
    throw validationError(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );

  const inference = isObject(body.inferenceConfig) ? body.inferenceConfig : {};
  checkInferenceConfig(inference, model);
  const additional = isObject(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
  checkAdditionalFields(additional, model, inference);
  checkClaudeSampling(model, {
    temperature: inference.temperature,
    top_p: inference.topP,
    top_k: additional.top_k,
  });
  checkServiceTier(body.serviceTier, model);
  checkOutputConfig(body.outputConfig, model);

  const toolConfig = body.toolConfig;
  const toolNames = checkToolConfig(toolConfig, model, stream);

  let cachePoints = 0;
  if (body.system !== undefined) {
    if (!Array.isArray(body.system))
      throw validationError('The system field must be a list of SystemContentBlock objects.');
    if (!model.system)
      throw validationError("This model doesn't support system messages. Remove system and try again.");
    body.system.forEach((block, i) => {
      if (!isObject(block)) throw validationError(`The system block at system.${i} must be an object.`);
      if ('cachePoint' in block) {
        checkCachePoint(block.cachePoint, `system.${i}.cachePoint`, model);
        cachePoints += 1;
      } else if (typeof block.text === 'string' && block.text.trim() === '') {
        throw validationError(
          `The text field in the SystemContentBlock object at system.${i} is blank. Add text to the text field, and try again.`,
        );
      }
    });
  }

  let historyHasTools = false;
  let pendingToolUses: string[] = [];
  messages.forEach((message, m) => {
    if (!isObject(message)) throw validationError(`The message at messages.${m} must be an object.`);
    const role = message.role;
    if (role !== 'user' && role !== 'assistant') {
      throw constraintError(
        role,
        `messages.${m}.member.role`,
        'Member must satisfy enum value set: [user, assistant]',
      );
    }
    if (m === 0 && role !== 'user') {
      throw validationError(
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    }
    const previous = m > 0 ? (messages[m - 1] as Json).role : undefined;
    if (previous === role) {
      throw validationError(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
    const content = message.content;
    if (!Array.isArray(content) || content.length === 0) {
      throw validationError(
        `The content field in the Message object at messages.${m} is empty. Add a ContentBlock object to the content field and try again.`,
      );
    }
    const toolUses: string[] = [];
    const toolResults: string[] = [];
    let previousKind: string | undefined;
    content.forEach((block, c) => {
      const where = `messages.${m}.content.${c}`;
      const kind = blockKind(block, where);
      const value = (block as Json)[kind];
      switch (kind) {
        case 'text':
          if (typeof value !== 'string' || value.trim() === '') {
            throw validationError(
              `The text field in the ContentBlock object at ${where} is blank. Add text to the text field, and try again.`,
            );
          }
          break;
        case 'image':
          checkImage(value, where, model, role);
          break;
        case 'document':
          checkDocument(value, where, model, role);
          break;
        case 'searchResult':
          checkSearchResult(value, where, model, role);
          break;
        case 'video':
          throw validationError(
            `This model doesn't support the video field for ${role} messages. Remove video and try again.`,
          );
        case 'toolUse': {
          if (role !== 'assistant')
            throw validationError(
              `The toolUse content block at ${where} is only allowed in assistant messages.`,
            );
          historyHasTools = true;
          const use = value as Json;
          if (
            !isObject(use) ||
            typeof use.toolUseId !== 'string' ||
            typeof use.name !== 'string' ||
            !('input' in use)
          ) {
            throw validationError(`The toolUse block at ${where} must have toolUseId, name and input.`);
          }
          checkToolCallId(use.toolUseId, model);
          toolUses.push(use.toolUseId);
          break;
        }
        case 'toolResult': {
          if (role !== 'user')
            throw validationError(
              `The toolResult content block at ${where} is only allowed in user messages.`,
            );
          historyHasTools = true;
          const result = value as Json;
          if (!isObject(result) || typeof result.toolUseId !== 'string') {
            throw validationError(`The toolResult block at ${where} must have a toolUseId.`);
          }
          checkToolResultContent(result, `${where}.toolResult`, model);
          checkToolCallId(result.toolUseId, model);
          toolResults.push(result.toolUseId);
          break;
        }
        case 'reasoningContent':
          if (role !== 'assistant')
            throw validationError(
              `The reasoningContent field at ${where} is only allowed in assistant messages.`,
            );
          checkReasoning(value, where, model);
          break;
        case 'cachePoint':
          if (!model.caching) {
            throw validationError(
              'You invoked an unsupported model or your request did not allow prompt caching. See the documentation for more information.',
            );
          }
          if (previousKind === 'reasoningContent') {
            throw validationError(
              'Cache point cannot be inserted after reasoning block. Please remove the invalid cache point and try again.',
            );
          }
          checkCachePoint(value, `${where}.cachePoint`, model);
          cachePoints += 1;
          break;
        case 'guardContent':
        case 'citationsContent':
          break;
        default:
          kind satisfies never;
      }
      previousKind = kind;
    });

    if (role === 'user') {
      // Seen on Llama and Mistral through Converse (public reports quote it): no text, image, document
      // or video beside tool results in one turn (cache points may be). Claude takes them, as its own
      // Messages API does (a 2024 report of a refusal on Claude 3 Opus is not applied here).
      const conversation = content.some((block) =>
        ['text', 'image', 'document', 'video'].some((kind) => isObject(block) && kind in block),
      );
      if (toolResults.length > 0 && conversation && model.providerName !== 'Anthropic') {
        throw validationError(
          `messages.${m}.content: Conversation blocks and tool result blocks cannot be provided in the same turn.`,
        );
      }
      const missing = pendingToolUses.filter((id) => !toolResults.includes(id));
      if (missing.length > 0) {
        throw validationError(
          `Expected toolResult blocks at messages.${m}.content for the following Ids: ${missing.join(', ')}`,
        );
      }
      if (toolResults.length > pendingToolUses.length) {
        throw validationError(
          `The number of toolResult blocks at messages.${m}.content exceeds the number of toolUse blocks of previous turn.`,
        );
      }
      const unknown = toolResults.find((id) => !pendingToolUses.includes(id));
      if (unknown)
        throw validationError(
          `The toolResult block at messages.${m}.content has an unknown toolUseId: ${unknown}.`,
        );
      pendingToolUses = [];
    } else {
      pendingToolUses = toolUses;
    }
  });

  const last = messages[messages.length - 1] as Json;
  if (
    pendingToolUses.length > 0 &&
    last.role === 'assistant' &&
    model.reasoning === 'claude' &&
    thinkingOn(additional)
  ) {
    throw modelRejected(
      'This model does not support assistant message prefill. The conversation must end with a user message.',
    );
  }

  if (historyHasTools && !isObject(toolConfig)) {
    throw validationError(
      'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
    );
  }
  for (const tool of isObject(toolConfig) && Array.isArray(toolConfig.tools) ? toolConfig.tools : []) {
    if (isObject(tool) && 'cachePoint' in tool) cachePoints += 1;
  }
  checkMediaCounts(messages as Json[]);
  if (cachePoints > model.maxCachePoints && model.caching) {
    throw modelRejected(
      `A maximum of ${model.maxCachePoints} blocks with cache_control may be provided. Found ${cachePoints}.`,
    );
  }
  if (model.reasoning === 'claude' && thinkingOn(additional)) checkThinkingHistory(messages as Json[]);
  void toolNames;
}

function checkToolCallId(id: string, model: EmulatedModel): void {
  if (model.providerName === 'Mistral AI' && !MISTRAL_TOOL_CALL_ID.test(id)) {
    throw validationError(`Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`);
  }
}

function blockKind(block: unknown, where: string): (typeof CONTENT_KINDS)[number] {
  if (!isObject(block)) throw validationError(`The ContentBlock object at ${where} must be an object.`);
  const keys = Object.keys(block);
  if (keys.length !== 1) {
    throw validationError(
      `The ContentBlock object at ${where} must set exactly one member, found ${keys.length}.`,
    );
  }
  const kind = keys[0] as (typeof CONTENT_KINDS)[number];
  if (!CONTENT_KINDS.includes(kind))
    throw validationError(`The ContentBlock object at ${where} has an unknown member: ${kind}.`);
  return kind;
}

function checkImage(value: unknown, where: string, model: EmulatedModel, role: unknown): void {
  if (!model.images) {
    if (model.providerName === 'Anthropic') {
      throw validationError(
        "This model doesn't support the image content block that you provided. Update the content block and try again.",
      );
    }
    throw validationError(
      `This model doesn't support the image field for ${String(role)} messages. Remove image and try again.`,
    );
  }
  const image = value as Json;
  if (!isObject(image) || !IMAGE_FORMATS.includes(image.format as string)) {
    throw constraintError(
      isObject(image) ? image.format : null,
      `${memberPath(where)}.image.format`,
      `Member must satisfy enum value set: [${IMAGE_FORMATS.join(', ')}]`,
    );
  }
  const source = image.source as Json;
  if (!isObject(source) || (typeof source.bytes !== 'string' && !isObject(source.s3Location))) {
    throw validationError(`The image source at ${where}.image.source must set bytes.`);
  }
  if (isObject(source.s3Location) && model.providerName !== 'Amazon') {
    throw modelRejected(`${where}.image.source.type: Field required`);
  }
}

function checkDocument(value: unknown, where: string, model: EmulatedModel, role: unknown): void {
  if (!model.documents) {
    throw validationError(
      `This model doesn't support the document field for ${String(role)} messages. Remove document and try again.`,
    );
  }
  const doc = value as Json;
  if (!isObject(doc) || !DOCUMENT_FORMATS.includes(doc.format as string)) {
    throw constraintError(
      isObject(doc) ? doc.format : null,
      `${memberPath(where)}.document.format`,
      `Member must satisfy enum value set: [${DOCUMENT_FORMATS.join(', ')}]`,
    );
  }
  const name = doc.name;
  if (typeof name !== 'string' || !DOCUMENT_NAME.test(name) || /\s{2,}/.test(name)) {
    throw validationError(
      `The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.`,
    );
  }
  const source = doc.source as Json;
  if (!isObject(source) || Object.keys(source).length !== 1) {
    throw validationError(
      `The document source at ${where}.document.source must set exactly one of bytes, text, content or s3Location.`,
    );
  }
}

/** A searchResult: Claude models that take it, user turns only, source/title/non-blank content. Wording
 * unverified, in the style of Bedrock's other unsupported-field messages. */
function checkSearchResult(value: unknown, where: string, model: EmulatedModel, role: unknown): void {
  if (!model.searchResults) {
    throw validationError(
      `This model doesn't support the searchResult field for ${String(role)} messages. Remove searchResult and try again.`,
    );
  }
  if (role !== 'user')
    throw validationError(`The searchResult field at ${where} is only allowed in user messages.`);
  const result = value as Json;
  const content = isObject(result) ? result.content : undefined;
  if (
    !isObject(result) ||
    typeof result.source !== 'string' ||
    typeof result.title !== 'string' ||
    !Array.isArray(content) ||
    content.length === 0
  ) {
    throw validationError(`The searchResult at ${where} must have source, title and content.`);
  }
  content.forEach((item, i) => {
    if (!isObject(item) || typeof item.text !== 'string' || item.text.trim() === '') {
      throw validationError(
        `The text field in the SearchResultContentBlock object at ${where}.searchResult.content.${i} is blank. Add text to the text field, and try again.`,
      );
    }
  });
}

/**
 * At most 20 images and 5 documents in one request, tool results included (the Message reference; the
 * documents message is Bedrock's as public reports quote it, the images one is in its style: unverified).
 */
function checkMediaCounts(messages: Json[]): void {
  let images = 0;
  let documents = 0;
  const count = (block: unknown) => {
    if (!isObject(block)) return;
    if ('image' in block) images++;
    if ('document' in block) documents++;
    const result = block.toolResult;
    if (isObject(result) && Array.isArray(result.content)) for (const inner of result.content) count(inner);
  };
  for (const message of messages)
    if (Array.isArray(message.content)) for (const block of message.content) count(block);
  if (documents > 5) throw validationError("You can't include more than 5 documents in a request.");
  if (images > 20) throw validationError("You can't include more than 20 images in a request.");
}

function checkToolResultContent(result: Json, where: string, model: EmulatedModel): void {
  const content = result.content;
  if (!Array.isArray(content)) throw validationError(`The content field at ${where} must be a list.`);
  if (content.length === 0 && result.status === 'error') {
    throw validationError(`The content field at ${where} cannot be empty when status value is error.`);
  }
  if (result.status !== undefined && result.status !== 'success' && result.status !== 'error') {
    throw constraintError(
      result.status,
      `${where}.status`,
      'Member must satisfy enum value set: [success, error]',
    );
  }
  content.forEach((item, i) => {
    if (!isObject(item) || Object.keys(item).length !== 1) {
      throw validationError(
        `The ToolResultContentBlock at ${where}.content.${i} must set exactly one member.`,
      );
    }
    if ('text' in item && (typeof item.text !== 'string' || item.text.trim() === '')) {
      throw validationError(
        `The text field in the ToolResultContentBlock object at ${where}.content.${i} is blank. Add text to the text field, and try again.`,
      );
    }
    if ('json' in item && !isObject(item.json)) {
      throw validationError(`The json field at ${where}.content.${i} must be a JSON object.`);
    }
    if ('image' in item) {
      checkImage(item.image, `${where}.content.${i}`, model, 'user');
      checkToolResultImage(model);
    }
    if ('document' in item) checkDocument(item.document, `${where}.content.${i}`, model, 'user');
    if ('searchResult' in item) checkSearchResult(item.searchResult, `${where}.content.${i}`, model, 'user');
  });
}

/**
 * Images inside a toolResult: Claude and Nova (ToolResultContentBlock in the API reference) and Llama 4
 * (measured); Mistral, Qwen, Kimi, OpenAI's and others refuse them though they take images in user turns
 * (opencode#49443, live Converse calls, 2026).
 */
const TOOL_RESULT_IMAGE_PROVIDERS = ['Anthropic', 'Amazon', 'Meta'];

function checkToolResultImage(model: EmulatedModel): void {
  if (!TOOL_RESULT_IMAGE_PROVIDERS.includes(model.providerName)) {
    throw validationError(
      "This model doesn't support the image field for user messages. Remove image and try again.",
    );
  }
}

function checkReasoning(value: unknown, where: string, model: EmulatedModel): void {
  if (model.reasoning === 'none' || model.reasoning === 'on-request') {
    throw validationError(
      "This model doesn't support the reasoningContent field for assistant messages. Remove reasoningContent and try again.",
    );
  }
  // DeepSeek-R1 reasons on every call but takes none of it back, in Bedrock's odd words (reported by
  // langchain-aws#401, zed#32341, aws-samples/bedrock-chat#845 for replayed assistant reasoning).
  if (model.providerName === 'DeepSeek') {
    throw validationError(
      'User messages cannot contain reasoning content. Please remove the reasoning content and try again.',
    );
  }
  const reasoning = value as Json;
  if (!isObject(reasoning) || Object.keys(reasoning).length !== 1) {
    throw validationError(
      `The reasoningContent at ${where} must set exactly one of reasoningText or redactedContent.`,
    );
  }
  if (model.reasoning !== 'claude') return;
  if ('redactedContent' in reasoning) return;
  const text = reasoning.reasoningText as Json;
  if (!isObject(text) || typeof text.text !== 'string') {
    throw validationError(`The reasoningText at ${where}.reasoningContent.reasoningText must have text.`);
  }
  if (typeof text.signature !== 'string' || !verifyClaudeSignature(text.text, text.signature)) {
    throw modelRejected(`${where}: Invalid \`signature\` in \`thinking\` block`);
  }
}

/** Models Bedrock refuses stopSequences for, even empty (dify-official-plugins#1767, crewAI#3317). */
const NO_STOP_SEQUENCES = /^(qwen\.|openai\.gpt-oss)/;

function checkInferenceConfig(inference: Json, model: EmulatedModel): void {
  const { maxTokens, temperature, topP, stopSequences } = inference;
  if (stopSequences !== undefined && NO_STOP_SEQUENCES.test(model.modelId)) {
    throw validationError(
      "This model doesn't support the stopSequences field. Remove stopSequences and try again.",
    );
  }
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) {
      throw constraintError(
        maxTokens,
        'inferenceConfig.maxTokens',
        'Member must have value greater than or equal to 1',
      );
    }
    if ((maxTokens as number) > model.maxOutputTokens) {
      throw validationError(
        `The maximum tokens you requested exceeds the model limit of ${model.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${model.maxOutputTokens}.`,
      );
    }
  }
  for (const [name, value] of [
    ['temperature', temperature],
    ['topP', topP],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || value < 0) {
      throw constraintError(
        value,
        `inferenceConfig.${name}`,
        'Member must have value greater than or equal to 0',
      );
    }
    if (value > 1)
      throw constraintError(
        value,
        `inferenceConfig.${name}`,
        'Member must have value less than or equal to 1',
      );
  }
  if (stopSequences !== undefined) {
    if (!Array.isArray(stopSequences) || stopSequences.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw validationError('The stopSequences field must be a list of non-empty strings.');
    }
    if (stopSequences.length > 2500) {
      throw constraintError(
        '[...]',
        'inferenceConfig.stopSequences',
        'Member must have length less than or equal to 2500',
      );
    }
  }
}

/** Thinking whose text the model leaves out: Opus 4.7 on, unless the request asks for `summarized`. */
export function thinkingOmitted(fields: Json, model: EmulatedModel): boolean {
  const thinking = fields.thinking as Json | undefined;
  return model.thinkingDisplay && thinking?.display !== 'summarized';
}

export function thinkingOn(additional: Json): boolean {
  const thinking = additional.thinking;
  return isObject(thinking) && (thinking.type === 'enabled' || thinking.type === 'adaptive');
}

const MALFORMED = (detail: string) =>
  `Malformed input request: #: ${detail}, please reformat your input and try again.`;

function checkAdditionalFields(additional: Json, model: EmulatedModel, inference: Json): void {
  for (const key of Object.keys(additional)) {
    if (!model.additionalFields.includes(key)) {
      throw validationError(MALFORMED(`extraneous key [${key}] is not permitted`));
    }
  }
  if (model.reasoning === 'claude')
    checkClaudeThinking(additional, model, inference.maxTokens, inference.temperature);
  if ('anthropic_beta' in additional) checkBetas(additional.anthropic_beta);
  if (
    'reasoning_effort' in additional &&
    !['low', 'medium', 'high'].includes(additional.reasoning_effort as string)
  ) {
    throw modelRejected(
      `reasoning_effort: expected one of low, medium, high, got '${String(additional.reasoning_effort)}'`,
    );
  }
  if ('reasoningConfig' in additional) {
    const config = additional.reasoningConfig as Json;
    if (!isObject(config) || (config.type !== 'enabled' && config.type !== 'disabled')) {
      throw validationError('reasoningConfig.type must be enabled or disabled.');
    }
    if (
      config.maxReasoningEffort !== undefined &&
      !['low', 'medium', 'high'].includes(config.maxReasoningEffort as string)
    ) {
      throw validationError('reasoningConfig.maxReasoningEffort must be low, medium or high.');
    }
  }
}

/**
 * Opus 4.7 on takes no sampling parameters: Claude answers "`temperature` is deprecated for this model."
 * (its wording, as clients quote it; the top_p / top_k messages are assumed alike).
 */
export function checkClaudeSampling(model: EmulatedModel, sampling: Record<string, unknown>): void {
  if (!model.noSampling) return;
  const set = Object.entries(sampling).find(([, value]) => value !== undefined && value !== null);
  if (set) throw modelRejected(`\`${set[0]}\` is deprecated for this model.`);
}

/** Claude's own checks on `thinking` (the model provider's wording). */
export function checkClaudeThinking(
  fields: Json,
  model: EmulatedModel,
  maxTokens: unknown,
  temperature: unknown,
): void {
  const thinking = fields.thinking;
  if (thinking === undefined) return;
  if (!isObject(thinking)) throw modelRejected('thinking: Input should be a valid dictionary');
  const allowed = model.adaptiveThinking ? ['enabled', 'disabled', 'adaptive'] : ['enabled', 'disabled'];
  if (!allowed.includes(thinking.type as string)) {
    throw modelRejected(
      `thinking.type: Input tag '${String(thinking.type)}' found using 'type' does not match any of the expected tags: ${allowed.map((t) => `'${t}'`).join(', ')}`,
    );
  }
  if (model.adaptiveOnly && thinking.type !== 'adaptive') {
    // Bedrock's wording, as a client observed it (coder/aibridge#280).
    throw modelRejected(
      `"thinking.type.${String(thinking.type)}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`,
    );
  }
  if ('display' in thinking && !model.thinkingDisplay) {
    throw modelRejected(`thinking.${String(thinking.type)}.display: Extra inputs are not permitted`);
  }
  if ('display' in thinking && !['summarized', 'omitted'].includes(thinking.display as string)) {
    throw modelRejected(
      `thinking.${String(thinking.type)}.display: Input should be 'summarized' or 'omitted'`,
    );
  }
  if (thinking.type === 'enabled') {
    const budget = thinking.budget_tokens;
    if (!Number.isInteger(budget)) throw modelRejected('thinking.enabled.budget_tokens: Field required');
    if ((budget as number) < 1024) {
      throw modelRejected('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
    }
    if (typeof maxTokens === 'number' && maxTokens <= (budget as number)) {
      throw modelRejected(
        '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
      );
    }
  }
  if (thinking.type !== 'disabled' && temperature !== undefined && temperature !== 1) {
    throw modelRejected(
      '`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility',
    );
  }
}

/**
 * A cachePoint: type `default`, `ttl` 5m or 1h (the SDK's CacheTTL); 1h only on models with the 1-hour
 * cache (prompt-caching page: Claude 4.5 and later). Wording unverified.
 */
function checkCachePoint(value: unknown, where: string, model: EmulatedModel): void {
  if (!isObject(value) || value.type !== 'default')
    throw constraintError(
      isObject(value) ? value.type : value,
      `${where}.type`,
      'Member must satisfy enum value set: [default]',
    );
  if (value.ttl === undefined) return;
  if (value.ttl !== '5m' && value.ttl !== '1h')
    throw constraintError(value.ttl, `${where}.ttl`, 'Member must satisfy enum value set: [5m, 1h]');
  if (value.ttl === '1h' && !model.cacheTtl)
    throw validationError(`The model ${model.modelId} doesn't support the 1h cache TTL at ${where}.ttl.`);
}

/** Betas Bedrock's Claude accepts in `anthropic_beta`; anything else is refused. */
export const KNOWN_BETAS = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'computer-use-2025-11-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
  'fine-grained-tool-streaming-2025-05-14',
  'compact-2026-01-12',
]);

export function checkBetas(betas: unknown): void {
  if (!Array.isArray(betas) || betas.some((b) => typeof b !== 'string')) {
    throw validationError(MALFORMED('anthropic_beta: expected type: JSONArray'));
  }
  if (betas.some((b) => !KNOWN_BETAS.has(b))) throw validationError('invalid beta flag');
}

function checkServiceTier(tier: unknown, model: EmulatedModel): void {
  if (tier === undefined) return;
  const type = isObject(tier) ? tier.type : undefined;
  if (!['priority', 'default', 'flex', 'reserved'].includes(type as string)) {
    throw constraintError(
      type,
      'serviceTier.type',
      'Member must satisfy enum value set: [priority, default, flex, reserved]',
    );
  }
  if (!model.serviceTiers.includes(type as string)) {
    // unverified wording
    throw validationError(
      `The provided service tier (${String(type)}) is not supported for this model. Supported tiers: ${model.serviceTiers.join(', ')}.`,
    );
  }
}

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'];

/** A field the model does not take (unverified wording, in the style of Bedrock's toolChoice message). */
function unsupportedField(path: string): Error {
  return validationError(`This model doesn't support the ${path} field. Remove ${path} and try again.`);
}

/** Top-level outputConfig: `effort` only where the model takes it, `textFormat` as a JSON schema. */
function checkOutputConfig(config: unknown, model: EmulatedModel): void {
  if (config === undefined) return;
  if (!isObject(config)) throw validationError('The outputConfig field must be an object.');
  for (const key of Object.keys(config)) {
    if (key !== 'effort' && key !== 'textFormat') {
      throw validationError(`The outputConfig field has an unknown member: ${key}.`); // unverified wording
    }
  }
  if (config.effort !== undefined) {
    if (!model.effort) {
      // unverified wording, in the style of Bedrock's other unsupported-field messages
      throw validationError(
        "This model doesn't support the outputConfig.effort field. Remove outputConfig.effort and try again.",
      );
    }
    if (!EFFORTS.includes(config.effort as string)) {
      throw constraintError(
        config.effort,
        'outputConfig.effort',
        `Member must satisfy enum value set: [${EFFORTS.join(', ')}]`,
      );
    }
  }
  if (config.textFormat !== undefined) {
    if (!model.structuredOutputs) throw unsupportedField('outputConfig.textFormat');
    const format = config.textFormat as Json;
    const schema = isObject(format) && isObject(format.structure) ? format.structure.jsonSchema : undefined;
    if (
      !isObject(format) ||
      format.type !== 'json_schema' ||
      !isObject(schema) ||
      typeof schema.schema !== 'string'
    ) {
      throw validationError(
        'outputConfig.textFormat must be {type: json_schema, structure: {jsonSchema: {schema}}}.',
      );
    }
  }
}

function checkToolConfig(toolConfig: unknown, model: EmulatedModel, stream: boolean): string[] {
  if (toolConfig === undefined) return [];
  if (!isObject(toolConfig)) throw validationError('The toolConfig field must be an object.');
  if (!model.tools) throw validationError("This model doesn't support tool use.");
  if (stream && !model.streamingTools)
    throw validationError("This model doesn't support tool use in streaming mode.");
  const tools = toolConfig.tools;
  if (!Array.isArray(tools) || tools.length === 0) {
    throw constraintError('[]', 'toolConfig.tools', 'Member must have length greater than or equal to 1');
  }
  const names: string[] = [];
  tools.forEach((tool, i) => {
    if (!isObject(tool)) throw validationError(`The tool at toolConfig.tools.${i} must be an object.`);
    if ('cachePoint' in tool) {
      if (!model.caching) {
        throw validationError(
          'You invoked an unsupported model or your request did not allow prompt caching. See the documentation for more information.',
        );
      }
      checkCachePoint(tool.cachePoint, `toolConfig.tools.${i}.cachePoint`, model);
      return;
    }
    const spec = tool.toolSpec as Json;
    if (!isObject(spec))
      throw validationError(`The tool at toolConfig.tools.${i} must set toolSpec or cachePoint.`);
    const name = spec.name;
    const path = `toolConfig.tools.${i}.member.toolSpec.name`;
    if (typeof name !== 'string' || name.length < 1)
      throw constraintError(name, path, 'Member must have length greater than or equal to 1');
    if (name.length > 64)
      throw constraintError(name, path, 'Member must have length less than or equal to 64');
    if (!TOOL_NAME.test(name))
      throw constraintError(name, path, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
    if (names.includes(name)) throw modelRejected(`tools: Tool names must be unique.`);
    names.push(name);
    if (
      spec.description !== undefined &&
      (typeof spec.description !== 'string' || spec.description.length < 1)
    ) {
      throw constraintError(
        spec.description,
        `toolConfig.tools.${i}.member.toolSpec.description`,
        'Member must have length greater than or equal to 1',
      );
    }
    const schema = isObject(spec.inputSchema) ? spec.inputSchema.json : undefined;
    if (!isObject(schema))
      throw validationError(`The inputSchema at toolConfig.tools.${i}.toolSpec.inputSchema must set json.`);
    if (schema.type !== 'object') {
      throw modelRejected(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
    }
    if (spec.strict !== undefined) {
      if (typeof spec.strict !== 'boolean')
        throw validationError(`The strict field at toolConfig.tools.${i}.toolSpec must be a boolean.`);
      if (!model.structuredOutputs) throw unsupportedField(`toolConfig.tools.${i}.toolSpec.strict`);
    }
  });
  const choice = toolConfig.toolChoice;
  if (choice !== undefined) {
    if (!isObject(choice) || Object.keys(choice).length !== 1) {
      throw validationError('The toolChoice field must set exactly one of auto, any or tool.');
    }
    const kind = Object.keys(choice)[0]!;
    if (kind !== 'auto' && kind !== 'any' && kind !== 'tool') {
      throw validationError(`The toolChoice field has an unknown member: ${kind}.`);
    }
    if (kind !== 'auto' && !model.toolChoiceForced) {
      throw validationError(
        `This model doesn't support the toolConfig.toolChoice.${kind} field. Remove toolConfig.toolChoice.${kind} and try again.`,
      );
    }
    if (kind === 'tool') {
      const name = (choice.tool as Json | undefined)?.name;
      if (typeof name !== 'string' || !names.includes(name)) {
        throw modelRejected(`tool_choice: Tool '${String(name)}' not found in tools`);
      }
    }
  }
  return names;
}

/**
 * With thinking on, the assistant turn that opened the current tool loop must start with its
 * reasoning block (Claude's rule; Bedrock passes Claude's message through).
 */
function checkThinkingHistory(messages: Json[]): void {
  const last = messages[messages.length - 1];
  if (last?.role !== 'user') return;
  const lastContent = last.content as Json[];
  if (!lastContent.some((b) => isObject(b) && 'toolResult' in b)) return;
  const index = messages.length - 2;
  const assistant = messages[index];
  if (!assistant) return;
  const first = (assistant.content as Json[])[0];
  if (first && !('reasoningContent' in first)) {
    const found = 'toolUse' in first ? 'tool_use' : 'text';
    throw modelRejected(
      `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`,
    );
  }
}

function memberPath(where: string): string {
  // messages.1.content.2 -> messages.1.member.content.2.member (Coral's path style)
  return where.replace(/\.(\d+)/g, '.$1.member').replace(/\.member$/, '.member');
}

export { BedrockError };
