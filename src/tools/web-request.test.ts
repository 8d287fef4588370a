import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import type { MessageParam, MessagesRequest } from '../anthropic/types.ts';
import { seal, unseal } from './seal.ts';
import { citationsFor, locateClaim, searchResultBlock } from './web-blocks.ts';
import {
  CITE_INSTRUCTION,
  convertWebHistory,
  hasWebHistory,
  modelRequest,
  webToolsOf,
} from './web-request.ts';

const SECRET = 'test-secret';
const HIT = {
  url: 'https://a.example.com/x',
  title: 'A',
  pageAge: '1 day ago',
  content: 'Alpha facts here.',
};

describe('seal', () => {
  it('round-trips, and refuses altered, foreign or unsealed values', () => {
    const sealed = seal(SECRET, { c: 'text' });
    expect(unseal(SECRET, sealed)).toEqual({ c: 'text' });
    expect(unseal('other-secret', sealed)).toBeUndefined();
    const flipped = `${sealed.slice(0, -3)}${sealed.at(-3) === 'A' ? 'B' : 'A'}${sealed.slice(-2)}`;
    expect(unseal(SECRET, flipped)).toBeUndefined();
    expect(unseal(SECRET, Buffer.from('plain text').toString('base64'))).toBeUndefined();
    expect(unseal(SECRET, 42)).toBeUndefined();
    expect(sealed).not.toContain('text');
  });
});

