import { describe, expect, it } from 'vitest';
import { apiErrorOf as thrown } from '../anthropic/api-error.fixture.ts';
import type { DocumentBlockParam, ImageBlockParam } from '../anthropic/types.ts';
import { blockContext, CLAUDE, OPEN } from './caps.fixture.ts';
import { convertDocument, convertImage } from './media.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const image = (media_type: string, data = PNG.toString('base64')): ImageBlockParam => ({
  type: 'image',
  source: { type: 'base64', media_type, data },
});

describe('convertImage', () => {
  it.each([
    ['image/png', 'png'],
    ['image/jpeg', 'jpeg'],
    ['image/jpg', 'jpeg'],
    ['image/gif', 'gif'],
    ['image/webp', 'webp'],
  ])('%s becomes format %s with the decoded bytes', (mediaType, format) => {
    const [block] = convertImage(image(mediaType), 'messages.0.content.0', blockContext(CLAUDE));
    expect(block).toEqual({ image: { format, source: { bytes: PNG } } });
  });

  it('refuses an unsupported media type, naming the field', () => {
    const err = thrown(() => convertImage(image('image/bmp'), 'messages.2.content.1', blockContext(CLAUDE)));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^messages\.2\.content\.1\.source\.media_type: "image\/bmp"/);
  });

  it('refuses a url source that was not inlined and empty data', () => {
    const url: ImageBlockParam = { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } };
    expect(thrown(() => convertImage(url, 'messages.0.content.0', blockContext(CLAUDE))).message).toMatch(
      /messages\.0\.content\.0\.source: URL/,
    );
    expect(
      thrown(() => convertImage(image('image/png', ''), 'messages.0.content.0', blockContext(CLAUDE)))
        .message,
    ).toMatch(/source\.data/);
  });

  it("replaces an image with a note for a model without vision (the user's or a tool's), and warns", () => {
    const ctx = blockContext(OPEN);
    const blocks = convertImage(image('image/png'), 'messages.2.content.0.content.0', ctx);
    expect(blocks).toEqual([{ text: expect.stringContaining('image omitted') }]);
    expect(ctx.warnings.size).toBe(1);
  });
});

describe('convertDocument', () => {
  const pdf = Buffer.from('%PDF-1.7 fake');
  const pdfBlock = (extra: Partial<DocumentBlockParam> = {}): DocumentBlockParam => ({
    type: 'document',
    source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') },
    ...extra,
  });

  it('sends a base64 PDF as a pdf document with a sanitised title', () => {
    const blocks = convertDocument(pdfBlock({ title: 'Q3 report.pdf' }), 'p', blockContext(CLAUDE));
    expect(blocks).toEqual([{ document: { format: 'pdf', name: 'Q3 report pdf', source: { bytes: pdf } } }]);
  });

  it('gives untitled documents unique generated names across the request', () => {
    const ctx = blockContext(CLAUDE);
    const names = [1, 2].map(() => {
      const [block] = convertDocument(pdfBlock(), 'p', ctx);
      return block && 'document' in block ? block.document.name : undefined;
    });
    expect(names).toEqual(['document-1', 'document-2']);
  });

  it('sends a text source as txt bytes', () => {
    const doc: DocumentBlockParam = {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'héllo' },
      title: 'notes',
    };
    const [block] = convertDocument(doc, 'p', blockContext(CLAUDE));
    expect(block).toEqual({
      document: { format: 'txt', name: 'notes', source: { bytes: Buffer.from('héllo') } },
    });
  });

  it('sends a text document as text to a model without documents (nothing lost)', () => {
    const doc: DocumentBlockParam = {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'the body' },
      title: 'notes',
    };
    expect(convertDocument(doc, 'p', blockContext(OPEN))).toEqual([{ text: 'notes\n\nthe body' }]);
  });

  it('replaces a PDF with a note for a model without documents, and warns', () => {
    const ctx = blockContext(OPEN);
    expect(convertDocument(pdfBlock(), 'messages.0.content.0', ctx)).toEqual([
      { text: expect.stringMatching(/^\[document omitted: model .* does not accept documents\]$/) },
    ]);
    expect([...ctx.warnings]).toEqual([expect.stringContaining('documents replaced by a note')]);
  });

  it('turns a content source into its text and images', () => {
    const doc: DocumentBlockParam = {
      type: 'document',
      source: {
        type: 'content',
        content: [
          { type: 'text', text: 'first' },
          { type: 'text', text: '  ' },
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') },
          },
        ],
      },
    };
    expect(convertDocument(doc, 'p', blockContext(CLAUDE))).toEqual([
      { text: 'first' },
      { image: { format: 'png', source: { bytes: PNG } } },
    ]);
  });

  it('asks for citations on Claude only, with the context', () => {
    const block = pdfBlock({ citations: { enabled: true }, context: 'from the archive' });
    const [claude] = convertDocument(block, 'p', blockContext(CLAUDE));
    expect(claude).toMatchObject({ document: { citations: { enabled: true }, context: 'from the archive' } });

    const ctx = blockContext({ ...OPEN, documents: true });
    const open = convertDocument(block, 'p', ctx);
    expect(open).toEqual([
      { text: 'from the archive' },
      { document: expect.not.objectContaining({ citations: expect.anything() }) },
    ]);
    expect([...ctx.warnings].join()).toContain('citations');
  });

  it('refuses document types Bedrock does not know', () => {
    const doc: DocumentBlockParam = {
      type: 'document',
      source: { type: 'base64', media_type: 'application/zip', data: 'AAAA' },
    };
    expect(thrown(() => convertDocument(doc, 'messages.1.content.0', blockContext(CLAUDE))).message).toMatch(
      /^messages\.1\.content\.0\.source\.media_type/,
    );
  });
});
