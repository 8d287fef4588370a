/**
 * The web tools loop: Anthropic's web_search / web_fetch server tools served by the gateway around
 * ordinary model calls. The model gets ordinary tools of the same purpose; when it calls one, the loop
 * searches or fetches, shows the client Anthropic's blocks (`server_tool_use`, then the result block),
 * feeds the results back as a tool result and calls the model again — until the model ends its turn,
 * calls one of the client's own tools (`tool_use` stop), or the loop's round or time budget runs out
 * (`pause_turn`, as Anthropic does). The client sees ONE message: one message_start, the blocks of every
 * call re-indexed, one message_delta with the usage of every call summed, one message_stop.
 *
 * The model calls come through `openRound` (the server's path, either Bedrock API); the loop owns the
 * searches and fetches (through WebTools) and the stream it yields. Translation steps are pure
 * (web-request.ts, web-blocks.ts).
 */
import { randomBytes } from 'node:crypto';
import type {
  MessageParam,
  MessagesRequest,
  StopReason,
  StreamEvent,
  ToolResultBlockParam,
  Usage,
} from '../anthropic/types.ts';
import { foldStream } from '../translate/fold-stream.ts';
import { estimateInputTokens } from '../translate/token-estimate.ts';
import { ContextUrls } from './web/context-urls.ts';
import { cutHit, cutTitle, cutToTokens } from './web/cut-to-tokens.ts';
import { filterByDomain, urlAllowed } from './web/domains.ts';
import { type WebFetchRequest, WebToolError, type WebToolErrorCode, type WebTools } from './web/types.ts';
import {
  type CitableSource,
  citationsFor,
  errorForModel,
  fetchErrorBlock,
  fetchResultBlock,
  fetchResultForModel,
  searchErrorBlock,
  searchResultBlock,
  searchResultForModel,
} from './web-blocks.ts';
import { convertWebHistory, hasWebHistory, modelRequest, type WebToolSpec } from './web-request.ts';

/** One model call's events and usage (see server/messages/model-round.ts). */
export interface LoopRound {
  events: AsyncIterable<StreamEvent>;
  usage(): Usage;
  /** The call's counts are the gateway's estimate (its stream was cut before Bedrock's final counts). */
  readonly usageIsEstimated?: boolean;
}

export interface WebLoopOptions {
  /** The client's request (validated). */
  request: MessagesRequest;
  spec: WebToolSpec;
  tools: WebTools;
  /** The gateway's signing secret (seals encrypted_content / encrypted_index). */
  secret: string;
  /** One model call; undefined when the client left. Throws the client's error on upstream failure. */
  openRound(request: MessagesRequest): Promise<LoopRound | undefined>;
  /**
   * The request forces a web tool (`tool_choice` tool/any) but the model cannot be forced natively:
   * the loop asks by instruction, retries once, and else searches with the user's own words.
   */
  forceByInstruction?: boolean;
  /** Time budget of the loop's searches and fetches; past it they fail (`unavailable`) and the model answers. */
  timeBudgetMs?: number;
  /** At most this many model calls (default: the tools' max_uses + 1, at most 25). */
  maxRounds?: number;
  /** Asked before each search/fetch (per-key permission and daily cap); false → `too_many_requests`. */
  admit?: (tool: 'web_search' | 'web_fetch') => Promise<boolean>;
  /** Gives back what `admit` counted for a search the provider failed (not billed, so not capped). */
  release?: (tool: 'web_search' | 'web_fetch') => void;
  /** The request's hold on the gateway's body budget, for the pages web fetch reads. */
  hold?: WebFetchRequest['hold'];
  /** Who asked (an API key's id), for the turns callers take at the page reader. */
  caller?: string;
  /**
   * The URLs the conversation provides, taken before the gateway replaced URL images and documents by
   * their bytes (default: from `request`, where they may be gone).
   */
  contextUrls?: ContextUrls;
  signal?: AbortSignal;
  now?: () => number;
}

/** `prefix` + 24 random characters, like the gateway's other ids. */
function randomId(prefix: string): string {
  return prefix + randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
}

export const MAX_QUERY_CHARS = 500;
export const MAX_URL_CHARS = 2000;
const DEFAULT_TIME_BUDGET_MS = 120_000;
const MAX_ROUNDS = 25;

interface ToolCall {
  /** The model's tool_use id (what its next turn's tool_result names). */
  modelId: string;
  /** The client's server_tool_use id. */
  clientId: string;
  name: string;
  kind: 'web_search' | 'web_fetch';
  json: string;
  input?: Record<string, unknown>;
}

