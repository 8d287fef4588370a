/**
 * The URLs web fetch may fetch: only those the conversation provided, as Anthropic's web fetch does
 * ("Claude can only fetch URLs that have been explicitly provided by the user or that come from previous
 * web search or web fetch results"), so a model talked into writing a URL of its own — one carrying the
 * conversation's secrets to someone's server — fetches nothing. Pure.
 *
 * Sources, as Anthropic's `url_sources` names them: user input and client tool results (every string in a
 * user turn: text, tool_result content, a document's or image's URL), and web search / web fetch results
 * (those echoed in assistant turns, and those of this request's loop: each hit's URL, each fetched page's
 * URL and the links in its text — following a link of a page read is what fetch is for, and the page
 * wrote it, not the model). A site written without its scheme ("summarise example.com") provides that
 * site with either scheme. The system prompt and the model's own words are not sources. The tool's
 * `url_sources` narrows them: user input off, client / server tool results off or only those of some
 * tools (by name).
 *
 * Compared after `urlKey`: parsed as a URL (scheme and host lower case, IDN in punycode, default port
 * dropped, dot segments resolved), the fragment dropped (never sent), trailing slashes of the path ignored,
 * escapes of unreserved characters made plain (`%7E` is `~`) and other escapes upper case. Everything
 * else must be equal: scheme, user info, host, port, path case, query. A URL that only starts like a
 * provided one, or adds a query, is not provided.
 *
 * Found by the host: a question reads only the words around the places the asked URL's host is written
 * (in any case, in punycode or Unicode), newest texts first and within bounds (MAX_PLACES, MAX_WORDS,
 * MAX_READ_CHARS), so a conversation of megabytes of URLs costs milliseconds per question, not seconds.
 */
import { domainToUnicode } from 'node:url';
import type { MessageParam } from '../../anthropic/types.ts';

/** Web URLs written out in text (scheme included); stops at white space, quotes and angle brackets. */
const URL_IN_TEXT = /https?:\/\/[^\s<>"'`\\]+/gi;
/**
 * A site written without its scheme ("summarise example.com", "docs.python.org/3/"): a name ending in a
 * label of letters, or an IPv4 address, with its port and path. Not inside a word, an e-mail address or
 * a URL (the lookbehind), and not the start of a longer name (the lookahead).
 */
const BARE_URL =
  /(?<![\w@.:/\\%-])(?:(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}|\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?(?![\w@-]|\.\w)(?:\/[^\s<>"'`\\]*)?/gi;
/** What prose puts right after a URL: tried both with and without it (at most a few such characters). */
const TRAILING = /[.,;:!?)\]}*_'"。、，；：！？）」』】]$/u;
const MAX_TRAILING = 3;
/** Longer URLs are never fetched (the loop's `url_too_long`), so they need not be kept. */
const MAX_URL_CHARS = 2000;

/** The key two spellings of one URL share; undefined for what is not an http(s) URL. */
export function urlKey(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const userinfo = url.username || url.password ? `${url.username}:${url.password}@` : '';
  const host = url.hostname.replace(/\.$/, '') + (url.port ? `:${url.port}` : '');
  const path = plainEscapes(url.pathname);
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return `${url.protocol}//${userinfo}${host}${path.slice(0, end)}${plainEscapes(url.search)}`;
}

/** `%7e` → `~`, `%2f` → `%2F`: one spelling for each escape a server reads the same. */
function plainEscapes(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9a-f]{2})/gi, (escaped, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[a-z0-9._~-]/i.test(char) ? char : escaped.toUpperCase();
  });
}

/** CJK and full-width characters: Chinese or Japanese prose often goes on right after a URL, no space. */
const CJK = /[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]/u;

/** Each match of `pattern` in the text, also without the punctuation prose may have put after it (and
 * without the CJK text that follows it). */
