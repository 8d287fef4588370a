/**
 * Pure request side of the web tools loop:
 * - which of Anthropic's web server tools a request carries (`web_search_*`, `web_fetch_*`) and their options;
 * - the request the model gets instead: the same purpose as ordinary tools (`web_search {query}`,
 *   `web_fetch {url}`) and an instruction to cite results as `[N]`;
 * - a history echoing earlier server-tool blocks turned into what Bedrock accepts (tool_use + tool_result),
 *   each search hit's `encrypted_content` verified as this gateway's own (forged → 400).
 */
import { ApiError } from '../anthropic/errors.ts';
import type {
  ContentBlockParam,
  MessageParam,
  MessagesRequest,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
} from '../anthropic/types.ts';
import { unseal } from './seal.ts';
import type { ToolFilter, UrlSources } from './web/context-urls.ts';
import type { UserLocation } from './web/types.ts';
import {
  type CitableSource,
  errorForModel,
  fetchResultForModel,
  type SealedHit,
  searchResultForModel,
} from './web-blocks.ts';

export interface WebSearchOptions {
  name: string;
  maxUses?: number;
  allowedDomains?: string[];
  blockedDomains?: string[];
  userLocation?: UserLocation;
}

export interface WebFetchOptions {
  name: string;
  maxUses?: number;
  allowedDomains?: string[];
  blockedDomains?: string[];
  citations: boolean;
  maxContentTokens?: number;
  urlSources?: UrlSources;
}

export interface WebToolSpec {
  search?: WebSearchOptions;
  fetch?: WebFetchOptions;
}

export function isWebSearchTool(tool: Pick<Tool, 'type'>): boolean {
  return typeof tool.type === 'string' && tool.type.startsWith('web_search_');
}

export function isWebFetchTool(tool: Pick<Tool, 'type'>): boolean {
  return typeof tool.type === 'string' && tool.type.startsWith('web_fetch_');
}

function domains(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((d) => typeof d !== 'string' || d.trim() === '')) {
    throw ApiError.invalid(`${path}: Input should be a list of domain names`);
  }
  return value as string[];
}

/**
 * The versions of the web tools Anthropic defines (its SDK 1.16): another `web_search_…` / `web_fetch_…`
 * is refused as Anthropic refuses it, not served as if it were one of these.
 */
export const WEB_SEARCH_TYPES = [
  'web_search_20250305',
  'web_search_20260209',
  'web_search_20260318',
] as const;
export const WEB_FETCH_TYPES = [
  'web_fetch_20250910',
  'web_fetch_20260209',
  'web_fetch_20260309',
  'web_fetch_20260318',
] as const;

function checkType(type: string, path: string): void {
  const known: readonly string[] = type.startsWith('web_search_') ? WEB_SEARCH_TYPES : WEB_FETCH_TYPES;
  if (known.includes(type)) return;
  const shown = type.length > 64 ? `${type.slice(0, 64)}…` : type;
  throw ApiError.invalid(
    `${path}.type: Input tag '${shown}' found using 'type' does not match any of the expected tags: ${known
      .map((t) => `'${t}'`)
      .join(', ')}`,
  );
}

/** A count option (max_uses, max_content_tokens): an integer from 1 (a safe one: 1e30 is no count). */
function positive(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw ApiError.invalid(`${path}: Input should be a valid integer`);
  }
  if (value < 1) throw ApiError.invalid(`${path}: Input should be greater than or equal to 1`);
  return value;
}

/** `citations` of web fetch: `{enabled: boolean}` (or null / absent: off). */
function citationsEnabled(value: unknown, path: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw ApiError.invalid(`${path}: Input should be a valid dictionary`);
  }
  const enabled = (value as { enabled?: unknown }).enabled;
  if (enabled !== undefined && enabled !== null && typeof enabled !== 'boolean') {
    throw ApiError.invalid(`${path}.enabled: Input should be a valid boolean`);
  }
  return enabled === true;
}

function sourceFilter(value: unknown, path: string, lists: boolean): ToolFilter | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw ApiError.invalid(`${path}: Input should be a valid dictionary`);
  }
  const { type, tools } = value as { type?: unknown; tools?: unknown };
  if (type === 'all' || type === 'none') return { type };
  const expected = lists ? "'all', 'none', 'only', 'except'" : "'all', 'none'";
  if (!lists || (type !== 'only' && type !== 'except')) {
    throw ApiError.invalid(
      `${path}: Input tag '${String(type).slice(0, 64)}' found using 'type' does not match any of the expected tags: ${expected}`,
    );
  }
  if (!Array.isArray(tools)) throw ApiError.invalid(`${path}.tools: Input should be a valid list`);
  return {
    type,
    tools: tools.map((tool: unknown, k) => {
      const ref = tool as { type?: unknown; name?: unknown } | null;
      if (ref?.type !== 'tool_reference' || typeof ref.name !== 'string') {
        throw ApiError.invalid(`${path}.tools.${k}: Input should be {"type": "tool_reference", "name": "…"}`);
      }
      return ref.name;
    }),
  };
}

