/**
 * Web fetch: exactly one URL, fetched through the same guard as remote media (src/upstream/media-fetch.ts:
 * public addresses only, pinned DNS, every redirect re-checked, size and time caps), then turned into
 * what the model reads:
 *   - HTML → the article's main text as Markdown (@mozilla/readability on a linkedom DOM, then turndown);
 *   - text/plain, Markdown (and other plain-text types) → as they are;
 *   - PDF → a base64 document (checked by its magic bytes, not only the Content-Type);
 *   - anything else → `unsupported_content_type`.
 * `max_content_tokens` cuts the text at about 4 characters per token (no tokenizer for every model
 * family is at hand; 4 is the usual average for English prose), and says so at the cut.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';
import {
  abortable,
  describeFailure,
  type Fetched,
  FetchFailure,
  fetchGuarded,
  resolveOptions,
  sniffMediaType,
} from '../../upstream/media-fetch.ts';
import { specialRange } from '../../upstream/public-address.ts';
import { urlAllowed } from './domains.ts';
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
}

/** Anthropic's web_fetch limit on the URL's length. */
export const MAX_URL_LENGTH = 250;
/** Characters per token for `max_content_tokens`: a common average, not a tokenizer. */
export const CHARS_PER_TOKEN = 4;

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
        return new WebToolError('invalid_input', `the URL cannot be fetched: ${reason}`);
      case 'not_public':
        return new WebToolError('url_not_allowed', `the URL is not on the public internet: ${reason}`);
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

const turndown = new TurndownService({
  headingStyle: 'atx',
  codeBlockStyle: 'fenced',
  bulletListMarker: '-',
});
turndown.remove(['script', 'style', 'noscript', 'iframe', 'form']);

/**
 * HTML parsed for extraction at most (after scripts, styles, SVG and comments are dropped): parsing is
 * synchronous (Readability: about 1 s per 500 kB of dense markup here) and must not stall the
 * gateway's other requests for long. Longer pages are read from their start, and the text says so.
 */
export const MAX_HTML_CHARS = 256 * 1024;

/** Elements whose content never reads as text. */
const DROPPED_ELEMENTS = /<(script|style|svg|noscript|template|iframe)\b/gi;

/**
 * Comments (`<!--…-->`) dropped, in one pass: a comment that never closes means none after it does
 * either, so it and the rest stay as they are. Linear, whatever the page.
 */
function dropComments(html: string): string {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    const open = html.indexOf('<!--', at);
    if (open < 0) break;
    const close = html.indexOf('-->', open + 4);
    if (close < 0) break;
    parts.push(html.slice(at, open));
    at = close + 3;
  }
  parts.push(html.slice(at));
  return parts.join('');
}

/**
 * `<script …>…</script>` and the other DROPPED_ELEMENTS removed with their content, in one pass. A
 * regular expression with a lazy body retries from every opener and is quadratic on a page of openers
 * that never close (seconds per 100 kB); here each search that reaches the page's end is remembered.
 */
function dropElements(html: string): string {
  const parts: string[] = [];
  const neverCloses = new Set<string>();
  const opener = new RegExp(DROPPED_ELEMENTS.source, 'gi');
  let at = 0;
  for (;;) {
    const match = opener.exec(html);
    if (!match) break;
    const name = match[1]!.toLowerCase();
    if (neverCloses.has(name)) continue;
    const end = html.indexOf('>', opener.lastIndex);
    if (end < 0) break; // no opener after this one ends either
    const close = closingTag(html, name, end + 1);
    if (close === undefined) {
      neverCloses.add(name);
      continue;
    }
    parts.push(html.slice(at, match.index));
    at = close;
    opener.lastIndex = close;
  }
  parts.push(html.slice(at));
  return parts.join('');
}

/** Where `</name\s*>` ends in `html`, searching from `from`; undefined when it never comes. */
function closingTag(html: string, name: string, from: number): number | undefined {
  const closer = new RegExp(`</${name}\\s*>`, 'gi');
  closer.lastIndex = from;
  return closer.exec(html) ? closer.lastIndex : undefined;
}

