/**
 * Hand-written checks for the Messages and count_tokens bodies. Runs on every request, so it walks the
 * body once and builds no copies: the object that comes in is the object that goes out, typed. Messages
 * follow Anthropic's (pydantic) wording and name the failing path, e.g. `messages.1.content.0.type: …`.
 *
 * Strict where a wrong value would reach Bedrock as garbage; lenient where real clients send things the
 * gateway does not model: unknown top-level fields and Anthropic block types we do not translate
 * (server_tool_use, search_result, …) are kept for the translator to decide.
 */
import { ApiError } from './errors.ts';
import { type CountTokensRequest, EFFORTS, type MessagesRequest } from './types.ts';

export interface ValidateOptions {
  /** The request's anthropic-beta values; interleaved thinking lets budget_tokens exceed max_tokens. */
  betas?: readonly string[];
}

type Json = Record<string, unknown>;

const ROLES = ['user', 'assistant', 'system'] as const;
const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
const TOOL_CHOICE_TYPES = ['auto', 'any', 'tool', 'none'] as const;
const THINKING_TYPES = ['enabled', 'adaptive', 'disabled', 'between_tools'] as const;
const THINKING_DISPLAY = ['summarized', 'omitted', 'updates'] as const;
const CACHE_TTLS = ['5m', '1h'] as const;
/**
 * Custom tool names: Anthropic's own rule is [a-zA-Z0-9_-]{1,128}, but names other clients produce (dots,
 * colons, slashes: `server.tool`, `ns:tool`) cost nothing to accept, because ToolNameMap maps every name to
 * a Bedrock-valid one and back. Only whitespace, control characters and length are refused.
 */
const TOOL_NAME = /^[^\s\p{Cc}]{1,128}$/u;
const MIN_THINKING_BUDGET = 1024;
/** Longer than any Bedrock id, profile or ARN; a longer name only ever served to stall a parser. */
export const MAX_MODEL_LENGTH = 256;
/**
 * Nesting allowed anywhere in a body (tool schemas and inputs, metadata, unknown fields are arbitrary
 * JSON). Deeper values overflow the stack of recursive code after validation (JSON.stringify, walkers).
 */
export const MAX_JSON_DEPTH = 128;
/** Characters that do not print: controls, format characters, unassigned, line/paragraph separators. */
const NON_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
/** Standard base64 with padding, as Anthropic decodes it (no whitespace, no URL-safe alphabet). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Block types Anthropic accepts in a message that the translators read themselves. */
const MODELED_BLOCKS = [
  'text',
  'image',
  'document',
  'thinking',
  'redacted_thinking',
  'tool_use',
  'tool_result',
  'tool_reference',
] as const;
/** Anthropic block types kept as they are (passed to Claude natively, dropped with a warning elsewhere). */
const PASSTHROUGH_BLOCKS = [
  'search_result',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'advisor_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'container_upload',
  'compaction',
  'tool_addition',
  'tool_removal',
  'mcp_tool_listing',
  'fallback',
] as const;
const MESSAGE_BLOCK_TAGS: ReadonlySet<string> = new Set([...MODELED_BLOCKS, ...PASSTHROUGH_BLOCKS]);
const TOOL_RESULT_BLOCK_TAGS: ReadonlySet<string> = new Set([
  'text',
  'image',
  'document',
  'search_result',
  'tool_reference',
  'browser_state',
]);
const DOCUMENT_CONTENT_TAGS: ReadonlySet<string> = new Set(['text', 'image']);

/**
 * Server-tool blocks are where Anthropic adds new types most often; a newer client than this list must
 * not be refused for them.
 */
function isServerToolBlockType(type: string): boolean {
  return type.endsWith('_tool_result') || type.endsWith('_tool_use');
}

// ---- small helpers; each throws with the path it was given ----

function fail(path: string, message: string): never {
  throw new ApiError('invalid_request_error', `${path}: ${message}`);
}