/** `url_sources` of web fetch: which parts of the conversation provide the URLs it may fetch. */
function urlSources(value: unknown, path: string): UrlSources | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw ApiError.invalid(`${path}: Input should be a valid dictionary`);
  }
  const raw = value as Record<string, unknown>;
  const userInput = sourceFilter(raw.user_input, `${path}.user_input`, false);
  const clientToolResults = sourceFilter(raw.client_tool_results, `${path}.client_tool_results`, true);
  const serverToolResults = sourceFilter(raw.server_tool_results, `${path}.server_tool_results`, true);
  return {
    ...(userInput ? { userInput: userInput.type !== 'none' } : {}),
    ...(clientToolResults ? { clientToolResults } : {}),
    ...(serverToolResults ? { serverToolResults } : {}),
  };
}

/** Anthropic's bounds on each field of `user_location` (a country is ISO 3166-1 alpha-2: two letters). */
const LOCATION_FIELDS = { city: [1, 255], region: [1, 255], country: [2, 2], timezone: [1, 255] } as const;

const characters = (n: number) => `${n} character${n === 1 ? '' : 's'}`;

/**
 * `user_location` of web search, checked as Anthropic's schema does (type "approximate", each field a
 * string of bounded length or null, nothing else): a 400 rather than a location silently dropped.
 */
function userLocation(value: unknown, path: string): UserLocation | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw ApiError.invalid(`${path}: Input should be a valid dictionary`);
  }
  const raw = value as Record<string, unknown>;
  if (raw.type === undefined) throw ApiError.invalid(`${path}.type: Field required`);
  if (raw.type !== 'approximate') throw ApiError.invalid(`${path}.type: Input should be 'approximate'`);
  const location: UserLocation = {};
  for (const [key, field] of Object.entries(raw)) {
    if (key === 'type') continue;
    if (!Object.hasOwn(LOCATION_FIELDS, key)) {
      throw ApiError.invalid(`${path}.${key.slice(0, 64)}: Extra inputs are not permitted`);
    }
    if (field === null) continue;
    if (typeof field !== 'string') throw ApiError.invalid(`${path}.${key}: Input should be a valid string`);
    const [min, max] = LOCATION_FIELDS[key as keyof UserLocation];
    if (field.length < min) {
      throw ApiError.invalid(`${path}.${key}: String should have at least ${characters(min)}`);
    }
    if (field.length > max) {
      throw ApiError.invalid(`${path}.${key}: String should have at most ${characters(max)}`);
    }
    location[key as keyof UserLocation] = field;
  }
  return location;
}

/** The web server tools of a request with their options; undefined when it has none. */
export function webToolsOf(request: Pick<MessagesRequest, 'tools'>): WebToolSpec | undefined {
  const spec: WebToolSpec = {};
  (request.tools ?? []).forEach((tool, i) => {
    const raw = tool as unknown as Record<string, unknown>;
    const path = `tools.${i}`;
    if (!isWebSearchTool(tool) && !isWebFetchTool(tool)) return;
    checkType(tool.type as string, path);
    // One of each: the loop knows a tool by its kind, so a second's options would replace the first's
    // and calls to the first would reach the client as its own tool.
    const kind = isWebSearchTool(tool) ? 'search' : 'fetch';
    // The name is fixed, as in Anthropic's schema: the model calls the tool by it.
    if (raw.name !== `web_${kind}`) throw ApiError.invalid(`${path}.name: Input should be 'web_${kind}'`);
    if (spec[kind]) throw ApiError.invalid(`${path}: only one web_${kind} tool may be given per request`);
    const allowedDomains = domains(raw.allowed_domains, `${path}.allowed_domains`);
    const blockedDomains = domains(raw.blocked_domains, `${path}.blocked_domains`);
    if (allowedDomains && blockedDomains) {
      throw ApiError.invalid(`${path}: allowed_domains and blocked_domains cannot be used together`);
    }
    const common = {
      maxUses: positive(raw.max_uses, `${path}.max_uses`),
      ...(allowedDomains ? { allowedDomains } : {}),
      ...(blockedDomains ? { blockedDomains } : {}),
    };
    if (isWebSearchTool(tool)) {
      const location = userLocation(raw.user_location, `${path}.user_location`);
      spec.search = {
        name: tool.name || 'web_search',
        ...common,
        ...(location ? { userLocation: location } : {}),
      };
    } else {
      spec.fetch = {
        name: tool.name || 'web_fetch',
        ...common,
        citations: citationsEnabled(raw.citations, `${path}.citations`),
        maxContentTokens: positive(raw.max_content_tokens, `${path}.max_content_tokens`),
      };
      const sources = urlSources(raw.url_sources, `${path}.url_sources`);
      if (sources) spec.fetch.urlSources = sources;
    }
  });
  return spec.search || spec.fetch ? spec : undefined;
}

