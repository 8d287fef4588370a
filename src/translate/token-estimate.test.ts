import { describe, expect, it } from 'vitest';
import type { CountTokensRequest, MessagesRequest } from '../anthropic/types.ts';
import { estimateInputTokens, textTokens } from './token-estimate.ts';

function png(width: number, height: number): string {
  const b = Buffer.alloc(33);
  b.writeUInt32BE(0x89504e47, 0);
  b.writeUInt32BE(0x0d0a1a0a, 4);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b.toString('base64');
}

function jpeg(width: number, height: number): string {
  // SOI, an APP0 segment, then SOF0 with the frame size.
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]);
  const sof = Buffer.alloc(11);
  sof.set([0xff, 0xc0, 0x00, 0x11, 0x08]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]).toString('base64');
}

const user = (content: MessagesRequest['messages'][number]['content']): CountTokensRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
});

describe('estimateInputTokens', () => {
  it('counts about four ASCII characters per token', () => {
    const short = estimateInputTokens(user('x'.repeat(400)));
    expect(short).toBeGreaterThanOrEqual(100);
    expect(short).toBeLessThan(110);
    expect(estimateInputTokens(user('x'.repeat(4_000)))).toBeGreaterThan(short * 9);
  });

  it('counts non-ASCII text per character', () => {
    expect(textTokens('日本語のテキスト')).toBe(8);
    expect(textTokens('😀')).toBe(1);
  });

  it('counts system prompts, tool definitions and tool traffic', () => {
    const bare = estimateInputTokens(user('hi'));
    const withSystem = estimateInputTokens({
      ...user('hi'),
      system: [{ type: 'text', text: 'y'.repeat(800) }],
    });
    expect(withSystem - bare).toBeGreaterThanOrEqual(200);
    const withTools = estimateInputTokens({
      ...user('hi'),
      tools: [
        {
          name: 'read_file',
          description: 'Read a file',
          input_schema: { type: 'object', properties: { path: { type: 'string' } } },
        },
      ],
    });
    expect(withTools - bare).toBeGreaterThan(300);
    const toolTurn = estimateInputTokens({
      model: 'm',
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 't1', name: 'read_file', input: { path: 'a'.repeat(400) } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'b'.repeat(400) }] },
      ],
    });
    expect(toolTurn).toBeGreaterThan(200);
  });

  it('prices images by their size, at most 1,600 tokens', () => {
    const image = (data: string, media_type = 'image/png') =>
      estimateInputTokens(user([{ type: 'image', source: { type: 'base64', media_type, data } }]));
    const small = image(png(200, 200));
    expect(small).toBeGreaterThanOrEqual(54);
    expect(small).toBeLessThan(70);
    expect(image(png(4000, 3000))).toBeGreaterThanOrEqual(1_600);
    expect(image(jpeg(300, 250), 'image/jpeg')).toBeLessThan(120);
    expect(image('AAAA')).toBeGreaterThanOrEqual(1_600);
    expect(
      estimateInputTokens(user([{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }])),
    ).toBeGreaterThanOrEqual(1_600);
  });

  it('prices PDFs per page', () => {
    const pdf = (pages: number) =>
      Buffer.from(
        `%PDF-1.7\n1 0 obj << /Type /Pages /Count ${pages} >>\n${'2 0 obj << /Type /Page >>\n'.repeat(pages)}`,
      ).toString('base64');
    const doc = (pages: number) =>
      estimateInputTokens(
        user([
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf(pages) } },
        ]),
      );
    expect(doc(1)).toBeGreaterThanOrEqual(2_000);
    expect(doc(3)).toBeGreaterThanOrEqual(6_000);
    expect(doc(3)).toBeLessThan(6_100);
  });

  it('reads text documents as text', () => {
    const n = estimateInputTokens(
      user([
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'z'.repeat(2_000) } },
      ]),
    );
    expect(n).toBeGreaterThanOrEqual(500);
    expect(n).toBeLessThan(520);
  });

  it('stays fast on a large request', () => {
    const big = 'lorem ipsum '.repeat(200_000); // ~2.4 MB
    const started = performance.now();
    const n = estimateInputTokens(user([{ type: 'text', text: big }]));
    expect(n).toBeGreaterThan(500_000);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('counts the text of blocks it does not model (search results, server tools, MCP, redacted thinking) as plain text', () => {
    const big = 'x'.repeat(48_000); // 12,000 tokens as plain text
    const plain = estimateInputTokens(user([{ type: 'text', text: big }]));
    const wrapped = [
      {
        type: 'search_result',
        source: 'https://example.com',
        title: 't',
        content: [{ type: 'text', text: big }],
      },
      { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'x', text: big }] },
      { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_1', content: [{ type: 'text', text: big }] },
      { type: 'server_tool_use', id: 'srvtoolu_2', name: 'web_search', input: { query: big } },
      { type: 'redacted_thinking', data: big },
      { type: 'compaction', content: big },
    ];
    for (const block of wrapped) {
      const estimate = estimateInputTokens(user([block as never]));
      expect(estimate, block.type).toBeGreaterThanOrEqual(plain);
      expect(estimate, block.type).toBeLessThan(plain + 50);
    }
    // Ids and signatures are not text the model reads.
    const ids = { type: 'mcp_tool_use', id: 'y'.repeat(4_000), name: 'n', server_name: 's', input: {} };
    expect(estimateInputTokens(user([ids as never]))).toBeLessThan(20);
    // A nested image is priced as an image, not as its base64 text.
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png(100, 100) } };
    const inResult = { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_1', content: [image] };
    expect(estimateInputTokens(user([inResult as never]))).toBe(
      estimateInputTokens(user([image as never])) + 4,
    );
  });

  it('counts a compacted conversation from its compaction block (what comes before is not input)', () => {
    const compacted = [
      { role: 'assistant' as const, content: [{ type: 'compaction', content: 'Summary.' } as never] },
      { role: 'user' as const, content: 'continue' },
    ];
    const long = [{ role: 'user' as const, content: 'x'.repeat(40_000) }, ...compacted];
    const estimate = estimateInputTokens({ model: 'm', max_tokens: 10, messages: long });
    expect(estimate).toBeLessThan(100);
    // Only the short turn that opens the compacted history is added.
    const alone = estimateInputTokens({ model: 'm', max_tokens: 10, messages: compacted });
    expect(estimate - alone).toBeLessThan(25);
  });

  it('counts Anthropic-defined tools that have no name (mcp_toolset)', () => {
    const tools = [{ type: 'mcp_toolset', mcp_server_name: 'srv' }] as unknown as MessagesRequest['tools'];
    expect(estimateInputTokens({ ...user('hi'), tools })).toBeGreaterThan(estimateInputTokens(user('hi')));
  });
});