/** A client string inside an error message, cut short (it may be megabytes long). */
function quoted(value: string): string {
  return `'${value.length > 64 ? `${value.slice(0, 64)}…` : value}'`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** pydantic's enum wording: `Input should be 'a', 'b' or 'c'`. */
function oneOf(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  const last = quoted.pop();
  return `Input should be ${quoted.length > 0 ? `${quoted.join(', ')} or ${last}` : last}`;
}

function tagMismatch(tag: unknown, expected: Iterable<string>): string {
  const list = [...expected].map((t) => `'${t}'`).join(', ');
  return `Input tag '${String(tag)}' found using 'type' does not match any of the expected tags: ${list}`;
}

/** The error for a tagged object at `path` whose `type` is missing or not one of `expected`. */
function badTag(tag: unknown, path: string, expected: Iterable<string>): never {
  if (tag === undefined) fail(path, "Unable to extract tag using discriminator 'type'");
  fail(`${path}.type`, tagMismatch(tag, expected));
}

function requireObject(value: unknown, path: string): Json {
  if (value === undefined) fail(path, 'Field required');
  if (!isObject(value)) fail(path, 'Input should be a valid dictionary');
  return value;
}

function requireString(value: unknown, path: string): string {
  if (value === undefined) fail(path, 'Field required');
  if (typeof value !== 'string') fail(path, 'Input should be a valid string');
  return value;
}

/** Image and document bytes: garbage here would reach Bedrock (or be silently mis-decoded by Buffer). */
function requireBase64(value: unknown, path: string): void {
  const data = requireString(value, path);
  if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data)) {
    fail(path, 'Input should be valid base64 data');
  }
}

function optionalString(value: unknown, path: string, nullable = true): void {
  if (value === undefined || (nullable && value === null)) return;
  if (typeof value !== 'string') fail(path, 'Input should be a valid string');
}

function optionalBoolean(value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'boolean') fail(path, 'Input should be a valid boolean');
}

function requireInteger(value: unknown, path: string, min: number): number {
  if (value === undefined) fail(path, 'Field required');
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, 'Input should be a valid integer');
  if (value < min) fail(path, `Input should be greater than or equal to ${min}`);
  return value;
}

function optionalNumberInRange(value: unknown, path: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'Input should be a valid number');
  if (value < min) fail(path, `Input should be greater than or equal to ${min}`);
  if (value > max) fail(path, `Input should be less than or equal to ${max}`);
}

function requireEnum<T extends string>(value: unknown, path: string, values: readonly T[]): T {
  if (value === undefined) fail(path, 'Field required');
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) fail(path, oneOf(values));
  return value as T;
}

function requireList(value: unknown, path: string): unknown[] {
  if (value === undefined) fail(path, 'Field required');
  if (!Array.isArray(value)) fail(path, 'Input should be a valid list');
  return value;
}

/** Optional top-level fields sent as null mean "not set"; removing them keeps the declared types honest. */
function dropNulls(body: Json, keys: readonly string[]): void {
  for (const key of keys) if (body[key] === null) delete body[key];
}

// ---- blocks ----

function checkCacheControl(value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  const cc = requireObject(value, path);
  requireEnum(cc.type, `${path}.type`, ['ephemeral']);
  if (cc.ttl !== undefined) requireEnum(cc.ttl, `${path}.ttl`, CACHE_TTLS);
}

function checkTextBlock(block: Json, path: string): void {
  requireString(block.text, `${path}.text`);
  checkCacheControl(block.cache_control, `${path}.cache_control`);
}

/** The sources images and documents share (`url`, `file`); any other type is an error naming `expected`. */
function checkSharedSource(source: Json, sp: string, expected: readonly string[]): void {
  switch (source.type) {
    case 'url':
      requireString(source.url, `${sp}.url`);
      return;
    case 'file':
      // Anthropic's Files API has no Bedrock counterpart: no path could send it (InvokeModel would
      // pass it on and fail there), so the caller hears it before a model call.
      fail(sp, 'file sources (the Files API) are not available on Bedrock; send the data as base64');
      break;
    default:
      badTag(source.type, sp, expected);
  }
}