const SEARCH_TOOL_DESCRIPTION =
  'Search the web for current information. Returns numbered results (title, URL, text). ' +
  'Cite the results you use with their number in square brackets, e.g. [1], right after the statement.';
const FETCH_TOOL_DESCRIPTION =
  'Fetch one web page or PDF by its full URL and return its text. Use URLs from the conversation or from ' +
  'search results. Cite the page with its number in square brackets, e.g. [1].';

export const CITE_INSTRUCTION =
  'When you use information from web_search or web_fetch results, cite the source by its number in square ' +
  'brackets, like [1] or [2], right after the statement it supports.';

export function forceInstruction(toolName: string): string {
  return `Your first action must be a call to the ${toolName} tool; do not answer before calling it.`;
}

/** The ordinary tools the model gets in place of the server tools (same names, same purpose). */
export function modelTools(spec: WebToolSpec): Tool[] {
  const tools: Tool[] = [];
  if (spec.search) {
    tools.push({
      name: spec.search.name,
      description: SEARCH_TOOL_DESCRIPTION,
      input_schema: {
        type: 'object',
        properties: { query: { type: 'string', description: 'The search query' } },
        required: ['query'],
      },
    });
  }
  if (spec.fetch) {
    tools.push({
      name: spec.fetch.name,
      description: FETCH_TOOL_DESCRIPTION,
      input_schema: {
        type: 'object',
        properties: { url: { type: 'string', description: 'The full URL to fetch' } },
        required: ['url'],
      },
    });
  }
  return tools;
}

function withSystem(system: MessagesRequest['system'], extra: readonly string[]): MessagesRequest['system'] {
  if (extra.length === 0) return system;
  const text = extra.join('\n');
  if (system === undefined || system === '' || (Array.isArray(system) && system.length === 0)) return text;
  if (typeof system === 'string') return `${system}\n\n${text}`;
  return [...system, { type: 'text', text }];
}

/**
 * The request the model gets: web server tools replaced by ordinary ones, the citation instruction (and,
 * when the forced tool choice cannot be expressed, an instruction to call the tool) in the system prompt.
 */
export function modelRequest(
  request: MessagesRequest,
  spec: WebToolSpec,
  options: { forceByInstruction?: string } = {},
): MessagesRequest {
  const others = (request.tools ?? []).filter((tool) => !isWebSearchTool(tool) && !isWebFetchTool(tool));
  const extra = [CITE_INSTRUCTION];
  if (options.forceByInstruction) extra.push(forceInstruction(options.forceByInstruction));
  return {
    ...request,
    tools: [...others, ...modelTools(spec)],
    system: withSystem(request.system, extra),
  };
}

// ---- history ----

type Block = ContentBlockParam | { type: string; [key: string]: unknown };

function isServerToolUse(
  block: Block,
): block is { type: 'server_tool_use'; id: string; name: string; input: unknown } {
  // Only the web tools': other server tools' blocks (code execution…) stay for the translators to judge.
  return block.type === 'server_tool_use' && (block.name === 'web_search' || block.name === 'web_fetch');
}

function isWebResult(block: Block): boolean {
  return block.type === 'web_search_tool_result' || block.type === 'web_fetch_tool_result';
}

/** Whether any message echoes web server-tool blocks (then the history must be converted). */
export function hasWebHistory(messages: readonly MessageParam[]): boolean {
  return messages.some(
    (m) =>
      Array.isArray(m.content) && (m.content as Block[]).some((b) => isServerToolUse(b) || isWebResult(b)),
  );
}

export interface ConvertedHistory {
  messages: MessageParam[];
  /** Every source the history numbered, by number (for citations in this response). */
  sources: Map<number, CitableSource>;
}

