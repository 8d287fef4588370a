/**
 * A Converse citation (Claude citing a searchResult or a document) → Anthropic's citation object. Pure.
 * Bedrock passes Claude's own positions through, so the numbers map one to one: the search result or
 * document index counts those blocks in the request, as Anthropic's do.
 */
import type { Citation, CitationsDelta } from '@aws-sdk/client-bedrock-runtime';

type Location = 'search_result_location' | 'char_location' | 'page_location' | 'content_block_location';

export interface AnthropicCitation {
  type: Location;
  cited_text: string;
  [key: string]: unknown;
}

/** Anthropic's citation, or undefined for a location it has no form for (web citations carry no index). */
export function anthropicCitation(citation: Citation | CitationsDelta): AnthropicCitation | undefined {
  const { location } = citation;
  const cited_text = (citation.sourceContent ?? []).map((part) => part.text ?? '').join('');
  const title = citation.title ?? null;
  if (location?.searchResultLocation) {
    const { searchResultIndex, start, end } = location.searchResultLocation;
    return {
      type: 'search_result_location',
      cited_text,
      search_result_index: searchResultIndex ?? 0,
      start_block_index: start ?? 0,
      end_block_index: end ?? 0,
      source: citation.source ?? '',
      title,
    };
  }
  const document = location?.documentChar ?? location?.documentPage ?? location?.documentChunk;
  if (location === undefined || document === undefined) return undefined;
  const base = { cited_text, document_index: document.documentIndex ?? 0, document_title: title };
  const start = document.start ?? 0;
  const end = document.end ?? 0;
  if (location.documentChar)
    return { type: 'char_location', ...base, start_char_index: start, end_char_index: end };
  if (location.documentPage)
    return { type: 'page_location', ...base, start_page_number: start, end_page_number: end };
  return { type: 'content_block_location', ...base, start_block_index: start, end_block_index: end };
}