function checkImageBlock(block: Json, path: string): void {
  const source = requireObject(block.source, `${path}.source`);
  const sp = `${path}.source`;
  if (source.type === 'base64') {
    requireEnum(source.media_type, `${sp}.media_type`, IMAGE_MEDIA_TYPES);
    requireBase64(source.data, `${sp}.data`);
  } else {
    checkSharedSource(source, sp, ['base64', 'url', 'file']);
  }
  checkCacheControl(block.cache_control, `${path}.cache_control`);
}

function checkDocumentBlock(block: Json, path: string): void {
  const source = requireObject(block.source, `${path}.source`);
  const sp = `${path}.source`;
  switch (source.type) {
    case 'base64':
    case 'text':
      // The media type is left to the translator: Bedrock reads more formats than Anthropic's PDF/text.
      requireString(source.media_type, `${sp}.media_type`);
      if (source.type === 'base64') requireBase64(source.data, `${sp}.data`);
      else requireString(source.data, `${sp}.data`);
      break;
    case 'content':
      if (typeof source.content !== 'string') {
        checkBlockList(source.content, `${sp}.content`, DOCUMENT_CONTENT_TAGS, false);
      }
      break;
    default:
      checkSharedSource(source, sp, ['base64', 'text', 'url', 'content', 'file']);
  }
  optionalString(block.title, `${path}.title`);
  optionalString(block.context, `${path}.context`);
  if (block.citations !== undefined && block.citations !== null) {
    const citations = requireObject(block.citations, `${path}.citations`);
    optionalBoolean(citations.enabled, `${path}.citations.enabled`);
  }
  checkCacheControl(block.cache_control, `${path}.cache_control`);
}

function checkToolResultBlock(block: Json, path: string): void {
  requireString(block.tool_use_id, `${path}.tool_use_id`);
  const content = block.content;
  if (content !== undefined && typeof content !== 'string') {
    checkBlockList(content, `${path}.content`, TOOL_RESULT_BLOCK_TAGS, false);
  }
  optionalBoolean(block.is_error, `${path}.is_error`);
  checkCacheControl(block.cache_control, `${path}.cache_control`);
}

/** A list of content blocks, each checked as {@link checkBlock} does. */
function checkBlockList(value: unknown, path: string, allowed: ReadonlySet<string>, lenient: boolean): void {
  const blocks = requireList(value, path);
  for (let i = 0; i < blocks.length; i++) checkBlock(blocks[i], `${path}.${i}`, allowed, lenient);
}

/**
 * One content block. `allowed` is the set of tags valid at this place; `lenient` also admits newer
 * server-tool block types.
 */
function checkBlock(value: unknown, path: string, allowed: ReadonlySet<string>, lenient: boolean): void {
  const block = requireObject(value, path);
  const type = block.type;
  if (typeof type !== 'string' || !allowed.has(type)) {
    if (lenient && typeof type === 'string' && isServerToolBlockType(type)) return;
    badTag(type, path, allowed);
  }
  switch (type) {
    case 'text':
      checkTextBlock(block, path);
      return;
    case 'image':
      checkImageBlock(block, path);
      return;
    case 'document':
      checkDocumentBlock(block, path);
      return;
    case 'thinking':
      requireString(block.thinking, `${path}.thinking`);
      requireString(block.signature, `${path}.signature`);
      return;
    case 'redacted_thinking':
      requireString(block.data, `${path}.data`);
      return;
    case 'tool_use':
      requireString(block.id, `${path}.id`);
      requireString(block.name, `${path}.name`);
      // Any JSON value: open models emit tool calls whose input is a string or an array, which the
      // gateway hands on as Bedrock gave them; an agent loop sends that turn back as it came.
      if (block.input === undefined) fail(`${path}.input`, 'Field required');
      checkCacheControl(block.cache_control, `${path}.cache_control`);
      return;
    case 'tool_result':
      checkToolResultBlock(block, path);
      return;
    case 'tool_reference':
      requireString(block.tool_name, `${path}.tool_name`);
      return;
    default:
      // A pass-through type: its inner shape is the translator's (or Claude's) business.
      return;
  }
}

