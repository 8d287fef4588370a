/**
 * What only the `messages` and `mantle` Claude paths do, as a client sees it: media reach Claude as
 * Anthropic blocks, and max_tokens is clamped to the model's limit. The cases every path shares (stop
 * reasons, the fault table, stream failures and aborts, the echoed model name, caching, a parallel tool
 * loop) run on each path in sdk-errors, sdk-usage and sdk-tools.
 */
import { describe, expect, it } from 'vitest';
import { ask, askWith, gatewayWithEmulator, PNG, postMessages } from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const PDF_BASE64 = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n').toString('base64');

describe.each(['messages', 'mantle'] as const)('ABPROXY_CLAUDE_PATH=%s', (claudePath) => {
  const world = gatewayWithEmulator({ claudePath });
  const apiCall = () => world.emulator.requests.find((r) => r.operation === 'MessagesApi');

  it('an image and documents reach Claude as Anthropic blocks', async () => {
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      messages: askWith(
        PNG,
        {
          type: 'document',
          title: 'report.pdf',
          source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 },
        },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'line one' } },
        { type: 'text', text: 'Describe them.' },
      ),
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Echo: Describe them.' });
    const content = (apiCall()!.body as { messages: { content: { type: string }[] }[] }).messages[0]!.content;
    expect(content.map((b) => b.type)).toEqual(['image', 'document', 'document', 'text']);
  });

  it('clamps max_tokens above the model limit instead of failing, and says so', async () => {
    // The SDK itself refuses so large a non-streaming max_tokens: a plain client sends it.
    const res = await postMessages(
      world.gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 1_000_000, messages: ask('hi') }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-abproxy-warnings')).toContain('clamped to 64000');
    expect((apiCall()!.body as { max_tokens: number }).max_tokens).toBe(64_000);
  });
});