interface RoundOutcome {
  calls: ToolCall[];
  clientToolCalls: number;
  stopReason: StopReason | null;
  stopSequence: string | null;
  raw: StreamEvent[];
  blocks: number;
}

function emptyUsage(): Usage {
  return {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: null,
  };
}

function addUsage(total: Usage, more: Usage): void {
  total.input_tokens += more.input_tokens;
  total.output_tokens += more.output_tokens;
  if (more.cache_creation_input_tokens !== null)
    total.cache_creation_input_tokens =
      (total.cache_creation_input_tokens ?? 0) + more.cache_creation_input_tokens;
  if (more.cache_read_input_tokens !== null)
    total.cache_read_input_tokens = (total.cache_read_input_tokens ?? 0) + more.cache_read_input_tokens;
  if (more.cache_creation) {
    total.cache_creation ??= { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 };
    const split = total.cache_creation;
    split.ephemeral_5m_input_tokens += more.cache_creation.ephemeral_5m_input_tokens;
    split.ephemeral_1h_input_tokens += more.cache_creation.ephemeral_1h_input_tokens;
  }
}

/** The last user turn's text (the query when a forced search must be made without the model). */
function lastUserText(messages: readonly MessageParam[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role !== 'user') continue;
    const text =
      typeof message.content === 'string'
        ? message.content
        : message.content
            .filter((b) => b.type === 'text')
            .map((b) => (b as { text: string }).text)
            .join('\n');
    if (text.trim() !== '') return text.trim();
  }
  return '';
}

async function* replay(events: readonly StreamEvent[]): AsyncIterable<StreamEvent> {
  yield* events;
}

export class WebLoop {
  readonly #o: WebLoopOptions;
  readonly #usage = emptyUsage();
  readonly #serverUse = { web_search_requests: 0, web_fetch_requests: 0 };
  readonly #uses = { web_search: 0, web_fetch: 0 };
  readonly #sources: Map<number, CitableSource>;
  readonly #base: MessagesRequest;
  readonly #names: Map<string, 'web_search' | 'web_fetch'>;
  /** The URLs web fetch may fetch: the conversation's, then what this loop's searches and fetches found. */
  readonly #urls: ContextUrls;
  #index = 0;
  #started = false;
  /** Pages fetched in this response so far (a char_location's document_index). */
  #documents = 0;
  /** When the loop began (the time budget counts from it). */
  #began = 0;
  #finished = false;
  #estimated = false;