// ---- messages ----

function toolUseIdsOf(content: unknown): string[] {
  const ids: string[] = [];
  if (!Array.isArray(content)) return ids;
  for (const block of content as Json[]) if (block.type === 'tool_use') ids.push(block.id as string);
  return ids;
}

const UNANSWERED_TOOL_USE =
  'Each `tool_use` block must have a corresponding `tool_result` block in the next message.';
const UNEXPECTED_TOOL_RESULT =
  'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.';

/**
 * Pairs tool_use and tool_result across turns, with Anthropic's own messages. `system` messages
 * (Claude Code's reminders) and repeated user turns between the two sides are skipped, because
 * consecutive same-role turns are merged before the model sees them.
 */
function checkToolPairing(messages: Json[]): void {
  let openIds: string[] = [];
  // Looked up once per tool_result: a Set, as one turn may hold a hundred thousand tool_use blocks.
  let open = new Set<string>();
  let openAt = -1;
  let answered = new Set<string>();
  let userReplied = false;
  for (let m = 0; m < messages.length; m++) {
    const message = messages[m]!;
    if (message.role === 'assistant') {
      closeTurn(openIds, openAt, answered);
      openIds = toolUseIdsOf(message.content);
      open = new Set(openIds);
      openAt = m;
      answered = new Set();
      userReplied = false;
      continue;
    }
    if (message.role === 'user') userReplied = true;
    if (!Array.isArray(message.content)) continue;
    const blocks = message.content as Json[];
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!;
      if (block.type !== 'tool_result') continue;
      const id = block.tool_use_id as string;
      if (!open.has(id)) {
        fail(
          `messages.${m}.content.${b}`,
          `unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. ${UNEXPECTED_TOOL_RESULT}`,
        );
      }
      answered.add(id);
    }
  }
  // A trailing assistant turn with tool_use (a prefill) has no answer yet: not an error.
  if (userReplied) closeTurn(openIds, openAt, answered);
}

function closeTurn(openIds: string[], openAt: number, answered: Set<string>): void {
  const missing = openIds.filter((id) => !answered.has(id));
  if (missing.length === 0) return;
  fail(
    `messages.${openAt}`,
    `\`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ${UNANSWERED_TOOL_USE}`,
  );
}

function checkMessages(value: unknown): Json[] {
  const messages = requireList(value, 'messages');
  if (messages.length === 0) fail('messages', 'at least one message is required');
  for (let m = 0; m < messages.length; m++) {
    const path = `messages.${m}`;
    const message = requireObject(messages[m], path);
    requireEnum(message.role, `${path}.role`, ROLES);
    const content = message.content;
    if (typeof content === 'string') continue;
    checkBlockList(content, `${path}.content`, MESSAGE_BLOCK_TAGS, true);
  }
  // System-role messages are lifted into `system`: a conversation of nothing else has no turn to answer.
  if (messages.every((message) => (message as Json).role === 'system'))
    fail('messages', 'at least one user or assistant message is required besides system-role messages');
  checkToolPairing(messages as Json[]);
  return messages as Json[];
}

function checkSystem(value: unknown): void {
  if (value === undefined || typeof value === 'string') return;
  if (!Array.isArray(value)) fail('system', 'Input should be a valid string');
  for (let i = 0; i < value.length; i++) {
    const path = `system.${i}`;
    const block = requireObject(value[i], path);
    if (block.type !== 'text') fail(`${path}.type`, tagMismatch(block.type, ['text']));
    checkTextBlock(block, path);
  }
}