/**
 * Longest whitespace run kept: turndown trims its output with `/[\t\r\n\s]+$/`, which costs the
 * square of every whitespace run in the page (a 64 kB `<pre>` of " \n" took 5 s). No reader needs
 * more blank space than this.
 */
export const MAX_WHITESPACE_RUN = 200;

const shortenWhitespace = (html: string): string =>
  html.replace(/\s+/g, (run) => (run.length > MAX_WHITESPACE_RUN ? run.slice(0, MAX_WHITESPACE_RUN) : run));

/** The page without what never reads as text, cut to MAX_HTML_CHARS. Pure and linear. */
export function slimHtml(html: string): string {
  const slim = shortenWhitespace(dropElements(dropComments(html)));
  return slim.length <= MAX_HTML_CHARS ? slim : slim.slice(0, MAX_HTML_CHARS);
}

/** The main content of an HTML page as Markdown, and its title. Pure. */
export function htmlToMarkdown(page: string, url?: string): { title?: string; markdown: string } {
  const html = slimHtml(page);
  const { document } = parseHTML(html);
  const pageTitle = document.querySelector('title')?.textContent?.trim() || undefined;
  let article: { title?: string | null; content?: string | null } | null = null;
  try {
    // Readability changes the DOM it reads: give it its own copy.
    const copy = parseHTML(html).document;
    if (url) {
      const base = copy.createElement('base');
      base.setAttribute('href', url);
      copy.head?.prepend(base);
    }
    article = new Readability(copy as unknown as Document, { charThreshold: 100 }).parse();
  } catch {
    article = null;
  }
  const body = article?.content || document.body?.innerHTML || html;
  const markdown = turndown
    .turndown(body)
    // turndown pads list markers to 4 columns ("-   item"): one space reads as people write it. The
    // indent is matched within its line: `\s*` would span lines and cost the square of a blank run.
    .replace(/^([ \t]*)(-|\d+\.) {2,}/gm, '$1$2 ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const title = article?.title?.trim() || pageTitle;
  const cut = html.length === MAX_HTML_CHARS && html !== page;
  return {
    ...(title ? { title } : {}),
    markdown: cut ? `${markdown}\n\n[…the rest of the page was not read]` : markdown,
  };
}

/** Cuts text to about `maxTokens` tokens (4 characters each) and says where it was cut. Pure. */
export function cutToTokens(text: string, maxTokens: number | undefined): string {
  if (maxTokens === undefined || maxTokens <= 0) return text;
  const max = maxTokens * CHARS_PER_TOKEN;
  if (text.length <= max) return text;
  // Do not split a surrogate pair.
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}\n\n[…cut at about ${maxTokens} tokens (max_content_tokens)]`;
}

function documentFrom(fetched: Fetched, request: WebFetchRequest): FetchedDocument {
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
  if (declared && HTML_TYPES.has(declared)) {
    const { title, markdown } = htmlToMarkdown(text, fetched.url);
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
    if (declared === undefined && /^\s*<(!doctype html|html)[\s>]/i.test(text)) {
      const { title, markdown } = htmlToMarkdown(text, fetched.url);
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
    throw new WebToolError('invalid_input', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebToolError('invalid_input', `only http and https URLs can be fetched, not ${url.protocol}`);
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
  return async (request) => {
    const raw = request.url.trim();
    const url = checkFetchUrl(request);
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    let fetched: Fetched;
    try {
      fetched = await abortable(
        fetchGuarded(
          { url: url.href, max: options.maxBytes, accept: ACCEPT, userAgent: 'abproxy-web-fetch' },
          resolved,
          { remaining: options.maxBytes, total: options.maxBytes },
          signal,
        ),
        signal,
      );
    } catch (err) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw failureToError(err, deadline, options.timeoutMs);
    }
    if (fetched.url !== url.href && !urlAllowed(fetched.url, request)) {
      throw new WebToolError(
        'url_not_allowed',
        `the page redirected to ${new URL(fetched.url).hostname}, which is not allowed`,
      );
    }
    return documentFrom(fetched, { ...request, url: raw });
  };
}
