/**
 * Web fetch: exactly one URL, fetched through the same guard as remote media (src/upstream/media-fetch.ts:
 * public addresses only, pinned DNS, every redirect re-checked, size and time caps), then turned into
 * what the model reads:
 *   - HTML → the article's main text as Markdown (@mozilla/readability on a linkedom DOM, then turndown),
 *     in a worker thread (html-converter.ts);
 *   - text/plain, Markdown (and other plain-text types) → as they are;
 *   - PDF → a base64 document (checked by its magic bytes, not only the Content-Type);
 *   - anything else → `unsupported_content_type`.
 * `max_content_tokens` cuts the text at about 4 characters per token (no tokenizer for every model
 * family is at hand; 4 is the usual average for English prose), and says so at the cut.
 */
import { ApiError } from '../../anthropic/errors.ts';
import { abortable } from '../../upstream/abortable.ts';
import {
  describeFailure,
  type Fetched,
  FetchFailure,
  fetchGuarded,
  resolveOptions,
  sniffMediaType,
} from '../../upstream/media-fetch.ts';
import { specialRange } from '../../upstream/public-address.ts';
import { cutToTokens } from './cut-to-tokens.ts';
import { urlAllowed } from './domains.ts';
import { HtmlConverter, type HtmlConverterOptions, readerHeapMb } from './html-converter.ts';
import {
  type FetchedDocument,
  type FetchPage,
  type SearchProvider,
  type WebFetchRequest,
  WebToolError,
} from './types.ts';

export interface FetchPageOptions {
  /** Deadline per fetch (DNS, connect, redirects, body). */
  timeoutMs: number;
  /** Largest page or PDF read. */
  maxBytes: number;
  /** TESTS ONLY (ABPROXY_WEB_FETCH_ALLOW_LOOPBACK_FOR_TESTS): loopback addresses count as public. */
  allowLoopbackForTests?: boolean;
  maxRedirects?: number;
  /** DNS resolution; defaults to the system resolver (tests point names at chosen addresses). */
  lookup?: Parameters<typeof resolveOptions>[0]['lookup'];
  /** The HTML reader's deadline, heap and idle time (html-converter.ts). */
  reader?: HtmlConverterOptions;
}

/** Anthropic's web_fetch limit on the URL's length. */
export const MAX_URL_LENGTH = 250;

const ACCEPT =
  'text/html, application/xhtml+xml, text/markdown, text/plain;q=0.9, application/pdf;q=0.9, */*;q=0.1';
const TEXT_TYPES = new Set([
  'text/plain',
  'text/markdown',
  'text/x-markdown',
  'text/csv',
  'text/xml',
  'application/json',
  'application/xml',
]);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

function isLoopback(address: string): boolean {
  return specialRange(address)?.name.startsWith('Loopback') === true;
}

function failureToError(err: unknown, deadline: AbortSignal, timeoutMs: number): WebToolError {
  const reason = describeFailure(err, deadline, timeoutMs);
  if (err instanceof FetchFailure) {
    switch (err.kind) {
      case 'url':
        return new WebToolError('invalid_tool_input', `the URL cannot be fetched: ${reason}`);
      case 'not_public':
        return new WebToolError('url_not_allowed', `the URL is not on the public internet: ${reason}`);
      case 'not_allowed':
        return new WebToolError('url_not_allowed', `the page ${reason}`);
      default:
        return new WebToolError('url_not_accessible', `the page could not be fetched: ${reason}`);
    }
  }
  return new WebToolError('url_not_accessible', `the page could not be fetched: ${reason}`);
}

function charsetOf(contentType: string | undefined): string {
  const match = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase() ?? 'utf-8';
}

/** The charset an HTML page declares in its first bytes (`<meta charset>` or http-equiv), if any. */
function metaCharset(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 2048).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
}

