/**
 * Conformance: request content, driven by the official Anthropic SDK through the gateway to the strict
 * Bedrock emulator. Each test checks what the client sees and what reached Bedrock.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ask,
  askWith,
  createAndStream,
  gatewayWithEmulator,
  type Json,
  PNG,
  PNG_BASE64,
  sampled,
  startGateway,
} from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-6';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const NOVA_LITE = 'us.amazon.nova-lite-v1:0';

const PDF_BASE64 = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n').toString('base64');

function texts(body: Json): string[] {
  return (body.messages as Json[]).flatMap((m) =>
    (m.content as Json[]).filter((b) => typeof b.text === 'string').map((b) => b.text as string),
  );
}

// Claude through Converse (the path this suite covers); the native InvokeModel path has its own tests.
const world = gatewayWithEmulator({ claudePath: 'converse' });
const { calls, lastBody } = world;

describe('text and system prompts', () => {
  it('sends a system string as a Converse system block and returns the answer text', async () => {
    world.emulator.enqueue({ text: 'Bonjour' });
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      system: 'Answer in French.',
      messages: ask('Say hello'),
    });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Bonjour' })]);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.id).toMatch(/^msg_/);
    const body = lastBody();
    expect(body.system).toEqual([{ text: 'Answer in French.' }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ text: 'Say hello' }] }]);
  });

  it('sends system blocks in order, with a cache point after a cache_control block', async () => {
    await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Project rules follow.', cache_control: { type: 'ephemeral' } },
      ],
      messages: ask('hi'),
    });
    expect(lastBody().system).toEqual([
      { text: 'You are terse.' },
      { text: 'Project rules follow.' },
      { cachePoint: { type: 'default' } },
    ]);
  });

  it('drops cache_control for a model without caching instead of failing', async () => {
    const message = await world.client.messages.create({
      model: QWEN,
      max_tokens: 64,
      system: [{ type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral' } }],
      messages: askWith({ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }),
    });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(JSON.stringify(lastBody())).not.toContain('cachePoint');
  });

  it('accepts role "system" entries inside messages (Claude Code reminders)', async () => {
    const messages = [
      { role: 'system', content: 'Leading reminder' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'system', content: '<system-reminder>mid reminder</system-reminder>' },
      { role: 'user', content: 'second question' },
    ] as unknown as Anthropic.MessageParam[];
    const message = await world.client.messages.create({ model: QWEN, max_tokens: 64, messages });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const body = lastBody();
    expect(body.system).toEqual([{ text: 'Leading reminder' }]);
    expect(body.messages.map((m: Json) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(texts(body)).toContain('<system-reminder>mid reminder</system-reminder>');
    expect(texts(body)).toContain('second question');
  });

  it('merges consecutive same-role turns so roles alternate upstream', async () => {
    await world.client.messages.create({
      model: QWEN,
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'part one' },
        { role: 'user', content: [{ type: 'text', text: 'part two' }] },
        { role: 'assistant', content: 'reply a' },
        { role: 'assistant', content: 'reply b' },
        { role: 'user', content: 'go on' },
      ],
    });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: [{ text: 'part one' }, { text: 'part two' }] },
      { role: 'assistant', content: [{ text: 'reply a' }, { text: 'reply b' }] },
      { role: 'user', content: [{ text: 'go on' }] },
    ]);
  });

  it('never sends empty or blank text upstream', async () => {
    const message = await world.client.messages.create({
      model: QWEN,
      max_tokens: 64,
      system: [{ type: 'text', text: '  ' }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'real question' },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: '' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: '\n' },
            { type: 'text', text: 'more' },
          ],
        },
      ],
    });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const body = lastBody();
    expect(body.system).toBeUndefined();
    expect(texts(body).every((t) => t.trim() !== '')).toBe(true);
    expect(texts(body)).toEqual(expect.arrayContaining(['real question', 'more']));
  });

  it('streams a plain text answer the same way', async () => {
    world.emulator.enqueue({ text: 'streamed words here', chunkSize: 3 });
    const stream = world.client.messages.stream({
      model: CLAUDE,
      max_tokens: 64,
      system: 'sys',
      messages: ask('hi'),
    });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'streamed words here' })]);
    expect(lastBody('ConverseStream').system).toEqual([{ text: 'sys' }]);
  });
});

describe('images and documents', () => {
  it('sends a base64 image as Converse image bytes', async () => {
    await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      messages: askWith(PNG, { type: 'text', text: 'What is this?' }),
    });
    const content = lastBody().messages[0].content;
    expect(content[0]).toEqual({ image: { format: 'png', source: { bytes: PNG_BASE64 } } });
    expect(content[1]).toEqual({ text: 'What is this?' });
  });

  /** A turn of text then `image` is refused with a 400 naming the image, and Bedrock is not called. */
  async function expectImageRefused(model: string, image: Anthropic.ImageBlockParam): Promise<void> {
    const err = await world.client.messages
      .create({ model, max_tokens: 64, messages: askWith({ type: 'text', text: 'look' }, image) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain('messages.0.content.1');
    expect(calls('Converse')).toHaveLength(0);
  }

  it('an image for a model without vision becomes a note the model reads, with a warning (a 400 broke the session)', async () => {
    const { data, response } = await world.client.messages
      .create({ model: QWEN, max_tokens: 64, messages: askWith({ type: 'text', text: 'look' }, PNG) })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text' });
    // The image was in the message just sent: the warning says what happened, not "earlier turns".
    expect(response.headers.get('x-abproxy-warnings')).toMatch(
      /^1; images replaced by a note: model \S*qwen3-coder\S* does not accept images$/,
    );
    const sent = JSON.stringify(lastBody('Converse'));
    expect(sent).toContain('[image omitted: model');
    expect(sent).not.toContain('"image"');
  });

  it('a session that has read more PDFs than Bedrock takes in one request keeps working: the newest five are sent', async () => {
    // Seven turns, each a PDF the user attached, answered: Bedrock takes at most five documents a request.
    const messages: Anthropic.MessageParam[] = [];
    for (let i = 0; i < 7; i++) {
      messages.push({
        role: 'user',
        content: [
          {
            type: 'document',
            title: `report-${i}.pdf`,
            source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 },
          },
          { type: 'text', text: `Summarise report ${i}.` },
        ],
      });
      messages.push({ role: 'assistant', content: `Report ${i} is fine.` });
    }
    messages.push({ role: 'user', content: 'Which report was longest?' });
    const { data, response } = await world.client.messages
      .create({ model: NOVA_LITE, max_tokens: 64, messages })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text' });
    expect(response.headers.get('x-abproxy-warnings')).toMatch(/2 earlier document\(s\) replaced by a note/);
    const sent = (lastBody().messages as Json[]).flatMap((m) => m.content as Json[]);
    const names = sent.filter((b) => b.document).map((b) => (b.document as Json).name);
    expect(names).toEqual(['report-2 pdf', 'report-3 pdf', 'report-4 pdf', 'report-5 pdf', 'report-6 pdf']);
    expect(
      sent.filter((b) => typeof b.text === 'string' && /earlier document omitted/.test(b.text as string)),
    ).toHaveLength(2);
  });

  it('sends a PDF and a plain-text document with titles sanitised to Bedrock name rules', async () => {
    await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      messages: askWith(
        {
          type: 'document',
          title: 'Q3 report: final_v2.pdf  (draft)!!',
          source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 },
        },
        {
          type: 'document',
          title: 'notes.txt',
          source: { type: 'text', media_type: 'text/plain', data: 'line one\nline two' },
        },
        {
          type: 'document',
          title: 'notes.txt',
          source: { type: 'text', media_type: 'text/plain', data: 'again' },
        },
        { type: 'text', text: 'Summarise both.' },
      ),
    });
    const docs = (lastBody().messages[0].content as Json[]).filter((b) => b.document).map((b) => b.document);
    expect(docs).toHaveLength(3);
    expect(docs[0]).toMatchObject({ format: 'pdf', source: { bytes: PDF_BASE64 } });
    expect(docs[1]).toMatchObject({ format: 'txt' });
    expect(Buffer.from(docs[1].source.bytes, 'base64').toString('utf8')).toBe('line one\nline two');
    const names = docs.map((d) => d.name as string);
    for (const name of names) {
      expect(name).toMatch(/^[a-zA-Z0-9\s\-()[\]]+$/);
      expect(name).not.toMatch(/\s{2,}/);
    }
    // Bedrock refuses two documents with the same name in one request.
    expect(new Set(names).size).toBe(names.length);
  });

  it('accepts a document with no title and no other text in the turn', async () => {
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      messages: askWith({
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 },
      }),
    });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const content = lastBody().messages[0].content as Json[];
    expect(content.some((b) => b.document)).toBe(true);
    expect(content.some((b) => typeof b.text === 'string' && b.text.trim() !== '')).toBe(true);
  });

  it("sends a search result as Converse's searchResult, and Claude's citations of it reach the client in both modes", async () => {
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: CLAUDE,
      max_tokens: 256,
      messages: askWith(
        {
          type: 'search_result',
          source: 'https://docs.example/sky',
          title: 'Sky facts',
          content: [{ type: 'text', text: 'The sky is blue because of Rayleigh scattering.' }],
          citations: { enabled: true },
        },
        { type: 'text', text: 'Why is the sky blue?' },
      ),
    };
    const [created, streamed] = await createAndStream(world.client, params);
    expect(lastBody('ConverseStream').messages[0].content[0]).toEqual({
      searchResult: {
        source: 'https://docs.example/sky',
        title: 'Sky facts',
        content: [{ text: 'The sky is blue because of Rayleigh scattering.' }],
        citations: { enabled: true },
      },
    });
    for (const message of [created, streamed]) {
      const cited = message.content.find((b) => b.type === 'text' && b.citations?.length);
      expect(cited).toMatchObject({
        type: 'text',
        text: 'The sky is blue because of Rayleigh scattering.',
        citations: [
          {
            type: 'search_result_location',
            cited_text: 'The sky is blue because of Rayleigh scattering.',
            search_result_index: 0,
            start_block_index: 0,
            end_block_index: 1,
            source: 'https://docs.example/sky',
            title: 'Sky facts',
          },
        ],
      });
    }
  });

  it("a text document's citations come back as char_location (Claude through Converse)", async () => {
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 256,
      messages: askWith(
        {
          type: 'document',
          title: 'notes',
          source: { type: 'text', media_type: 'text/plain', data: 'Grass is green. Snow is white.' },
          citations: { enabled: true },
        },
        { type: 'text', text: 'What colour is grass?' },
      ),
    });
    const cited = message.content.find((b) => b.type === 'text' && b.citations?.length);
    expect(cited?.type === 'text' && cited.citations?.[0]).toMatchObject({
      type: 'char_location',
      cited_text: 'Grass is green.',
      document_index: 0,
      start_char_index: 0,
      end_char_index: 15,
    });
  });

  describe('url sources', () => {
    let media: http.Server;
    let mediaUrl: string;
    const png = Buffer.from(PNG_BASE64, 'base64');

    beforeAll(async () => {
      media = http.createServer((req, res) => {
        if (req.url === '/pic.png') {
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
          res.end(png);
        } else if (req.url === '/doc.pdf') {
          res.writeHead(200, { 'content-type': 'application/pdf' });
          res.end(Buffer.from(PDF_BASE64, 'base64'));
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
      mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => media.close(() => resolve()));
    });

    it('refuses a URL pointing at a private address by default (SSRF guard), naming the block', async () => {
      await expectImageRefused(CLAUDE, {
        type: 'image',
        source: { type: 'url', url: `${mediaUrl}/pic.png` },
      });
    });

    it('fetches url images and documents when private media is allowed', async () => {
      const trusting = await startGateway({ claudePath: 'converse', allowPrivateMedia: true });
      try {
        await trusting.client.messages.create({
          model: CLAUDE,
          max_tokens: 64,
          messages: askWith(
            { type: 'image', source: { type: 'url', url: `${mediaUrl}/pic.png` } },
            { type: 'document', title: 'remote.pdf', source: { type: 'url', url: `${mediaUrl}/doc.pdf` } },
            { type: 'text', text: 'describe' },
          ),
        });
        const content = lastBody().messages[0].content as Json[];
        expect(content[0]).toEqual({ image: { format: 'png', source: { bytes: PNG_BASE64 } } });
        expect(content[1]!.document).toMatchObject({ format: 'pdf', source: { bytes: PDF_BASE64 } });
      } finally {
        await trusting.server.close();
      }
    });
  });
});