// ---- tools ----

/** The tool names declared in `tools` (for tool_choice). */
function checkTools(value: unknown): Set<string> {
  const names = new Set<string>();
  if (value === undefined) return names;
  const tools = requireList(value, 'tools');
  for (let i = 0; i < tools.length; i++) {
    const path = `tools.${i}`;
    const tool = requireObject(tools[i], path);
    const type = tool.type;
    if (type === undefined || type === null || type === 'custom') {
      const name = requireString(tool.name, `${path}.name`);
      if (!TOOL_NAME.test(name)) fail(`${path}.name`, `String should match pattern '${TOOL_NAME.source}'`);
      // Bedrock refuses such a name: said here, so that count_tokens (which would fall back to its estimate) agrees.
      if (!name.isWellFormed()) fail(`${path}.name`, 'String should not contain unpaired surrogates');
      requireObject(tool.input_schema, `${path}.input_schema`);
      optionalString(tool.description, `${path}.description`);
    } else {
      // Anthropic-defined tools (bash_20250124, web_search_…, mcp_toolset): the translator decides.
      if (typeof type !== 'string') fail(`${path}.type`, 'Input should be a valid string');
      optionalString(tool.name, `${path}.name`, false);
    }
    checkCacheControl(tool.cache_control, `${path}.cache_control`);
    optionalBoolean(tool.defer_loading, `${path}.defer_loading`);
    optionalBoolean(tool.strict, `${path}.strict`);
    if (typeof tool.name === 'string') {
      if (names.has(tool.name)) fail('tools', 'Tool names must be unique.');
      names.add(tool.name);
    }
  }
  return names;
}

function checkToolChoice(value: unknown, toolNames: ReadonlySet<string>): void {
  if (value === undefined) return;
  const choice = requireObject(value, 'tool_choice');
  if (!(TOOL_CHOICE_TYPES as readonly unknown[]).includes(choice.type)) {
    badTag(choice.type, 'tool_choice', TOOL_CHOICE_TYPES);
  }
  if (choice.type === 'tool') {
    const name = requireString(choice.name, 'tool_choice.name');
    if (!toolNames.has(name)) fail('tool_choice.name', `no tool named ${quoted(name)} in tools`);
  }
  optionalBoolean(choice.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use');
}

// ---- generation settings ----

function checkThinking(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const thinking = requireObject(value, 'thinking');
  if (!(THINKING_TYPES as readonly unknown[]).includes(thinking.type)) {
    badTag(thinking.type, 'thinking', THINKING_TYPES);
  }
  if (thinking.display !== undefined && thinking.display !== null) {
    requireEnum(thinking.display, 'thinking.display', THINKING_DISPLAY);
  }
  if (thinking.type !== 'enabled') return undefined;
  return requireInteger(thinking.budget_tokens, 'thinking.budget_tokens', MIN_THINKING_BUDGET);
}

function checkOutputConfig(value: unknown): void {
  if (value === undefined) return;
  const config = requireObject(value, 'output_config');
  if (config.effort !== undefined && config.effort !== null) {
    requireEnum(config.effort, 'output_config.effort', EFFORTS);
  }
  if (config.format !== undefined && config.format !== null) {
    const format = requireObject(config.format, 'output_config.format');
    requireEnum(format.type, 'output_config.format.type', ['json_schema']);
    requireObject(format.schema, 'output_config.format.schema');
  }
}

function checkStopSequences(value: unknown): void {
  if (value === undefined) return;
  const list = requireList(value, 'stop_sequences');
  for (let i = 0; i < list.length; i++) {
    const s = requireString(list[i], `stop_sequences.${i}`);
    if (s.length === 0) fail('stop_sequences', 'each stop sequence must be non-empty');
    if (s.trim().length === 0) fail('stop_sequences', 'each stop sequence must contain non-whitespace');
  }
}

function checkMetadata(value: unknown): void {
  if (value === undefined) return;
  const metadata = requireObject(value, 'metadata');
  optionalString(metadata.user_id, 'metadata.user_id');
}

/**
 * A model name, checked before anything parses it: bounded, well-formed UTF-16, printable. Exported for
 * every other place a client names a model.
 */
export function checkModelName(value: unknown, path = 'model'): string {
  const model = requireString(value, path);
  if (model.length === 0) fail(path, 'String should have at least 1 character');
  if (model.length > MAX_MODEL_LENGTH)
    fail(path, `String should have at most ${MAX_MODEL_LENGTH} characters`);
  if (!model.isWellFormed()) fail(path, 'String should not contain unpaired surrogates');
  if (NON_PRINTABLE.test(model)) fail(path, 'String should contain printable characters only');
  return model;
}

function pathSegment(key: string): string {
  return /^[\w-]{1,40}$/.test(key) ? key : JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

/**
 * Whether any value in the body is nested MAX_JSON_DEPTH levels deep. Runs on every request, so it keeps
 * only a depth per queued object (no paths, no closures); iterative, so it cannot overflow the stack it
 * protects. Only a refused body pays for the walk that names where (refuseTooDeep).
 */
export function tooDeep(body: unknown): boolean {
  const values: unknown[] = [body];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) return true;
    const inner = Array.isArray(value) ? value : Object.values(value);
    for (const item of inner) {
      if (typeof item !== 'object' || item === null) continue;
      values.push(item);
      depths.push(depth + 1);
    }
  }
  return false;
}

