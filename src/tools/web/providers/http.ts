/**
 * One HTTP call to a search provider, with the faults every adapter maps the same way: a deadline
 * (`unavailable`), 429 (`too_many_requests`, with its retry-after in the message), 5xx, refused
 * connections and bodies that are not JSON (`unavailable`), other 4xx (`invalid_input`, or `unavailable`
 * for 401/403: the gateway's key is wrong, not the model's query). The API key never appears in a message.
 */
import type { Dispatcher } from 'undici';
import { envProxyDispatcher } from '../../../upstream/proxy.ts';
import { readCapped } from '../../../upstream/read-capped.ts';
import { type DomainFilter, domainHosts, filterByDomain } from '../domains.ts';
import {
  type FetchedDocument,
  type SearchProvider,
  type WebFetchRequest,
  type WebSearchHit,
  type WebSearchQuery,
  WebToolError,
} from '../types.ts';

export interface ProviderOptions {
  /** Base URL without a trailing slash (the provider's public API unless overridden). */
  baseUrl: string;
  apiKey?: string | undefined;
  /** Deadline of one call. */
  timeoutMs: number;
  /** Results per search when the query does not say. */
  maxResults: number;
  /** Brave, SearXNG: put the domain filters into the query as `site:` operators. */
  siteOperators?: boolean;
}

/**
 * How many hits to ask of a provider that cannot filter by domain itself: all it gives (`max`) when
 * filters will be applied afterwards, so enough remain; else what the caller wants.
 */
export function askCount(
  wanted: number,
  max: number,
  filter: DomainFilter,
  filteredByProvider: boolean,
): number {
  const filtering = (filter.allowedDomains?.length ?? 0) + (filter.blockedDomains?.length ?? 0) > 0;
  return Math.min(filtering && !filteredByProvider ? max : wanted, max);
}

