/**
 * Pure pieces of the web tools loop: what the client sees (Anthropic's `web_search_tool_result` /
 * `web_fetch_tool_result` blocks, `web_search_result_location` citations) and what the model reads (a
 * numbered, plain-text tool result it cites with `[N]` markers). No I/O.
 */
import type { ServerToolResultBlock, ToolResultBlockParam } from '../anthropic/types.ts';
import { seal } from './seal.ts';
import type { FetchedDocument, WebSearchHit, WebToolErrorCode } from './web/types.ts';

/** A search hit or fetched page the model may cite as `[number]`. */
export interface CitableSource {
  number: number;
  url: string;
  title: string;
  /** The text the model read (a citation's cited_text comes from it). */
  content: string;
  /** How old the page is, when the provider said. */
  age?: string;
  /** A fetched page (not a search hit): its place among the fetched documents, and whether to cite it. */
  document?: { index: number; citations: boolean };
}

/** What a sealed `encrypted_content` holds. */
export interface SealedHit {
  u: string;
  t: string;
  a?: string;
  c: string;
}

const DIRECT = { type: 'direct' } as const;

/** A server tool's result block, as Anthropic gives it for a call the model made directly. */
function toolResultBlock(
  type: ServerToolResultBlock['type'],
  toolUseId: string,
  content: unknown,
): ServerToolResultBlock {
  return { type, tool_use_id: toolUseId, caller: DIRECT, content };
}

/** The result block of a search or fetch that failed: `<type>_error` with its code. */
function toolErrorBlock(
  type: ServerToolResultBlock['type'],
  toolUseId: string,
  code: WebToolErrorCode,
): ServerToolResultBlock {
  return toolResultBlock(type, toolUseId, { type: `${type}_error`, error_code: code });
}

/** Anthropic's `web_search_tool_result` for these hits (their text sealed into encrypted_content). */
export function searchResultBlock(
  secret: string,
  toolUseId: string,
  hits: readonly WebSearchHit[],
): ServerToolResultBlock {
  return toolResultBlock(
    'web_search_tool_result',
    toolUseId,
    hits.map((hit) => ({
      type: 'web_search_result',
      url: hit.url,
      title: hit.title,
      page_age: hit.pageAge ?? null,
      encrypted_content: seal(secret, {
        u: hit.url,
        t: hit.title,
        a: hit.pageAge,
        c: hit.content,
      } satisfies SealedHit),
    })),
  );
}

export function searchErrorBlock(toolUseId: string, code: WebToolErrorCode): ServerToolResultBlock {
  return toolErrorBlock('web_search_tool_result', toolUseId, code);
}

export function fetchResultBlock(
  toolUseId: string,
  doc: FetchedDocument,
  citations: boolean,
): ServerToolResultBlock {
  return toolResultBlock('web_fetch_tool_result', toolUseId, {
    type: 'web_fetch_result',
    url: doc.url,
    retrieved_at: doc.retrievedAt,
    content: {
      type: 'document',
      source: doc.source,
      title: doc.title ?? null,
      citations: citations ? { enabled: true } : null,
    },
  });
}

export function fetchErrorBlock(toolUseId: string, code: WebToolErrorCode): ServerToolResultBlock {
  return toolErrorBlock('web_fetch_tool_result', toolUseId, code);
}

/** The model's tool result for a search: numbered hits, to be cited as [N]. */
export function searchResultForModel(
  toolUseId: string,
  hits: readonly CitableSource[],
): ToolResultBlockParam {
  if (hits.length === 0) return { type: 'tool_result', tool_use_id: toolUseId, content: 'No results found.' };
  const text = hits
    .map((hit) => {
      const age = hit.age ? `\nAge: ${hit.age}` : '';
      return `[${hit.number}] ${hit.title}\nURL: ${hit.url}${age}\n${hit.content}`;
    })
    .join('\n\n');
  return {
    type: 'tool_result',
    tool_use_id: toolUseId,
    content: `${text}\n\nCite the results you use with their number in square brackets, e.g. [${hits[0]!.number}].`,
  };
}