/** Refuses a value nested deeper than MAX_JSON_DEPTH anywhere in the body, naming where. */
function checkDepth(body: Json): void {
  if (tooDeep(body)) refuseTooDeep(body);
}

function refuseTooDeep(body: Json): void {
  const stack: Array<{ value: unknown; depth: number; path: string[] }> = [
    { value: body, depth: 0, path: [] },
  ];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      const shown = path.slice(0, 6).join('.') + (path.length > 6 ? '…' : '');
      fail(shown, `Input should be nested at most ${MAX_JSON_DEPTH} levels deep`);
    }
    // Only objects and arrays are queued (a long list of numbers costs no allocation). Paths are kept only
    // as deep as an error message shows them; odd or long keys are quoted, cut short.
    const push = (inner: unknown, key: string) => {
      if (typeof inner !== 'object' || inner === null) return;
      stack.push({
        value: inner,
        depth: depth + 1,
        path: path.length < 7 ? [...path, pathSegment(key)] : path,
      });
    };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) push(value[i], String(i));
    } else {
      for (const key of Object.keys(value)) push((value as Json)[key], key);
    }
  }
}

function usesInterleavedThinking(betas: readonly string[] | undefined): boolean {
  return betas?.some((b) => b.startsWith('interleaved-thinking-')) ?? false;
}

const NULLABLE_TOP_LEVEL = [
  'system',
  'stream',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'service_tier',
] as const;

/** Anthropic's two request tiers (its API refuses any other value). */
const REQUEST_SERVICE_TIERS = ['auto', 'standard_only'];

function checkServiceTier(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !REQUEST_SERVICE_TIERS.includes(value)) {
    fail('service_tier', oneOf(REQUEST_SERVICE_TIERS));
  }
}

