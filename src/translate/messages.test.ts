import { describe, expect, it } from 'vitest';
import type { MessageParam } from '../anthropic/types.ts';
import { blockContext, CLAUDE, OPEN, TEXT_ONLY } from './caps.fixture.ts';
import { EMPTY_TOOL_RESULT } from './content.ts';
import { convertMessages, DOCUMENT_PLACEHOLDER, FIRST_TURN_PLACEHOLDER } from './messages.ts';

const SIG = 'claude-signature';
const cache = { type: 'ephemeral' as const };

function convert(messages: MessageParam[], caps = CLAUDE, toolNames: string[] = []) {
  const ctx = blockContext(caps, toolNames);
  return { ...convertMessages(messages, ctx), warnings: [...ctx.warnings] };
}

describe('convertMessages', () => {
  it('turns string content into a text block', () => {
    expect(convert([{ role: 'user', content: 'hi' }]).messages).toEqual([
      { role: 'user', content: [{ text: 'hi' }] },
    ]);
  });

  it('merges consecutive same-role turns and never sends blank text', () => {
    const { messages } = convert([
      { role: 'user', content: 'one' },
      {
        role: 'user',
        content: [
          { type: 'text', text: '   ' },
          { type: 'text', text: 'two' },
        ],
      },
      { role: 'assistant', content: 'ok' },
      { role: 'assistant', content: [{ type: 'text', text: '' }] },
    ]);
    expect(messages).toEqual([
      { role: 'user', content: [{ text: 'one' }, { text: 'two' }] },
      { role: 'assistant', content: [{ text: 'ok' }] },
    ]);
  });

  it('removes a turn left empty and merges its neighbours', () => {
    const { messages } = convert([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 'abp1.forged' }] },
      { role: 'user', content: 'b' },
    ]);
    expect(messages).toEqual([{ role: 'user', content: [{ text: 'a' }, { text: 'b' }] }]);
  });

  it('starts with a placeholder user turn when the history starts with the assistant', () => {
    const { messages } = convert([
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'hi' },
    ]);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[0]?.content).toEqual([{ text: FIRST_TURN_PLACEHOLDER }]);
  });

  it('moves leading role:system entries to the system prompt and later ones into the user turn', () => {
    const { messages, leadingSystem } = convert([
      { role: 'system', content: [{ type: 'text', text: 'be brief', cache_control: cache }] },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'system', content: '<system-reminder>todo list is empty</system-reminder>' },
      { role: 'user', content: 'q2' },
    ]);
    expect(leadingSystem).toEqual([{ text: 'be brief' }, { cachePoint: { type: 'default' } }]);
    expect(messages).toEqual([
      { role: 'user', content: [{ text: 'q1' }] },
      { role: 'assistant', content: [{ text: 'a1' }] },
      {
        role: 'user',
        content: [{ text: '<system-reminder>todo list is empty</system-reminder>' }, { text: 'q2' }],
      },
    ]);
  });

  it('translates a tool loop, results first in the user turn and thinking first in the assistant turn', () => {
    const { messages } = convert(
      [
        { role: 'user', content: 'list files' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'thinking', thinking: 'use ls', signature: SIG },
            { type: 'tool_use', id: 'toolu_1', name: 'mcp__fs__list.dir', input: { path: '.' } },
          ],
        },
        { role: 'system', content: '<system-reminder>x</system-reminder>' },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt', cache_control: cache }],
        },
      ],
      CLAUDE,
      ['mcp__fs__list.dir'],
    );
    const assistant = messages[1]?.content ?? [];
    expect(messages).toHaveLength(3);
    expect(assistant[0]).toEqual({ reasoningContent: { reasoningText: { text: 'use ls', signature: SIG } } });
    expect(assistant[1]).toEqual({ text: 'Let me look.' });
    expect(assistant[2]?.toolUse).toMatchObject({ toolUseId: 'toolu_1', input: { path: '.' } });
    expect(assistant[2]?.toolUse?.name).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(messages[2]).toEqual({
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'toolu_1', content: [{ text: 'a.txt' }] } },
        { cachePoint: { type: 'default' } },
        { text: '<system-reminder>x</system-reminder>' },
      ],
    });
  });

  it.each([
    ['missing', undefined],
    ['empty string', ''],
    ['empty list', []],
    ['blank text', [{ type: 'text' as const, text: ' ' }]],
  ])('fills a tool result with %s content, and marks errors', (_case, content) => {
    const { messages } = convert([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content, is_error: true }] },
    ]);
    expect(messages[2]?.content).toEqual([
      { toolResult: { toolUseId: 't1', content: [{ text: EMPTY_TOOL_RESULT }], status: 'error' } },
    ]);
  });

  it('keeps images in tool results, and tool_reference blocks as text', () => {
    const png = Buffer.from('png-bytes');
    const { messages } = convert([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'ToolSearch', input: {} }] },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [
              { type: 'tool_reference', tool_name: 'WebFetch' },
              {
                type: 'image',
                source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') },
              },
            ],
          },
        ],
      },
    ]);
    expect(messages[2]?.content?.[0]?.toolResult?.content).toEqual([
      { text: 'Tool available: WebFetch' },
      { image: { format: 'png', source: { bytes: png } } },
    ]);
  });

  it('for an open model, puts what the user added beside tool results (text, a pasted image) into the last result, keeping cache points', () => {
    const png = Buffer.from('png-bytes');
    const { messages } = convert(
      [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 't1', name: 'Read', input: {} },
            { type: 'tool_use', id: 't2', name: 'Read', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'one' },
            { type: 'tool_result', tool_use_id: 't2', content: 'two', cache_control: cache },
            { type: 'text', text: 'stop, look at this' },
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') },
            },
          ],
        },
      ],
      // Llama 4 takes images inside tool results (Pixtral and Qwen VL do not: see below).
      { ...OPEN, family: 'llama', images: true, caching: true },
      ['Read'],
    );
    expect(messages[2]?.content).toEqual([
      { toolResult: { toolUseId: 't1', content: [{ text: 'one' }] } },
      {
        toolResult: {
          toolUseId: 't2',
          content: [
            { text: 'two' },
            { text: 'stop, look at this' },
            { image: { format: 'png', source: { bytes: png } } },
          ],
        },
      },
      { cachePoint: { type: 'default' } },
    ]);
  });

  it('gives a model that sees images but not inside tool results (Pixtral, Qwen VL) a note there instead', () => {
    const picture = {
      type: 'image' as const,
      source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0K' },
    };
    const { messages, warnings } = convert(
      [
        { role: 'user', content: 'Look at shot.png' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [picture] },
            { type: 'text', text: 'and this one' },
            picture,
          ],
        },
      ],
      { ...OPEN, family: 'mistral', images: true },
      ['Read'],
    );
    const note = { text: '[image omitted: model model-mistral does not accept images in tool results]' };
    expect(messages[2]?.content).toEqual([
      { toolResult: { toolUseId: expect.any(String), content: [note, { text: 'and this one' }, note] } },
    ]);
    expect(warnings).toEqual([expect.stringContaining('images in tool results replaced by a note')]);
    // In a turn of its own the image still goes as an image: the model sees it there.
    const plain = convert([{ role: 'user', content: [picture, { type: 'text', text: 'What is this?' }] }], {
      ...OPEN,
      family: 'mistral',
      images: true,
    });
    expect(plain.messages[0]?.content?.[0]).toHaveProperty('image');
  });

  it('turns a picture sent to a model without vision into a note, newest turn included (a 400 failed every later turn)', () => {
    const picture = {
      type: 'image' as const,
      source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0K' },
    };
    const pasted: MessageParam = {
      role: 'user',
      content: [picture, { type: 'text', text: 'What is this?' }],
    };
    // Claude Code kept a refused message and merged the user's next one into it (or the picture was shown to
    // a model with vision before /model switched): the conversation goes on, the model is told what it missed.
    for (const history of [
      [pasted],
      [
        {
          ...pasted,
          content: [...(pasted.content as []), { type: 'text', text: 'Forget the picture. Say hi.' }],
        },
      ],
      [pasted, { role: 'user', content: 'Forget the picture. Say hi.' }],
      [pasted, { role: 'assistant', content: 'A cat.' }, { role: 'user', content: 'And now?' }],
    ] as MessageParam[][]) {
      const { messages, warnings } = convert(history, OPEN);
      expect(JSON.stringify(messages)).toContain('[image omitted: model');
      expect(JSON.stringify(messages)).not.toContain('"image"');
      expect(warnings).toEqual([expect.stringContaining('replaced by a note')]);
    }
  });

  it('writes tool calls and results as text for a model without tool use', () => {
    const { messages } = convert(
      [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { cmd: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'a.txt' }] },
      ],
      TEXT_ONLY,
    );
    const blocks = messages.flatMap((m) => m.content ?? []);
    expect(blocks.some((b) => b.toolUse || b.toolResult)).toBe(false);
    expect(messages[1]?.content?.[0]?.text).toContain('Bash {"cmd":"ls"}');
    expect(messages[2]?.content?.[0]?.text).toContain('a.txt');
  });

  it('adds a short text to a user turn that carries only a document, before its cache point', () => {
    const { messages } = convert([
      {
        role: 'user',
        content: [
          {
            type: 'document',
            source: {
              type: 'base64',
              media_type: 'application/pdf',
              data: Buffer.from('%PDF').toString('base64'),
            },
            cache_control: cache,
          },
        ],
      },
    ]);
    const content = messages[0]?.content ?? [];
    expect(content.map((b) => Object.keys(b)[0])).toEqual(['document', 'text', 'cachePoint']);
    expect(content[1]).toEqual({ text: DOCUMENT_PLACEHOLDER });
  });

  it('keeps search results as text where the model has no searchResult, and drops server tool blocks with a warning', () => {
    const { messages, warnings } = convert([
      {
        role: 'user',
        content: [
          {
            type: 'search_result',
            source: 'https://docs.example',
            title: 'Docs',
            content: [{ type: 'text', text: 'the answer' }],
          } as never,
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'server_tool_use', id: 'srv_1', name: 'web_search', input: {} } as never,
          { type: 'text', text: 'found it' },
        ],
      },
    ]);
    expect(messages[0]?.content).toEqual([{ text: 'Docs\nhttps://docs.example\nthe answer' }]);
    expect(messages[1]?.content).toEqual([{ text: 'found it' }]);
    expect(warnings.join()).toContain('server_tool_use');
  });

  it('a search_result whose content holds a null or a non-object keeps its text parts (it was a 500)', () => {
    const result = {
      type: 'search_result',
      source: 'https://docs.example',
      title: 'Docs',
      content: [null, 5, { type: 'text', text: 'the answer' }],
    } as never;
    const plain = convert([{ role: 'user', content: [result] }]);
    expect(plain.messages[0]?.content).toEqual([{ text: 'Docs\nhttps://docs.example\nthe answer' }]);
    const native = convert([{ role: 'user', content: [result] }], { ...CLAUDE, searchResults: true });
    expect(native.messages[0]?.content).toEqual([
      { searchResult: { source: 'https://docs.example', title: 'Docs', content: [{ text: 'the answer' }] } },
    ]);
  });

  it("sends search results as Converse's searchResult (with citations) where the model has it, in tool results too", () => {
    const result = {
      type: 'search_result',
      source: 'https://docs.example',
      title: 'Docs',
      content: [
        { type: 'text', text: 'first passage' },
        { type: 'text', text: 'second passage' },
      ],
      citations: { enabled: true },
      cache_control: cache,
    } as never;
    const { messages, warnings } = convert(
      [
        { role: 'user', content: 'search' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [result] },
            result,
            { type: 'text', text: 'answer with sources' },
          ],
        },
      ],
      { ...CLAUDE, searchResults: true },
      ['search'],
    );
    const searchResult = {
      source: 'https://docs.example',
      title: 'Docs',
      content: [{ text: 'first passage' }, { text: 'second passage' }],
      citations: { enabled: true },
    };
    expect(messages[2]?.content).toEqual([
      { toolResult: { toolUseId: 'toolu_1', content: [{ searchResult }] } },
      { searchResult },
      { cachePoint: { type: 'default' } },
      { text: 'answer with sources' },
    ]);
    expect(warnings).toEqual([]);
  });

  it('says so when the citations asked of a search result or a document sent as text are lost', () => {
    const cited = { enabled: true };
    const { messages, warnings } = convert(
      [
        {
          role: 'user',
          content: [
            {
              type: 'search_result',
              source: 'https://docs.example',
              title: 'Docs',
              content: [{ type: 'text', text: 'the answer' }],
              citations: cited,
            } as never,
            {
              type: 'document',
              source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
              citations: cited,
            },
            {
              type: 'document',
              source: { type: 'content', content: 'Grass is green.' },
              citations: cited,
            },
            { type: 'text', text: 'what colour?' },
          ],
        },
      ],
      OPEN,
    );
    expect(messages[0]?.content).toHaveLength(4);
    for (const where of ['messages.0.content.0', 'messages.0.content.1', 'messages.0.content.2'])
      expect(warnings.join('; ')).toMatch(
        new RegExp(`citations dropped \\(${where.replaceAll('.', '\\.')}\\)`),
      );
    // Nothing to warn about when no citations were asked for.
    const plain = convert(
      [{ role: 'user', content: [{ type: 'document', source: { type: 'content', content: 'x' } }] }],
      OPEN,
    );
    expect(plain.warnings).toEqual([]);
  });

  it('sends a compaction block as the text of its summary (Converse has no compaction)', () => {
    const { messages, warnings } = convert([
      { role: 'user', content: 'build a parser' },
      {
        role: 'assistant',
        content: [
          { type: 'compaction', content: 'Summary: the parser is half done.', signature: 's' } as never,
        ],
      },
      { role: 'user', content: 'continue' },
    ]);
    expect(messages.map((m) => m.content)).toEqual([
      [{ text: 'build a parser' }],
      [{ text: 'Summary: the parser is half done.' }],
      [{ text: 'continue' }],
    ]);
    expect(warnings).toEqual([]);
  });

  it('drops cache_control where the model does not cache', () => {
    const { messages } = convert(
      [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: cache }] }],
      OPEN,
    );
    expect(messages[0]?.content).toEqual([{ text: 'hi' }]);
  });

  it('produces a valid single user turn from an empty history', () => {
    expect(convert([{ role: 'user', content: '  ' }]).messages).toEqual([
      { role: 'user', content: [{ text: FIRST_TURN_PLACEHOLDER }] },
    ]);
  });
});