function matchesIn(text: string, pattern: RegExp, maxChars: number): string[] {
  const found: string[] = [];
  const add = (url: string) => {
    found.push(url);
    for (let cut = 0; cut < MAX_TRAILING && TRAILING.test(url); cut++) {
      url = url.slice(0, -1);
      found.push(url);
    }
  };
  for (const [url] of text.matchAll(pattern)) {
    if (url.length > maxChars) continue;
    add(url);
    const cjk = url.search(CJK);
    if (cjk > 0) add(url.slice(0, cjk));
  }
  return found;
}

/** The URLs written in a text (see `matchesIn`). */
export function urlsInText(text: string): string[] {
  return matchesIn(text, URL_IN_TEXT, MAX_URL_CHARS + MAX_TRAILING);
}

/**
 * The sites written in a text without their scheme (see `matchesIn`). Each counts with either scheme:
 * the user named it, and the model can only ask for it as written (no path or query of its own).
 */
export function sitesInText(text: string): string[] {
  return matchesIn(text, BARE_URL, MAX_URL_CHARS);
}

/** Which tools' results count (`url_sources.client_tool_results` / `server_tool_results`). */
export type ToolFilter = { type: 'all' } | { type: 'none' } | { type: 'only' | 'except'; tools: string[] };

/** The web fetch tool's `url_sources`; absent parts count ("Omitted means every source"). */
export interface UrlSources {
  userInput?: boolean;
  clientToolResults?: ToolFilter;
  serverToolResults?: ToolFilter;
}

function counts(filter: ToolFilter | undefined, name: string | undefined): boolean {
  if (!filter || filter.type === 'all') return true;
  if (filter.type === 'none') return false;
  const listed = name !== undefined && filter.tools.includes(name);
  return filter.type === 'only' ? listed : !listed;
}

/** Block types whose contents are web search / web fetch results (echoed in assistant turns). */
const WEB_RESULTS = new Map([
  ['web_search_tool_result', 'web_search'],
  ['web_fetch_tool_result', 'web_fetch'],
]);

type Block = { type: string; id?: unknown; name?: unknown; tool_use_id?: unknown };

/** Where a word (and so a URL written in prose) ends: white space, quotes, angle brackets, a backslash. */
function endsWord(code: number): boolean {
  return (
    code <= 0x20 ||
    code === 0x3c ||
    code === 0x3e ||
    code === 0x22 ||
    code === 0x27 ||
    code === 0x60 ||
    code === 0x5c
  );
}

/** The word of `text` around `at` (no more than a URL's length on either side). */
function wordAround(text: string, at: number, length: number): string {
  const reach = MAX_URL_CHARS + MAX_TRAILING;
  let start = at;
  const first = Math.max(0, at - reach);
  while (start > first && !endsWord(text.charCodeAt(start - 1))) start--;
  let end = at + length;
  const last = Math.min(text.length, end + reach);
  while (end < last && !endsWord(text.charCodeAt(end))) end++;
  return text.slice(start, end);
}

/**
 * Per question, newest texts first, at most this many places where the asked host is written are looked
 * at, at most MAX_WORDS different words there read, and at most MAX_READ_CHARS characters of words taken
 * (the same word counts each time: a host written over and over with no space has the same 4-kB word
 * around each place): past them the URL is not provided. A conversation that writes one host more often
 * is made to exhaust the gateway, not to be read.
 */
const MAX_PLACES = 100_000;
const MAX_WORDS = 2_000;
const MAX_READ_CHARS = 4_000_000;

/** The key without its scheme (`//host/path`): a site written without one matches either. */
const withoutScheme = (key: string) => key.slice(key.indexOf('//'));

export class ContextUrls {
  /** URLs given one by one (search hits, fetched pages) and those found for earlier questions. */
  readonly #keys = new Set<string>();
  /**
   * Texts that may write URLs, kept as they are: a question reads only the words around the places the
   * asked host is written. Reading every URL up front cost seconds and hundreds of MB for a conversation
   * of megabytes of URLs (7–12 s for 30 MB), on the gateway's event loop.
   */
  readonly #texts: string[] = [];
  readonly #sources: UrlSources;

