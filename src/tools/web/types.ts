/**
 * The contract between the server-tools loop (web search/fetch run by the gateway on behalf of the model)
 * and what executes them: search providers (small adapters over Brave, Tavily, Exa, SearXNG…) and the page
 * fetcher (public addresses only, readability extraction). The loop owns the conversation; these own I/O.
 */
import type { MediaFetchOptions } from '../../upstream/media-fetch.ts';
import type { DomainFilter } from './domains.ts';

/**
 * Anthropic's error codes for web_search_tool_result_error and web_fetch_tool_error. A malformed input
 * is `invalid_input` for web_search and `invalid_tool_input` for web_fetch, as Anthropic names them.
 */
export type WebToolErrorCode =
  | 'invalid_tool_input'
  | 'invalid_input'
  | 'unavailable'
  | 'max_uses_exceeded'
  | 'too_many_requests'
  | 'query_too_long'
  | 'url_too_long'
  | 'url_not_allowed'
  | 'url_not_in_prior_context'
  | 'url_not_accessible'
  | 'unsupported_content_type';

/** A failure the model is told about (as a tool error block), not a failure of the client's request. */
export class WebToolError extends Error {
  readonly code: WebToolErrorCode;
  constructor(code: WebToolErrorCode, message: string) {
    super(message);
    this.name = 'WebToolError';
    this.code = code;
  }
}

/** `user_location` of the web_search tool (Anthropic's shape, type "approximate"). */
export interface UserLocation {
  city?: string;
  region?: string;
  country?: string;
  timezone?: string;
}

/** Only results from `allowedDomains`, never from `blockedDomains` (each with its subdomains). */
export interface WebSearchQuery extends DomainFilter {
  query: string;
  userLocation?: UserLocation;
  /** At most this many hits (providers default to about 5–10). */
  maxResults?: number;
  signal?: AbortSignal;
}

export interface WebSearchHit {
  url: string;
  title: string;
  /** How old the page is, as the provider says it ("2 days ago", an ISO date), when known. */
  pageAge?: string;
  /** The text the model reads for this hit (snippet or extract); sealed into `encrypted_content`. */
  content: string;
}

/** One search backend. Throws WebToolError (`unavailable`, `too_many_requests`, …) on provider faults. */
export interface SearchProvider {
  readonly name: string;
  search(query: WebSearchQuery): Promise<WebSearchHit[]>;
  /**
   * The provider's own page extraction (Tavily extract, Exa contents), when it has one; used for web
   * fetch with ABPROXY_WEB_FETCH_VIA=provider. The URL is already checked (length, scheme, domains).
   */
  extract?(request: WebFetchRequest): Promise<FetchedDocument>;
}

export interface WebFetchRequest extends DomainFilter {
  url: string;
  /** Cut the document's text to about this many tokens. */
  maxContentTokens?: number;
  signal?: AbortSignal;
  /** The request's hold on the gateway's body budget: the page's bytes are held as a body's. */
  hold?: MediaFetchOptions['hold'];
  /** Who asked (an API key's id): callers take turns at the page reader, whoever queued more pages. */
  caller?: string;
}

/** A fetched page as Anthropic's `document` block source: clean text/Markdown, or a PDF as base64. */
export interface FetchedDocument {
  url: string;
  title?: string;
  /** ISO 8601 time of the fetch. */
  retrievedAt: string;
  source:
    | { type: 'text'; media_type: 'text/plain'; data: string }
    | { type: 'base64'; media_type: 'application/pdf'; data: string };
}

/** Fetches exactly one URL (no crawling). Throws WebToolError (`url_not_accessible`, `url_not_allowed`, …). */
export type FetchPage = (request: WebFetchRequest) => Promise<FetchedDocument>;

/** What the server-tools loop is given, built once from config at start-up. */
export interface WebTools {
  /** Absent when no provider is configured (then web_search is refused or removed, per config). */
  search?: SearchProvider;
  fetch: FetchPage;
}