describe('webToolsOf', () => {
  const request = (tools: unknown[]) => ({ tools }) as unknown as Pick<MessagesRequest, 'tools'>;

  it('finds web_search_* and web_fetch_* of any version, with their options', () => {
    const spec = webToolsOf(
      request([
        { name: 'other', input_schema: { type: 'object' } },
        {
          type: 'web_search_20260318',
          name: 'web_search',
          max_uses: 3,
          allowed_domains: ['example.com'],
          user_location: { type: 'approximate', city: 'Paris', country: 'FR' },
        },
        {
          type: 'web_fetch_20250910',
          name: 'web_fetch',
          citations: { enabled: true },
          max_content_tokens: 500,
        },
      ]),
    );
    expect(spec).toEqual({
      search: {
        name: 'web_search',
        maxUses: 3,
        allowedDomains: ['example.com'],
        userLocation: { city: 'Paris', country: 'FR' },
      },
      fetch: { name: 'web_fetch', maxUses: undefined, citations: true, maxContentTokens: 500 },
    });
    expect(webToolsOf(request([{ name: 'x', input_schema: {} }]))).toBeUndefined();
  });

  it('takes a user_location with null fields, and null for none', () => {
    const search = (user_location: unknown) =>
      webToolsOf(request([{ type: 'web_search_20250305', name: 'web_search', user_location }]))?.search;
    expect(
      search({ type: 'approximate', city: null, region: 'Bavaria', country: 'DE', timezone: 'Europe/Berlin' })
        ?.userLocation,
    ).toEqual({ region: 'Bavaria', country: 'DE', timezone: 'Europe/Berlin' });
    expect(search(null)?.userLocation).toBeUndefined();
  });

  it.each([
    [{ max_uses: 0 }, 'tools.0.max_uses: Input should be greater than or equal to 1'],
    [{ max_uses: 1e30 }, 'tools.0.max_uses: Input should be a valid integer'],
    [{ max_uses: 2.5 }, 'tools.0.max_uses: Input should be a valid integer'],
    [{ max_uses: '3' }, 'tools.0.max_uses: Input should be a valid integer'],
    [{ allowed_domains: 'example.com' }, 'allowed_domains'],
    [{ allowed_domains: ['a.com'], blocked_domains: ['b.com'] }, 'cannot be used together'],
    [{ user_location: 'Paris' }, 'tools.0.user_location: Input should be a valid dictionary'],
    [{ user_location: { city: 'Paris' } }, 'tools.0.user_location.type: Field required'],
    [{ user_location: { type: 'exact' } }, "tools.0.user_location.type: Input should be 'approximate'"],
    [
      { user_location: { type: 'approximate', country: 'France' } },
      'tools.0.user_location.country: String should have at most 2 characters',
    ],
    [
      { user_location: { type: 'approximate', country: 'F' } },
      'tools.0.user_location.country: String should have at least 2 characters',
    ],
    [
      { user_location: { type: 'approximate', city: '' } },
      'tools.0.user_location.city: String should have at least 1 character',
    ],
    [
      { user_location: { type: 'approximate', timezone: 'x'.repeat(256) } },
      'tools.0.user_location.timezone: String should have at most 255 characters',
    ],
    [
      { user_location: { type: 'approximate', region: 7 } },
      'tools.0.user_location.region: Input should be a valid string',
    ],
    [
      { user_location: { type: 'approximate', zip: '75001' } },
      'tools.0.user_location.zip: Extra inputs are not permitted',
    ],
  ])('refuses bad options %j with a 400 naming the field', (options, words) => {
    expect(() =>
      webToolsOf(request([{ type: 'web_search_20250305', name: 'web_search', ...options }])),
    ).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining(words) }));
  });

  it.each([
    [{ type: 'web_fetch_20990101' }, "tools.0.type: Input tag 'web_fetch_20990101' found using 'type'"],
    [{ type: 'web_search_2025' }, "expected tags: 'web_search_20250305', 'web_search_20260209'"],
    [{ name: 'my_fetch' }, "tools.0.name: Input should be 'web_fetch'"],
    [{ name: undefined }, "tools.0.name: Input should be 'web_fetch'"],
    [{ citations: 'yes' }, 'tools.0.citations: Input should be a valid dictionary'],
    [{ citations: { enabled: 'yes' } }, 'tools.0.citations.enabled: Input should be a valid boolean'],
    [{ max_content_tokens: 1e30 }, 'tools.0.max_content_tokens: Input should be a valid integer'],
    [{ url_sources: 'none' }, 'tools.0.url_sources: Input should be a valid dictionary'],
    [
      { url_sources: { user_input: { type: 'only', tools: [] } } },
      "tools.0.url_sources.user_input: Input tag 'only'",
    ],
    [
      { url_sources: { client_tool_results: { type: 'only' } } },
      'client_tool_results.tools: Input should be a valid list',
    ],
    [
      { url_sources: { server_tool_results: { type: 'except', tools: ['web_search'] } } },
      'server_tool_results.tools.0',
    ],
  ])('refuses a web fetch tool with %j as Anthropic does (400 naming the field)', (over, words) => {
    expect(() => webToolsOf(request([{ type: 'web_fetch_20250910', name: 'web_fetch', ...over }]))).toThrow(
      expect.objectContaining({
        status: 400,
        type: 'invalid_request_error',
        message: expect.stringContaining(words),
      }),
    );
  });

  it('reads url_sources', () => {
    const spec = webToolsOf(
      request([
        {
          type: 'web_fetch_20250910',
          name: 'web_fetch',
          url_sources: {
            user_input: { type: 'none' },
            client_tool_results: { type: 'only', tools: [{ type: 'tool_reference', name: 'lookup' }] },
          },
        },
      ]),
    );
    expect(spec?.fetch?.urlSources).toEqual({
      userInput: false,
      clientToolResults: { type: 'only', tools: ['lookup'] },
    });
  });

  it('takes every version Anthropic defines', () => {
    for (const type of ['web_search_20250305', 'web_search_20260209', 'web_search_20260318'])
      expect(webToolsOf(request([{ type, name: 'web_search' }]))?.search?.name).toBe('web_search');
    for (const type of [
      'web_fetch_20250910',
      'web_fetch_20260209',
      'web_fetch_20260309',
      'web_fetch_20260318',
    ])
      expect(webToolsOf(request([{ type, name: 'web_fetch', citations: null }]))?.fetch?.citations).toBe(
        false,
      );
  });
});

describe('modelRequest', () => {
  it('gives the model ordinary tools of the same names and the citation instruction', () => {
    const out = modelRequest(
      {
        model: 'm',
        max_tokens: 10,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [
          { type: 'web_search_20250305', name: 'web_search', input_schema: {} },
          { name: 'mine', input_schema: { type: 'object' } },
        ],
      },
      { search: { name: 'web_search' } },
      { forceByInstruction: 'web_search' },
    );
    expect(out.tools?.map((t) => [t.name, t.type])).toEqual([
      ['mine', undefined],
      ['web_search', undefined],
    ]);
    expect(out.tools?.[1]?.input_schema).toMatchObject({ required: ['query'] });
    expect(out.system).toContain('Be brief.');
    expect(out.system).toContain(CITE_INSTRUCTION);
    expect(out.system).toContain('must be a call to the web_search tool');
  });
});