function decode(bytes: Buffer, contentType: string | undefined, html = false): string {
  const declared = /charset\s*=/i.test(contentType ?? '') ? charsetOf(contentType) : undefined;
  const charset = declared ?? (html ? metaCharset(bytes) : undefined) ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

async function documentFrom(
  fetched: Fetched,
  request: WebFetchRequest,
  reader: HtmlConverter,
): Promise<FetchedDocument> {
  const retrievedAt = new Date().toISOString();
  const declared = fetched.contentType?.split(';')[0]?.trim().toLowerCase();
  if (sniffMediaType(fetched.bytes) === 'application/pdf' || declared === 'application/pdf') {
    if (sniffMediaType(fetched.bytes) !== 'application/pdf') {
      throw new WebToolError('unsupported_content_type', 'the page says it is a PDF but is not one');
    }
    return {
      url: request.url,
      retrievedAt,
      source: { type: 'base64', media_type: 'application/pdf', data: fetched.bytes.toString('base64') },
    };
  }
  if (declared === undefined && fetched.bytes.subarray(0, 1024).includes(0)) {
    throw new WebToolError('unsupported_content_type', 'the page is binary and says nothing of its type');
  }
  const text = decode(fetched.bytes, fetched.contentType, declared === undefined || HTML_TYPES.has(declared));
  // Declared HTML, or undeclared text that opens like an HTML document.
  const html =
    declared === undefined ? /^\s*<(!doctype html|html)[\s>]/i.test(text) : HTML_TYPES.has(declared);
  if (html) {
    // In a worker thread, off the event loop: a hostile page costs its own deadline, not the gateway's.
    const { title, markdown } = await reader.convert(text, fetched.url, request.signal, request.caller);
    return {
      url: request.url,
      ...(title ? { title } : {}),
      retrievedAt,
      source: {
        type: 'text',
        media_type: 'text/plain',
        data: cutToTokens(markdown, request.maxContentTokens),
      },
    };
  }
  if (declared === undefined || TEXT_TYPES.has(declared) || declared.endsWith('+json')) {
    return {
      url: request.url,
      retrievedAt,
      source: { type: 'text', media_type: 'text/plain', data: cutToTokens(text, request.maxContentTokens) },
    };
  }
  throw new WebToolError('unsupported_content_type', `web fetch does not read '${declared}' content`);
}

/** The checks every web fetch passes before any request: length, URL syntax, scheme, domain rules. */
export function checkFetchUrl(request: WebFetchRequest): URL {
  const raw = request.url.trim();
  if (raw.length > MAX_URL_LENGTH) {
    throw new WebToolError('url_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebToolError('invalid_tool_input', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebToolError(
      'invalid_tool_input',
      `only http and https URLs can be fetched, not ${url.protocol}`,
    );
  }
  if (!urlAllowed(url, request)) {
    throw new WebToolError('url_not_allowed', `${url.hostname} is not allowed by the tool's domain rules`);
  }
  return url;
}

/** Web fetch through the search provider's extraction API (ABPROXY_WEB_FETCH_VIA=provider). */
export function providerFetchPage(extract: NonNullable<SearchProvider['extract']>): FetchPage {
  return async (request) => {
    checkFetchUrl(request);
    const doc = await extract({ ...request, url: request.url.trim() });
    if (doc.source.type !== 'text') return doc;
    return {
      ...doc,
      source: { ...doc.source, data: cutToTokens(doc.source.data, request.maxContentTokens) },
    };
  };
}

/** The fetcher the server-tools loop calls; one instance per gateway. */
export function createFetchPage(options: FetchPageOptions): FetchPage {
  const resolved = resolveOptions({
    allowPrivate: false,
    allowAddress: options.allowLoopbackForTests ? isLoopback : () => false,
    maxRedirects: options.maxRedirects ?? 5,
    timeoutMs: options.timeoutMs,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const reader = new HtmlConverter({ maxHeapMb: readerHeapMb(options.maxBytes), ...options.reader });
  return async (request) => {
    const raw = request.url.trim();
    const url = checkFetchUrl(request);
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    let fetched: Fetched;
    try {
      fetched = await abortable(
        fetchGuarded(
          {
            url: url.href,
            max: options.maxBytes,
            accept: ACCEPT,
            userAgent: 'abproxy-web-fetch',
            // A redirect through a blocked domain is not followed: that domain would see the request.
            mayRedirectTo: (next) => urlAllowed(next, request),
          },
          resolved,
          {
            remaining: options.maxBytes,
            total: options.maxBytes,
            ...(request.hold ? { hold: request.hold } : {}),
          },
          signal,
        ),
        signal,
      );
    } catch (err) {
      if (request.signal?.aborted) throw request.signal.reason;
      // The gateway's body budget is full: the page may be fetched again once requests finish.
      if (err instanceof ApiError) throw new WebToolError('too_many_requests', err.message);
      throw failureToError(err, deadline, options.timeoutMs);
    }
    if (fetched.url !== url.href && !urlAllowed(fetched.url, request)) {
      throw new WebToolError(
        'url_not_allowed',
        `the page redirected to ${new URL(fetched.url).hostname}, which is not allowed`,
      );
    }
    return documentFrom(fetched, { ...request, url: raw }, reader);
  };
}