  constructor(options: WebLoopOptions) {
    this.#o = options;
    const { request, spec, secret } = options;
    const history = hasWebHistory(request.messages)
      ? convertWebHistory(request.messages, secret)
      : { messages: request.messages, sources: new Map<number, CitableSource>() };
    this.#sources = history.sources;
    this.#urls = options.contextUrls ?? ContextUrls.of(request.messages, spec.fetch?.urlSources);
    const forced = request.tool_choice?.type === 'tool' ? request.tool_choice.name : spec.search?.name;
    this.#base = modelRequest({ ...request, messages: history.messages }, spec, {
      ...(options.forceByInstruction && forced ? { forceByInstruction: forced } : {}),
    });
    if (options.forceByInstruction) this.#base.tool_choice = { type: 'auto' };
    this.#names = new Map();
    if (spec.search) this.#names.set(spec.search.name, 'web_search');
    if (spec.fetch) this.#names.set(spec.fetch.name, 'web_fetch');
  }

  /** Usage of every model call so far, with the server tool counts. */
  usage(): Usage {
    return { ...this.#usage, server_tool_use: { ...this.#serverUse } };
  }

  /** Whether usage() holds estimates: a model call the client left before Bedrock's final counts. */
  get usageIsEstimated(): boolean {
    return this.#estimated;
  }

  /** One model call's usage added to the request's. */
  #count(round: LoopRound): void {
    addUsage(this.#usage, round.usage());
    if (round.usageIsEstimated) this.#estimated = true;
  }

  /**
   * A model call the client left while it was being opened: Bedrock got its whole prompt, which is
   * billed at the gateway's estimate, as a call without web tools the client leaves that early is.
   */
  #left(request: MessagesRequest): void {
    this.#usage.input_tokens += estimateInputTokens(request);
    this.#estimated = true;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** The client's stream events, as they happen. */
  async *events(): AsyncGenerator<StreamEvent> {
    const o = this.#o;
    const now = o.now ?? Date.now;
    this.#began = now();
    const maxRounds =
      o.maxRounds ?? Math.min(MAX_ROUNDS, (o.spec.search?.maxUses ?? 10) + (o.spec.fetch?.maxUses ?? 10) + 1);
    const messages = [...this.#base.messages];
    const forcedChoice = this.#base.tool_choice?.type === 'tool' || this.#base.tool_choice?.type === 'any';
    for (let round = 1; ; round++) {
      const request: MessagesRequest = { ...this.#base, messages: [...messages] };
      // A forced choice forces the first call only; after it the model must be free to answer.
      if (round > 1 && forcedChoice) request.tool_choice = { type: 'auto' };
      let outcome: RoundOutcome | undefined;
      if (round === 1 && o.forceByInstruction) {
        const events = await this.#forcedFirstRound(request);
        if (events === undefined) return;
        outcome = yield* this.#round(replay(events));
      } else {
        const opened = await o.openRound(request);
        if (!opened) {
          this.#left(request);
          return;
        }
        try {
          outcome = yield* this.#round(opened.events);
        } finally {
          this.#count(opened);
        }
      }
      if (o.signal?.aborted) return;
      if (outcome.calls.length === 0) {
        yield* this.#finish(outcome.stopReason, outcome.stopSequence);
        return;
      }
      const results: ToolResultBlockParam[] = [];
      for (const call of outcome.calls) {
        const { block, forModel } = await this.#run(call);
        if (o.signal?.aborted) return;
        yield { type: 'content_block_start', index: this.#index, content_block: block };
        yield { type: 'content_block_stop', index: this.#index };
        this.#index++;
        results.push(forModel);
      }
      if (outcome.clientToolCalls > 0) {
        yield* this.#finish('tool_use', null);
        return;
      }
      const content = foldStream(outcome.raw).content.filter((b) => !(b.type === 'text' && b.text === ''));
      messages.push({ role: 'assistant', content: content as MessageParam['content'] });
      messages.push({ role: 'user', content: results });
      if (round >= maxRounds) {
        yield* this.#finish('pause_turn', null);
        return;
      }
    }
  }

  /**
   * The first call when the forced tool choice is asked by instruction: buffered (one call, so the
   * client never sees an answer that is then replaced), retried once when the model did not call the
   * tool, else replaced by a search with the user's own words (when the request has a search tool;
   * else the model's answer goes as it is).
   */
  async #forcedFirstRound(request: MessagesRequest): Promise<StreamEvent[] | undefined> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const opened = await this.#o.openRound(request);
      if (!opened) {
        this.#left(request);
        return undefined;
      }
      const events: StreamEvent[] = [];
      try {
        for await (const event of opened.events) events.push(event);
      } finally {
        this.#count(opened);
      }
      // `any` asks for a tool call, any tool's: one of the client's own tools answers it too.
      const anyTool = this.#o.request.tool_choice?.type === 'any';
      const called = events.some(
        (e) =>
          e.type === 'content_block_start' &&
          e.content_block.type === 'tool_use' &&
          (anyTool || this.#names.has(e.content_block.name)),
      );
      if (called) return events;
      // The search stands in for a forced search (or `any`) only: a forced fetch has no URL to make
      // up, and without a search tool there is no search. Then the model's own answer stands.
      const choice = this.#o.request.tool_choice;
      const search = this.#o.spec.search;
      if (attempt === 2 && (!search || (choice?.type === 'tool' && choice.name !== search.name)))
        return events;
      if (attempt === 2) {
        const start = events.find((e) => e.type === 'message_start');
        return this.#syntheticSearch(start, lastUserText(request.messages));
      }
    }
    return undefined;
  }

  /** A model turn that only calls the search tool with `query` (the forced search the model did not make). */
  #syntheticSearch(start: StreamEvent | undefined, query: string): StreamEvent[] {
    const name = this.#o.spec.search?.name ?? 'web_search';
    const message =
      start?.type === 'message_start'
        ? start.message
        : {
            id: randomId('msg_'),
            type: 'message' as const,
            role: 'assistant' as const,
            model: this.#o.request.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: emptyUsage(),
          };
    return [
      { type: 'message_start', message: { ...message, content: [] } },
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: randomId('toolu_'), name, input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify({ query }) },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: {
          input_tokens: null,
          output_tokens: 0,
          cache_creation_input_tokens: null,
          cache_read_input_tokens: null,
        },
      },
      { type: 'message_stop' },
    ];
  }

  /** One model call's events → the client's (re-indexed, web tool calls shown as server_tool_use). */
  async *#round(events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent, RoundOutcome> {
    const outcome: RoundOutcome = {
      calls: [],
      clientToolCalls: 0,
      stopReason: null,
      stopSequence: null,
      raw: [],
      blocks: 0,
    };
    const calls = new Map<number, ToolCall>();
    const texts = new Map<number, string>();
    const offset = this.#index;
    for await (const event of events) {
      outcome.raw.push(event);
      switch (event.type) {
        case 'message_start':
          if (!this.#started) {
            this.#started = true;
            yield { type: 'message_start', message: { ...event.message, content: [], stop_reason: null } };
          }
          break;
        case 'content_block_start': {
          const index = offset + event.index;
          outcome.blocks = Math.max(outcome.blocks, event.index + 1);
          const block = event.content_block;
          if (block.type === 'tool_use' && this.#names.has(block.name)) {
            const call: ToolCall = {
              modelId: block.id,
              clientId: randomId('srvtoolu_'),
              name: block.name,
              kind: this.#names.get(block.name)!,
              json: '',
            };
            calls.set(event.index, call);
            outcome.calls.push(call);
            yield {
              type: 'content_block_start',
              index,
              content_block: {
                type: 'server_tool_use',
                id: call.clientId,
                name: call.kind,
                input: {},
                caller: { type: 'direct' },
              },
            };
            break;
          }
          if (block.type === 'tool_use') outcome.clientToolCalls++;
          if (block.type === 'text') texts.set(event.index, '');
          yield { ...event, index };
          break;
        }
        case 'content_block_delta': {
          const call = calls.get(event.index);
          if (call && event.delta.type === 'input_json_delta') call.json += event.delta.partial_json;
          if (event.delta.type === 'text_delta' && texts.has(event.index))
            texts.set(event.index, texts.get(event.index)! + event.delta.text);
          yield { ...event, index: offset + event.index };
          break;
        }
        case 'content_block_stop': {
          const text = texts.get(event.index);
          if (text !== undefined && this.#sources.size > 0) {
            for (const citation of citationsFor(this.#o.secret, text, this.#sources)) {
              yield {
                type: 'content_block_delta',
                index: offset + event.index,
                delta: { type: 'citations_delta', citation },
              };
            }
          }
          yield { ...event, index: offset + event.index };
          break;
        }
        case 'message_delta':
          outcome.stopReason = event.delta.stop_reason;
          outcome.stopSequence = event.delta.stop_sequence;
          break;
        case 'message_stop':
          break;
        default:
          yield event;
      }
    }
    this.#index = offset + outcome.blocks;
    for (const call of outcome.calls) {
      try {
        const input = call.json.trim() === '' ? {} : JSON.parse(call.json);
        call.input = typeof input === 'object' && input !== null ? input : {};
      } catch {
        call.input = undefined;
      }
    }
    return outcome;
  }

  async #admit(kind: 'web_search' | 'web_fetch'): Promise<WebToolErrorCode | undefined> {
    const o = this.#o;
    const spec = kind === 'web_search' ? o.spec.search : o.spec.fetch;
    if (spec?.maxUses !== undefined && this.#uses[kind] >= spec.maxUses) return 'max_uses_exceeded';
    // Past the time budget no more searches or fetches: the model answers with what it has.
    const now = o.now ?? Date.now;
    if (now() - this.#began > (o.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS)) return 'unavailable';
    this.#uses[kind]++;
    if (o.admit && !(await o.admit(kind))) return 'too_many_requests';
    return undefined;
  }

  /** Runs one web tool call: the client's result block and the model's tool result. */
  async #run(
    call: ToolCall,
  ): Promise<{ block: ReturnType<typeof searchResultBlock>; forModel: ToolResultBlockParam }> {
    const fail = (code: WebToolErrorCode) => ({
      block:
        call.kind === 'web_search'
          ? searchErrorBlock(call.clientId, code)
          : fetchErrorBlock(call.clientId, code),
      forModel: errorForModel(call.modelId, call.kind, code),
    });
    const input = call.input;
    try {
      if (call.kind === 'web_search') {
        const query = input?.query;
        if (typeof query !== 'string' || query.trim() === '') return fail('invalid_tool_input');
        if (query.length > MAX_QUERY_CHARS) return fail('query_too_long');
        const refused = await this.#admit('web_search');
        if (refused) return fail(refused);
        const search = this.#o.tools.search;
        if (!search) {
          this.#o.release?.('web_search');
          return fail('unavailable');
        }
        const spec = this.#o.spec.search!;
        const found = await search
          .search({
            query,
            ...(spec.allowedDomains ? { allowedDomains: spec.allowedDomains } : {}),
            ...(spec.blockedDomains ? { blockedDomains: spec.blockedDomains } : {}),
            ...(spec.userLocation ? { userLocation: spec.userLocation } : {}),
            ...(this.#o.signal ? { signal: this.#o.signal } : {}),
          })
          .catch((err: unknown) => {
            // A search the provider failed is neither billed nor counted against the key's daily cap; one
            // the client hung up on was asked of the provider all the same, and stays counted.
            if (!this.#o.signal?.aborted) this.#o.release?.('web_search');
            throw err;
          });
        const hits = filterByDomain(found, spec);
        this.#serverUse.web_search_requests++;
        if (this.#urls.countsResultsOf(spec.name)) for (const hit of hits) this.#urls.addUrl(hit.url);
        const sources = hits.map((hit) => {
          const source: CitableSource = {
            number: this.#sources.size + 1,
            url: hit.url,
            title: hit.title,
            content: cutHit(hit.content),
            ...(hit.pageAge ? { age: hit.pageAge } : {}),
          };
          this.#sources.set(source.number, source);
          return source;
        });
        return {
          block: searchResultBlock(this.#o.secret, call.clientId, hits),
          forModel: searchResultForModel(call.modelId, sources),
        };
      }
      const url = input?.url;
      if (typeof url !== 'string' || url.trim() === '') return fail('invalid_tool_input');
      if (url.length > MAX_URL_CHARS) return fail('url_too_long');
      try {
        const parsed = new URL(url);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return fail('invalid_tool_input');
      } catch {
        return fail('invalid_tool_input');
      }
      const spec = this.#o.spec.fetch!;
      // Only a URL the conversation provided (as Anthropic's web fetch): never one the model made up,
      // which could carry the conversation's secrets to someone's server.
      if (!this.#urls.allows(url)) return fail('url_not_in_prior_context');
      if (!urlAllowed(url, spec)) return fail('url_not_allowed');
      const refused = await this.#admit('web_fetch');
      if (refused) return fail(refused);
      const fetched = await this.#o.tools.fetch({
        url,
        ...(spec.allowedDomains ? { allowedDomains: spec.allowedDomains } : {}),
        ...(spec.blockedDomains ? { blockedDomains: spec.blockedDomains } : {}),
        ...(spec.maxContentTokens ? { maxContentTokens: spec.maxContentTokens } : {}),
        ...(this.#o.signal ? { signal: this.#o.signal } : {}),
        ...(this.#o.hold ? { hold: this.#o.hold } : {}),
        ...(this.#o.caller !== undefined ? { caller: this.#o.caller } : {}),
      });
      this.#serverUse.web_fetch_requests++;
      // Whatever fetched it, the model gets no more than max_content_tokens (or the default), and a title.
      const titled = fetched.title === undefined ? fetched : { ...fetched, title: cutTitle(fetched.title) };
      const doc =
        titled.source.type === 'text'
          ? {
              ...titled,
              source: { ...titled.source, data: cutToTokens(titled.source.data, spec.maxContentTokens) },
            }
          : titled;
      const source: CitableSource = {
        number: this.#sources.size + 1,
        url: doc.url,
        title: doc.title ?? doc.url,
        content: doc.source.type === 'text' ? doc.source.data : '',
        document: { index: this.#documents++, citations: spec.citations },
      };
      this.#sources.set(source.number, source);
      if (this.#urls.countsResultsOf(spec.name)) {
        this.#urls.addUrl(doc.url);
        this.#urls.addText(source.content);
      }
      return {
        block: fetchResultBlock(call.clientId, doc, spec.citations),
        forModel: fetchResultForModel(call.modelId, source, doc),
      };
    } catch (err) {
      if (err instanceof WebToolError) return fail(err.code);
      if (this.#o.signal?.aborted) throw err;
      return fail(call.kind === 'web_search' ? 'unavailable' : 'url_not_accessible');
    }
  }

  *#finish(stopReason: StopReason | null, stopSequence: string | null): Generator<StreamEvent> {
    this.#finished = true;
    const usage = this.usage();
    yield {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        server_tool_use: usage.server_tool_use!,
      },
    };
    yield { type: 'message_stop' };
  }
}