export interface ProviderCall {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** A provider call as an adapter words it; the deadline and the caller's signal are added for it. */
export type ProviderRequest = Omit<ProviderCall, 'timeoutMs' | 'signal'>;

const MAX_ERROR_DETAIL = 200;

/**
 * Largest answer read from a provider: search results are kilobytes, an extracted page at most
 * ABPROXY_WEB_FETCH_MAX_BYTES-like megabytes. A provider (or whatever answers at its URL) that sends
 * more is cut off, not buffered until the gateway runs out of memory.
 */
export const MAX_PROVIDER_ANSWER_BYTES = 16 * 1024 * 1024;

class AnswerTooLarge extends Error {}

/** Calls the provider and returns its JSON body; throws WebToolError on every fault. */
export async function callProvider(name: string, call: ProviderCall): Promise<unknown> {
  const deadline = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, deadline]) : deadline;
  let res: Dispatcher.ResponseData;
  try {
    // undici's index (~110 modules) loads with the first web tool call, not with the gateway.
    const { request } = await import('undici');
    const dispatcher = await envProxyDispatcher();
    res = await request(call.url, {
      ...(dispatcher ? { dispatcher } : {}),
      method: call.method,
      headers: {
        accept: 'application/json',
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...call.headers,
      },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      signal,
    });
  } catch (err) {
    if (call.signal?.aborted) throw call.signal.reason;
    if (deadline.aborted) {
      throw new WebToolError('unavailable', `${name} did not answer within ${call.timeoutMs / 1000} s`);
    }
    const code = (err as { code?: unknown }).code;
    throw new WebToolError(
      'unavailable',
      `${name} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
  let text: string;
  try {
    text = (await readCapped(res.body, MAX_PROVIDER_ANSWER_BYTES, () => new AnswerTooLarge())).toString(
      'utf8',
    );
  } catch (err) {
    if (call.signal?.aborted) throw call.signal.reason;
    if (err instanceof AnswerTooLarge) {
      throw new WebToolError(
        'unavailable',
        `${name} answered more than ${MAX_PROVIDER_ANSWER_BYTES / 1024 / 1024} MiB`,
      );
    }
    const why = deadline.aborted
      ? `did not answer within ${call.timeoutMs / 1000} s`
      : 'cut its answer short';
    throw new WebToolError('unavailable', `${name} ${why}`);
  }
  const status = res.statusCode;
  if (status === 429) {
    const retryAfter = res.headers['retry-after'];
    const after = typeof retryAfter === 'string' && retryAfter !== '' ? ` (retry after ${retryAfter} s)` : '';
    throw new WebToolError('too_many_requests', `${name} is rate limiting searches${after}`);
  }
  if (status >= 500) throw new WebToolError('unavailable', `${name} answered HTTP ${status}`);
  if (status === 401 || status === 403) {
    throw new WebToolError('unavailable', `${name} refused the gateway's API key (HTTP ${status})`);
  }
  if (status < 200 || status >= 300) {
    throw new WebToolError('invalid_input', `${name} refused the query (HTTP ${status}${detail(text)})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new WebToolError('unavailable', `${name} answered with something that is not JSON`);
  }
}

function detail(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  return trimmed === '' ? '' : `: ${trimmed.slice(0, MAX_ERROR_DETAIL)}`;
}

/** An empty query, or one longer than the provider takes, is the model's mistake, said before any call. */
export function checkQuery(name: string, query: string, maxChars: number): string {
  const text = query.trim();
  if (text === '') throw new WebToolError('invalid_input', 'the search query is empty');
  if (text.length > maxChars) {
    throw new WebToolError('query_too_long', `${name} takes queries of at most ${maxChars} characters`);
  }
  return text;
}

/** The text of an HTML snippet (providers mark matches with <strong> and escape entities). */
export function plainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .trim();
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** `results` of a provider's answer (at `path`), or `unavailable` when the shape is not the API's. */
export function resultsAt(name: string, body: unknown, path: readonly string[]): unknown[] {
  let at: unknown = body;
  for (const key of path) {
    if (!isRecord(at)) break;
    at = at[key];
  }
  if (Array.isArray(at)) return at;
  // Brave leaves `web` out when nothing matched.
  if (isRecord(body) && path.length > 1 && body[path[0]!] === undefined) return [];
  throw new WebToolError('unavailable', `${name} answered in an unexpected shape (no ${path.join('.')})`);
}

/** Hits of an answer whose `results[]` items are `{url, title, content, <dateField>}` (Tavily, SearXNG). */
export function plainResults(name: string, body: unknown, dateField: string): WebSearchHit[] {
  const hits: WebSearchHit[] = [];
  for (const item of resultsAt(name, body, ['results'])) {
    if (!isRecord(item)) continue;
    const url = str(item.url);
    if (!url) continue;
    const pageAge = str(item[dateField]);
    hits.push({
      url,
      title: str(item.title) ?? url,
      content: str(item.content) ?? '',
      ...(pageAge ? { pageAge } : {}),
    });
  }
  return hits;
}

/** The first object of the array at `key` of an answer, if any (`statuses[]`, `failed_results[]`). */
export function firstRecordAt(body: unknown, key: string): Record<string, unknown> | undefined {
  const list = isRecord(body) ? body[key] : undefined;
  return Array.isArray(list) ? list.find(isRecord) : undefined;
}

/** The query's domain filters as body fields named by the provider; an empty filter is left out. */
export function domainFields(q: WebSearchQuery, include: string, exclude: string): Record<string, string[]> {
  const allowed = domainHosts(q.allowedDomains);
  const blocked = domainHosts(q.blockedDomains);
  return {
    ...(allowed.length > 0 ? { [include]: allowed } : {}),
    ...(blocked.length > 0 ? { [exclude]: blocked } : {}),
  };
}

/** What sets one search provider apart; searchVia does the rest the same way for all. */
export interface SearchSpec {
  /** The provider as messages name it (`Brave`). */
  name: string;
  maxQuery: number;
  maxCount: number;
  /** The call for a checked query that wants `count` hits. */
  request(query: string, count: number, q: WebSearchQuery): ProviderRequest;
  /** The hits of the answer, best first. */
  parse(body: unknown): WebSearchHit[];
}

/**
 * A provider's search: the query checked against its limits, the call (with the deadline and the
 * caller's signal), then the hits filtered by domain (always, whatever the provider did) and cut to count.
 */
export function searchVia(spec: SearchSpec, options: ProviderOptions): SearchProvider['search'] {
  return async (q) => {
    const query = checkQuery(spec.name, q.query, spec.maxQuery);
    const count = Math.min(q.maxResults ?? options.maxResults, spec.maxCount);
    const body = await callProvider(spec.name, {
      ...spec.request(query, count, q),
      timeoutMs: options.timeoutMs,
      signal: q.signal,
    });
    return filterByDomain(spec.parse(body), q).slice(0, count);
  };
}

/** A provider fault met while extracting a page, in web fetch's codes (a refused URL is not accessible). */
export function asFetchError(err: unknown): unknown {
  if (err instanceof WebToolError && err.code === 'invalid_input') {
    return new WebToolError('url_not_accessible', err.message);
  }
  return err;
}

/** What a provider's extract answer says of the page: its text, or why it could not read it. */
export interface ExtractedPage {
  text?: string | undefined;
  title?: string | undefined;
  why?: string | undefined;
}

/**
 * One page through a provider's extract API: the call (its faults in web fetch's codes), then the page
 * `read` finds in the answer, or `url_not_accessible` with the provider's reason.
 */
export async function extractVia(
  name: string,
  fetch: WebFetchRequest,
  timeoutMs: number,
  call: ProviderRequest,
  read: (body: unknown) => ExtractedPage,
): Promise<FetchedDocument> {
  let body: unknown;
  try {
    body = await callProvider(name, { ...call, timeoutMs, signal: fetch.signal });
  } catch (err) {
    throw asFetchError(err);
  }
  const page = read(body);
  if (!page.text) {
    throw new WebToolError(
      'url_not_accessible',
      `${name} could not read the page${page.why ? `: ${page.why}` : ''}`,
    );
  }
  return extractedDocument(fetch.url, page.text, page.title);
}

/** The document of an extracted page (text as the provider gave it, Markdown or plain). */
export function extractedDocument(url: string, text: string, title?: string): FetchedDocument {
  return {
    url,
    ...(title ? { title } : {}),
    retrievedAt: new Date().toISOString(),
    source: { type: 'text', media_type: 'text/plain', data: text },
  };
}
