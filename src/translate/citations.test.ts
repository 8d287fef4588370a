import type { Citation } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { anthropicCitation } from './citations.ts';

const cited = { sourceContent: [{ text: 'The sky ' }, { text: 'is blue.' }] };

describe('anthropicCitation', () => {
  it.each<[string, Citation, Record<string, unknown> | undefined]>([
    [
      'a search result',
      {
        ...cited,
        title: 'Docs',
        source: 'https://docs.example',
        location: { searchResultLocation: { searchResultIndex: 1, start: 0, end: 2 } },
      },
      {
        type: 'search_result_location',
        cited_text: 'The sky is blue.',
        search_result_index: 1,
        start_block_index: 0,
        end_block_index: 2,
        source: 'https://docs.example',
        title: 'Docs',
      },
    ],
    [
      'characters of a text document',
      { ...cited, title: 'notes.txt', location: { documentChar: { documentIndex: 0, start: 4, end: 20 } } },
      {
        type: 'char_location',
        cited_text: 'The sky is blue.',
        document_index: 0,
        document_title: 'notes.txt',
        start_char_index: 4,
        end_char_index: 20,
      },
    ],
    [
      'pages of a PDF, untitled',
      { ...cited, location: { documentPage: { documentIndex: 2, start: 3, end: 4 } } },
      {
        type: 'page_location',
        cited_text: 'The sky is blue.',
        document_index: 2,
        document_title: null,
        start_page_number: 3,
        end_page_number: 4,
      },
    ],
    [
      'blocks of a custom-content document',
      { ...cited, title: 'kb', location: { documentChunk: { documentIndex: 1, start: 0, end: 1 } } },
      {
        type: 'content_block_location',
        cited_text: 'The sky is blue.',
        document_index: 1,
        document_title: 'kb',
        start_block_index: 0,
        end_block_index: 1,
      },
    ],
    [
      'a web page (Anthropic needs an index Bedrock has not)',
      { ...cited, location: { web: { url: 'u' } } },
      undefined,
    ],
    ['no location at all', { title: 'doc' }, undefined],
  ])('%s', (_name, citation, expected) => {
    expect(anthropicCitation(citation)).toEqual(expected);
  });
});