function resultForModel(
  block: Record<string, unknown>,
  path: string,
  secret: string,
  sources: Map<number, CitableSource>,
): ToolResultBlockParam {
  const toolUseId = String(block.tool_use_id ?? '');
  const content = block.content as Record<string, unknown> | Array<Record<string, unknown>> | undefined;
  if (block.type === 'web_search_tool_result') {
    if (!Array.isArray(content)) {
      const code = (content?.error_code as string | undefined) ?? 'unavailable';
      return errorForModel(toolUseId, 'web_search', code as never);
    }
    const hits: CitableSource[] = content.map((value: unknown, k) => {
      // Echoed by the client: an item may be anything JSON holds (null too).
      const item = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
      const opened = unseal(secret, item.encrypted_content) as SealedHit | undefined;
      if (!opened || typeof opened.c !== 'string' || opened.u !== item.url) {
        throw ApiError.invalid(
          `${path}.content.${k}.encrypted_content: not a search result issued by this gateway (forged or altered)`,
        );
      }
      const source: CitableSource = {
        number: sources.size + 1,
        url: opened.u,
        title: opened.t,
        content: opened.c,
        ...(opened.a ? { age: opened.a } : {}),
      };
      sources.set(source.number, source);
      return source;
    });
    return searchResultForModel(toolUseId, hits);
  }
  // web_fetch_tool_result: Anthropic's document is not sealed; the text is the client's to send.
  if (Array.isArray(content) || content?.type !== 'web_fetch_result') {
    const code =
      ((content as Record<string, unknown> | undefined)?.error_code as string | undefined) ?? 'unavailable';
    return errorForModel(toolUseId, 'web_fetch', code as never);
  }
  const doc = content.content as {
    source?: { type?: string; media_type?: string; data?: unknown };
    title?: string | null;
  };
  const source = doc?.source;
  if (!source || typeof source.data !== 'string' || (source.type !== 'text' && source.type !== 'base64')) {
    throw ApiError.invalid(`${path}.content.content.source: a text or base64 PDF document is required`);
  }
  const citable: CitableSource = {
    number: sources.size + 1,
    url: String(content.url ?? ''),
    title: doc.title ?? String(content.url ?? ''),
    content: source.type === 'text' ? source.data : '',
    document: {
      index: [...sources.values()].filter((s) => s.document).length,
      citations: (doc as { citations?: { enabled?: boolean } | null }).citations?.enabled === true,
    },
  };
  sources.set(citable.number, citable);
  return fetchResultForModel(toolUseId, citable, {
    source:
      source.type === 'text'
        ? { type: 'text', media_type: 'text/plain', data: source.data }
        : { type: 'base64', media_type: 'application/pdf', data: source.data },
    ...(doc.title ? { title: doc.title } : {}),
  });
}

function withoutCitations(block: Block): Block {
  if (block.type !== 'text' || !('citations' in block)) return block;
  const { citations: _dropped, ...rest } = block as TextBlockParam;
  return rest;
}

function prepend(message: MessageParam, blocks: ContentBlockParam[]): MessageParam {
  const content: ContentBlockParam[] =
    typeof message.content === 'string'
      ? [{ type: 'text', text: message.content }]
      : (message.content as ContentBlockParam[]);
  return { ...message, content: [...blocks, ...content] };
}

/**
 * Echoed server-tool blocks → tool_use (in the assistant turn) and tool_result (in a user turn after it),
 * splitting an assistant turn where the model went on after a result. Citations on assistant text are
 * dropped (Bedrock would not take ours). Throws a 400 for a search result this gateway did not issue.
 */
export function convertWebHistory(messages: readonly MessageParam[], secret: string): ConvertedHistory {
  const sources = new Map<number, CitableSource>();
  const out: MessageParam[] = [];
  let carried: ToolResultBlockParam[] = [];
  messages.forEach((message, m) => {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) {
      if (carried.length > 0 && message.role === 'user') {
        out.push(prepend(message, carried));
        carried = [];
        return;
      }
      if (carried.length > 0) out.push({ role: 'user', content: carried });
      carried = [];
      out.push(message);
      return;
    }
    if (carried.length > 0) out.push({ role: 'user', content: carried });
    carried = [];
    let assistant: Block[] = [];
    let results: ToolResultBlockParam[] = [];
    (message.content as Block[]).forEach((block, b) => {
      const path = `messages.${m}.content.${b}`;
      if (isServerToolUse(block)) {
        assistant.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input ?? {} });
        return;
      }
      if (isWebResult(block)) {
        results.push(resultForModel(block as Record<string, unknown>, path, secret, sources));
        return;
      }
      if (results.length > 0) {
        out.push({ role: 'assistant', content: assistant as ContentBlockParam[] });
        out.push({ role: 'user', content: results });
        assistant = [];
        results = [];
      }
      const kept = withoutCitations(block);
      if (kept.type === 'text' && (kept as TextBlockParam).text === '') return;
      assistant.push(kept);
    });
    if (assistant.length > 0) out.push({ role: 'assistant', content: assistant as ContentBlockParam[] });
    carried = results;
  });
  if (carried.length > 0) out.push({ role: 'user', content: carried });
  return { messages: out, sources };
}