  constructor(sources: UrlSources = {}) {
    this.#sources = sources;
  }

  /**
   * The URLs a request's conversation provides (see the module comment for which parts count). Its
   * strings are taken now: the gateway replaces URL images and documents by their bytes afterwards.
   */
  static of(messages: readonly MessageParam[], sources: UrlSources = {}): ContextUrls {
    const urls = new ContextUrls(sources);
    // A result's tool, by the id of the call it answers (client tool_use and server_tool_use alike).
    const toolNames = new Map<unknown, string>();
    for (const message of messages) {
      if (message.role !== 'assistant' || !Array.isArray(message.content)) continue;
      for (const block of message.content as Block[]) {
        if ((block.type === 'tool_use' || block.type === 'server_tool_use') && typeof block.name === 'string')
          toolNames.set(block.id, block.name);
      }
    }
    for (const message of messages) {
      const blocks: Block[] =
        typeof message.content === 'string'
          ? [{ type: 'text', text: message.content } as Block]
          : (message.content as Block[]);
      for (const block of blocks) {
        const name = toolNames.get(block.tool_use_id);
        if (message.role === 'user') {
          if (
            block.type === 'tool_result'
              ? counts(sources.clientToolResults, name)
              : sources.userInput !== false
          )
            urls.addStrings(block);
          continue;
        }
        const resultOf = WEB_RESULTS.get(block.type);
        if (resultOf && counts(sources.serverToolResults, name ?? resultOf)) urls.addStrings(block);
      }
    }
    return urls;
  }

  /** Whether the results of this server tool (by its name in `tools`) provide URLs. */
  countsResultsOf(serverTool: string): boolean {
    return counts(this.#sources.serverToolResults, serverTool);
  }

  addUrl(url: string): void {
    const key = urlKey(url);
    if (key !== undefined) this.#keys.add(key);
  }

  /** Every URL written in the text, and every site written without its scheme. */
  addText(text: string): void {
    // A URL has a scheme or at least a dot (a bare site); most other strings (base64 data) have neither.
    if (text.includes('://') || text.includes('.')) this.#texts.push(text);
  }

  /** Every URL written in any string of a JSON value (a message's content, a result block). */
  addStrings(value: unknown): void {
    if (typeof value === 'string') {
      this.addText(value);
    } else if (Array.isArray(value)) {
      for (const item of value) this.addStrings(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) this.addStrings(item);
    }
  }

  allows(url: string): boolean {
    const key = urlKey(url);
    if (key === undefined) return false;
    if (this.#keys.has(key)) return true;
    const found = this.#written(new URL(url.trim()).hostname, key);
    if (found) this.#keys.add(key);
    return found;
  }

  /** Whether a text writes the URL (`key`) or its site without a scheme: read around each place the host is. */
  #written(hostname: string, key: string): boolean {
    const host = hostname.replace(/\.$/, '');
    if (host === '') return false;
    // The host as URLs carry it (punycode) and as people write it (Unicode), in any case.
    const names = [...new Set([host, domainToUnicode(host) || host])];
    const pattern = new RegExp(
      names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
      'gi',
    );
    const read = new Set<string>();
    let places = 0;
    let chars = 0;
    for (let t = this.#texts.length - 1; t >= 0; t--) {
      const text = this.#texts[t]!;
      for (const match of text.matchAll(pattern)) {
        if (++places > MAX_PLACES) return false;
        const word = wordAround(text, match.index, match[0].length);
        chars += word.length;
        if (chars > MAX_READ_CHARS) return false;
        if (read.has(word)) continue;
        if (read.size >= MAX_WORDS) return false;
        read.add(word);
        if (urlsInText(word).some((found) => urlKey(found) === key)) return true;
        const sites = sitesInText(word);
        if (sites.some((site) => withoutScheme(urlKey(`https://${site}`) ?? '') === withoutScheme(key))) {
          return true;
        }
      }
    }
    return false;
  }
}