describe('convertWebHistory', () => {
  const result = searchResultBlock(SECRET, 'srvtoolu_1', [HIT]);
  const assistant: MessageParam = {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Let me search.' },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'alpha' } },
      result,
      { type: 'text', text: 'Alpha is real [1].', citations: [{ type: 'web_search_result_location' }] },
    ] as never,
  };

  it('splits the turn into a tool call, its result and the rest; numbers the sources', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'alpha?' },
      assistant,
      { role: 'user', content: 'more?' },
    ];
    expect(hasWebHistory(messages)).toBe(true);
    const { messages: out, sources } = convertWebHistory(messages, SECRET);
    expect(out.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(out[1]!.content).toEqual([
      { type: 'text', text: 'Let me search.' },
      { type: 'tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'alpha' } },
    ]);
    const toolResult = (out[2]!.content as Array<{ type: string; tool_use_id: string; content: string }>)[0]!;
    expect(toolResult).toMatchObject({ type: 'tool_result', tool_use_id: 'srvtoolu_1' });
    expect(toolResult.content).toContain('[1] A');
    expect(toolResult.content).toContain('Alpha facts here.');
    // Citations on echoed text are the gateway's own; Bedrock would not take them.
    expect(out[3]!.content).toEqual([{ type: 'text', text: 'Alpha is real [1].' }]);
    expect(sources.get(1)).toMatchObject({ url: HIT.url, content: HIT.content });
  });

  it('puts the results before the next user turn when the turn ends with them', () => {
    const ending: MessageParam = { role: 'assistant', content: (assistant.content as never[]).slice(0, 3) };
    const { messages: out } = convertWebHistory(
      [{ role: 'user', content: 'q' }, ending, { role: 'user', content: 'next' }],
      SECRET,
    );
    expect(out.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect((out[2]!.content as Array<{ type: string }>).map((b) => b.type)).toEqual(['tool_result', 'text']);
  });

  it('refuses encrypted_content it did not seal, or sealed for another URL', () => {
    const forged = structuredClone(result) as { content: Array<{ encrypted_content: string; url: string }> };
    forged.content[0]!.encrypted_content = 'abpw1.AAAA';
    const bad: MessageParam = {
      role: 'assistant',
      content: [(assistant.content as never[])[1]!, forged as never],
    };
    expect(() => convertWebHistory([{ role: 'user', content: 'q' }, bad], SECRET)).toThrow(ApiError);
    const moved = structuredClone(result) as { content: Array<{ url: string }> };
    moved.content[0]!.url = 'https://evil.example.org/';
    const swapped: MessageParam = {
      role: 'assistant',
      content: [(assistant.content as never[])[1]!, moved as never],
    };
    expect(() => convertWebHistory([{ role: 'user', content: 'q' }, swapped], SECRET)).toThrow(
      /encrypted_content/,
    );
    expect(() => convertWebHistory([{ role: 'user', content: 'q' }, assistant], 'another-gateway')).toThrow(
      /not a search result issued by this gateway/,
    );
  });
});

describe('citationsFor', () => {
  it('turns [N] markers of known sources into web_search_result_location citations, once each', () => {
    const known = new Map([
      [1, { number: 1, url: 'https://a/', title: 'A', content: 'a'.repeat(400) }],
      [2, { number: 2, url: 'https://b/', title: 'B', content: 'bee' }],
    ]);
    const citations = citationsFor(SECRET, 'One [2]. Two [1, 2]. Unknown [7]. Year [2026].', known);
    expect(citations.map((c) => c.url)).toEqual(['https://b/', 'https://a/']);
    expect(citations[0]).toMatchObject({ type: 'web_search_result_location', title: 'B', cited_text: 'bee' });
    expect((citations[1]!.cited_text as string).length).toBe(150);
    expect(unseal(SECRET, citations[0]!.encrypted_index)).toEqual({ u: 'https://b/', n: 2 });
  });
});

describe('fetched documents', () => {
  const doc = 'Intro line. Flamingos are pink because of their diet. Unrelated ending.';

  it('locates the sentence a claim most likely comes from', () => {
    const { start, end } = locateClaim(doc, 'The birds are pink thanks to their diet');
    expect(doc.slice(start, end)).toBe('Flamingos are pink because of their diet.');
    expect(locateClaim(doc, 'nothing shared')).toEqual({ start: 0, end: doc.length });
  });

  it('cites a fetched page with char_location only when its tool asked for citations', () => {
    const page = (citations: boolean) =>
      new Map([
        [1, { number: 1, url: 'https://p/', title: 'P', content: doc, document: { index: 0, citations } }],
      ]);
    expect(citationsFor(SECRET, 'They are pink from their diet [1].', page(true))).toEqual([
      {
        type: 'char_location',
        cited_text: 'Flamingos are pink because of their diet.',
        document_index: 0,
        document_title: 'P',
        start_char_index: 12,
        end_char_index: 53,
        file_id: null,
      },
    ]);
    expect(citationsFor(SECRET, 'They are pink [1].', page(false))).toEqual([]);
  });
});