describe('generation settings', () => {
  it('passes stop_sequences, temperature and top_p in inferenceConfig', async () => {
    await world.client.messages.create(
      sampled({
        model: NOVA_LITE,
        max_tokens: 100,
        stop_sequences: ['END', '\n\nHuman:'],
        temperature: 0.3,
        top_p: 0.9,
        messages: ask('hi'),
      }),
    );
    expect(lastBody().inferenceConfig).toEqual({
      maxTokens: 100,
      stopSequences: ['END', '\n\nHuman:'],
      temperature: 0.3,
      topP: 0.9,
    });
  });

  it('drops stop_sequences for a model Bedrock refuses them for (Qwen3, gpt-oss), and says so', async () => {
    for (const model of [QWEN, 'openai.gpt-oss-120b-1:0']) {
      const { data, response } = await world.client.messages
        .create({ model, max_tokens: 100, stop_sequences: ['END'], messages: ask('hi') })
        .withResponse();
      expect(data.type).toBe('message');
      expect(response.headers.get('x-abproxy-warnings')).toMatch(
        /stop_sequences not sent: Bedrock refuses them/,
      );
      expect(lastBody().inferenceConfig).not.toHaveProperty('stopSequences');
    }
  });

  it('reports a stop_sequence stop', async () => {
    world.emulator.enqueue({ text: 'partial', stopReason: 'stop_sequence' });
    const message = await world.client.messages.create({
      model: QWEN,
      max_tokens: 100,
      stop_sequences: ['END'],
      messages: ask('hi'),
    });
    expect(message.stop_reason).toBe('stop_sequence');
  });

  it('names the matched stop sequence for Claude, in both modes', async () => {
    world.emulator.enqueue(
      { text: 'partial', stopReason: 'stop_sequence', stopSequence: '###' },
      { text: 'partial', stopReason: 'stop_sequence', stopSequence: '###' },
    );
    const params = { model: CLAUDE, max_tokens: 100, stop_sequences: ['END', '###'], messages: ask('hi') };
    for (const message of await createAndStream(world.client, params)) {
      expect(message.stop_reason).toBe('stop_sequence');
      expect(message.stop_sequence).toBe('###');
    }
    expect(lastBody().additionalModelResponseFieldPaths).toEqual(['/stop_sequence']);
  });

  it('sends top_k where the family has a field for it (Claude: additionalModelRequestFields.top_k)', async () => {
    await world.client.messages.create(
      sampled({
        model: CLAUDE,
        max_tokens: 100,
        top_k: 40,
        messages: ask('hi'),
      }),
    );
    expect(lastBody().additionalModelRequestFields).toMatchObject({ top_k: 40 });
  });

  it('sends top_k to Nova as inferenceConfig.topK in additional fields', async () => {
    await world.client.messages.create(
      sampled({
        model: NOVA_LITE,
        max_tokens: 100,
        top_k: 20,
        messages: ask('hi'),
      }),
    );
    expect(lastBody().additionalModelRequestFields).toEqual({ inferenceConfig: { topK: 20 } });
  });

  it.each([QWEN, 'mistral.mistral-large-2407-v1:0'])(
    'drops top_k for a model without it rather than failing (%s)',
    async (model) => {
      const { data, response } = await world.client.messages
        .create(sampled({ model, max_tokens: 100, top_k: 5, messages: ask('hi') }))
        .withResponse();
      expect(data.content[0]).toMatchObject({ type: 'text' });
      expect(lastBody().additionalModelRequestFields).toBeUndefined();
      expect(response.headers.get('x-abproxy-warnings')).toContain('top_k');
    },
  );

  it('passes metadata.user_id as Bedrock requestMetadata', async () => {
    await world.client.messages.create({
      model: QWEN,
      max_tokens: 100,
      metadata: { user_id: 'user_abc-123' },
      messages: ask('hi'),
    });
    expect(lastBody().requestMetadata).toEqual({ user_id: 'user_abc-123' });
  });

  it('clamps max_tokens above the model limit instead of failing', async () => {
    const { data, response } = await world.client.messages
      .create({
        model: 'claude-3-5-haiku-20241022',
        max_tokens: 20_000,
        messages: ask('hi'),
      })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text' });
    expect(lastBody().inferenceConfig.maxTokens).toBe(8192);
    expect(response.headers.get('x-abproxy-warnings')).toContain('max_tokens');
  });

  it('clamps max_tokens in streaming mode too', async () => {
    const message = await world.client.messages
      .stream({ model: QWEN, max_tokens: 1_000_000, messages: ask('hi') })
      .finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const sent = lastBody('ConverseStream').inferenceConfig.maxTokens as number;
    expect(sent).toBeLessThanOrEqual(65_536); // the emulator's (Bedrock's) cap for this model
    expect(sent).toBeGreaterThanOrEqual(32_768);
  });
});