/** Checks a parsed JSON body; throws ApiError(invalid_request_error) naming the field (e.g. `messages.2.content.0.source.data: Field required`). */
export function validateMessagesRequest(body: unknown, options: ValidateOptions = {}): MessagesRequest {
  if (!isObject(body)) throw ApiError.invalid('Request body must be a JSON object');
  dropNulls(body, NULLABLE_TOP_LEVEL);
  checkModelName(body.model);
  checkDepth(body);
  const maxTokens = requireInteger(body.max_tokens, 'max_tokens', 1);
  checkMessages(body.messages);
  checkSystem(body.system);
  optionalBoolean(body.stream, 'stream');
  checkStopSequences(body.stop_sequences);
  optionalNumberInRange(body.temperature, 'temperature', 0, 1);
  optionalNumberInRange(body.top_p, 'top_p', 0, 1);
  if (body.top_k !== undefined) requireInteger(body.top_k, 'top_k', 0);
  checkMetadata(body.metadata);
  checkToolChoice(body.tool_choice, checkTools(body.tools));
  const budget = checkThinking(body.thinking);
  if (budget !== undefined && budget >= maxTokens && !usesInterleavedThinking(options.betas)) {
    throw ApiError.invalid('max_tokens must be greater than thinking.budget_tokens');
  }
  adoptBetaOutputFormat(body);
  applyTopLevelCacheControl(body);
  checkOutputConfig(body.output_config);
  checkServiceTier(body.service_tier);
  return body as unknown as MessagesRequest;
}

/** Blocks a cache_control mark may sit on (thinking blocks may not). */
const CACHEABLE = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'search_result']);

/**
 * Top-level `cache_control` (Anthropic's automatic prompt caching) "applies a cache_control marker to
 * the last cacheable block in the request": done here, so every path (Bedrock has no top-level field)
 * caches the conversation so far. A block already marked keeps its own mark.
 */
function applyTopLevelCacheControl(body: Json): void {
  if (!('cache_control' in body)) return;
  const mark = body.cache_control;
  delete body.cache_control;
  if (mark === undefined || mark === null) return;
  checkCacheControl(mark, 'cache_control');
  const messages = body.messages as Json[];
  for (let m = messages.length - 1; m >= 0; m--) {
    const message = messages[m]!;
    if (typeof message.content === 'string') {
      if (message.content.trim() === '') continue;
      message.content = [{ type: 'text', text: message.content, cache_control: mark }];
      return;
    }
    const blocks = message.content as Json[];
    for (let b = blocks.length - 1; b >= 0; b--) {
      const block = blocks[b]!;
      if (!CACHEABLE.has(block.type as string)) continue;
      block.cache_control ??= mark;
      return;
    }
  }
}

/**
 * The structured-outputs beta's top-level `output_format` (what the SDK's beta `parse()` sends) is
 * today's `output_config.format`: moved there, so it is not dropped as an unknown field and the answer
 * still follows the schema. Both given: `output_config.format` wins, as the later API.
 */
function adoptBetaOutputFormat(body: Json): void {
  if (body.output_format === undefined) return;
  const { output_format: format } = body;
  delete body.output_format;
  const config = body.output_config === undefined ? {} : requireObject(body.output_config, 'output_config');
  if (config.format === undefined || config.format === null) body.output_config = { ...config, format };
}

/**
 * Generation settings a count_tokens body may carry (clients reuse their Messages body) but that do not
 * change the count: ignored, and removed so that unchecked values never reach the translators.
 */
const IGNORED_BY_COUNT_TOKENS = [
  'max_tokens',
  'stream',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'service_tier',
] as const;

/** count_tokens takes the conversation without generation settings; extra fields are ignored. */
export function validateCountTokensRequest(body: unknown): CountTokensRequest {
  if (!isObject(body)) throw ApiError.invalid('Request body must be a JSON object');
  for (const field of IGNORED_BY_COUNT_TOKENS) delete body[field];
  dropNulls(body, ['system', 'tools', 'tool_choice', 'thinking']);
  checkModelName(body.model);
  checkDepth(body);
  checkMessages(body.messages);
  checkSystem(body.system);
  checkToolChoice(body.tool_choice, checkTools(body.tools));
  checkThinking(body.thinking);
  return body as unknown as CountTokensRequest;
}