/** The model's tool result for a fetched page (a PDF goes as a document block). */
export function fetchResultForModel(
  toolUseId: string,
  source: CitableSource,
  doc: Pick<FetchedDocument, 'source' | 'title'>,
): ToolResultBlockParam {
  const header = `[${source.number}] ${source.title}\nURL: ${source.url}`;
  if (doc.source.type === 'base64') {
    return {
      type: 'tool_result',
      tool_use_id: toolUseId,
      content: [
        { type: 'text', text: `${header}\n(PDF document follows; cite it as [${source.number}])` },
        { type: 'document', source: doc.source, ...(doc.title ? { title: doc.title } : {}) },
      ],
    };
  }
  return {
    type: 'tool_result',
    tool_use_id: toolUseId,
    content: `${header}\n\n${doc.source.data}\n\nCite this page as [${source.number}] where you use it.`,
  };
}

export function errorForModel(toolUseId: string, tool: string, code: WebToolErrorCode): ToolResultBlockParam {
  const why =
    code === 'max_uses_exceeded'
      ? `the ${tool} tool may not be used again in this response; answer with what you have`
      : code === 'url_not_in_prior_context'
        ? `${tool} failed (${code}): only URLs given in the conversation or found by an earlier search or fetch can be fetched`
        : `${tool} failed (${code})`;
  return { type: 'tool_result', tool_use_id: toolUseId, content: `Error: ${why}.`, is_error: true };
}

const MARKER = /\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]/g;
const CITED_TEXT_MAX = 150;

/** The `[N]` markers in a text that name known sources, in order of first use, with the text before each. */
export function citedNumbers(
  text: string,
  known: ReadonlyMap<number, CitableSource>,
): Array<{ number: number; claim: string }> {
  const found: Array<{ number: number; claim: string }> = [];
  for (const match of text.matchAll(MARKER)) {
    for (const part of match[1]!.split(',')) {
      const n = Number(part.trim());
      if (!known.has(n) || found.some((f) => f.number === n)) continue;
      found.push({ number: n, claim: text.slice(Math.max(0, match.index - 300), match.index) });
    }
  }
  return found;
}

const WORD = /[\p{L}\p{N}]{4,}/gu;

/**
 * Where in a document the claim before a marker most likely comes from: the sentence sharing the most
 * words with it (the first sentence when none does), cut to the cited-text limit.
 */
export function locateClaim(document: string, claim: string): { start: number; end: number } {
  const words = new Set((claim.toLowerCase().match(WORD) ?? []).slice(-30));
  let best = { start: 0, end: Math.min(document.length, CITED_TEXT_MAX), score: 0 };
  for (const sentence of document.matchAll(/[^.!?\n]+[.!?]?/g)) {
    const text = sentence[0];
    const score = (text.toLowerCase().match(WORD) ?? []).filter((w) => words.has(w)).length;
    if (score > best.score) {
      const lead = text.length - text.trimStart().length;
      const start = sentence.index + lead;
      best = { start, end: Math.min(start + text.trim().length, start + CITED_TEXT_MAX), score };
    }
  }
  return { start: best.start, end: best.end };
}

/**
 * Citations for the `[N]` markers of a text block: `web_search_result_location` for search hits,
 * `char_location` (the likeliest sentence) for fetched documents whose tool asked for citations.
 */
export function citationsFor(
  secret: string,
  text: string,
  known: ReadonlyMap<number, CitableSource>,
): Array<Record<string, unknown>> {
  return citedNumbers(text, known).flatMap(({ number: n, claim }): Array<Record<string, unknown>> => {
    const source = known.get(n)!;
    if (source.document) {
      if (!source.document.citations || source.content === '') return [];
      const { start, end } = locateClaim(source.content, claim);
      return [
        {
          type: 'char_location',
          cited_text: source.content.slice(start, end),
          document_index: source.document.index,
          document_title: source.title,
          start_char_index: start,
          end_char_index: end,
          file_id: null,
        },
      ];
    }
    return [
      {
        type: 'web_search_result_location',
        url: source.url,
        title: source.title,
        encrypted_index: seal(secret, { u: source.url, n }),
        cited_text: source.content.slice(0, CITED_TEXT_MAX),
      },
    ];
  });
}
