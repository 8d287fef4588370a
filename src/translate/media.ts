/**
 * Images and documents → Converse image/document blocks (or text where the content survives as text).
 * Remote sources (`url`) are inlined by the server before translation, and the Files API (`file`) has no
 * Bedrock counterpart, so both are refused here. Where a model cannot take an image or a binary document,
 * it becomes a note that keeps the conversation going and tells the model what is missing, in every
 * message, the newest included (messages.ts says why a 400 there was worse).
 */
import type {
  DocumentBlock,
  DocumentFormat,
  ImageBlock,
  ImageFormat,
  SearchResultBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '../anthropic/errors.ts';
import type { DocumentBlockParam, ImageBlockParam } from '../anthropic/types.ts';
import type { BlockContext } from './block-context.ts';

/** The block shapes that both a message and a toolResult can hold. */
export type MediaBlock =
  | { text: string }
  | { image: ImageBlock }
  | { document: DocumentBlock }
  | { searchResult: SearchResultBlock };

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

// Anthropic itself takes only PDF as base64; the rest are Bedrock formats a client may reasonably send.
const DOCUMENT_FORMATS: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/html': 'html',
  'text/markdown': 'md',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

function decodeBase64(data: string, path: string): Uint8Array {
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) throw ApiError.invalid(`${path}.source.data: must be non-empty base64 data`);
  return bytes;
}

function refuseSource(type: string, path: string): never {
  if (type === 'url') {
    throw ApiError.invalid(`${path}.source: URL sources could not be fetched; send the data as base64`);
  }
  throw ApiError.invalid(`${path}.source: source type "${type}" is not supported by this gateway`);
}

function unsupported(what: string, ctx: BlockContext): MediaBlock[] {
  const message = `model ${ctx.modelId} does not accept ${what}`;
  ctx.warnings.add(`${what} replaced by a note: ${message}`);
  return [{ text: `[${what.replace(/s$/, '')} omitted: ${message}]` }];
}

export function convertImage(block: ImageBlockParam, path: string, ctx: BlockContext): MediaBlock[] {
  const { source } = block;
  if (source.type !== 'base64') refuseSource(source.type, path);
  const format = IMAGE_FORMATS[source.media_type.toLowerCase()];
  if (format === undefined) {
    throw ApiError.invalid(
      `${path}.source.media_type: "${source.media_type}" is not supported; use image/png, image/jpeg, image/gif or image/webp`,
    );
  }
  if (!ctx.caps.images) return unsupported('images', ctx);
  return [{ image: { format, source: { bytes: decodeBase64(source.data, path) } } }];
}

/**
 * Bedrock takes an image inside a toolResult from Claude and Nova (ToolResultContentBlock in its API
 * reference) and Llama 4 (measured); other models with vision (Pixtral, Qwen VL…) refuse it ("This model
 * doesn't support the image field for user messages", opencode#49443), and the image stays in the
 * client's history, so every later turn would fail.
 */
const TOOL_RESULT_IMAGE_FAMILIES: ReadonlySet<string> = new Set(['claude', 'nova', 'llama']);

export function takesToolResultImages(caps: BlockContext['caps']): boolean {
  return caps.images && TOOL_RESULT_IMAGE_FAMILIES.has(caps.family);
}

/** An image a tool returned: the image where the model takes it there, else a note. */
export function convertToolResultImage(
  block: ImageBlockParam,
  path: string,
  ctx: BlockContext,
): MediaBlock[] {
  if (ctx.caps.images && !takesToolResultImages(ctx.caps)) return [toolResultImageNote(ctx)];
  return convertImage(block, path, ctx);
}

/** What stands for an image inside a tool result of a model that sees images elsewhere only. */
export function toolResultImageNote(ctx: BlockContext): MediaBlock {
  const message = `model ${ctx.modelId} does not accept images in tool results`;
  ctx.warnings.add(`images in tool results replaced by a note: ${message}`);
  return { text: `[image omitted: ${message}]` };
}

function textOf(blocks: readonly string[]): MediaBlock[] {
  return blocks.filter((text) => text.trim() !== '').map((text) => ({ text }));
}

export function convertDocument(block: DocumentBlockParam, path: string, ctx: BlockContext): MediaBlock[] {
  const { source } = block;
  const title = block.title?.trim() || undefined;
  const context = block.context?.trim() || undefined;
  const citations = block.citations?.enabled === true;
  // Text has no citation locations: the client asked for citations and must hear that none will come.
  const sentAsText = (blocks: MediaBlock[]): MediaBlock[] => {
    if (citations)
      ctx.warnings.add(`document citations dropped (${path}): the document goes to ${ctx.modelId} as text`);
    return blocks;
  };

  // Inline content is plain text and images already: no document block needed.
  if (source.type === 'content') {
    if (typeof source.content === 'string') return sentAsText(textOf([source.content]));
    return sentAsText(
      source.content.flatMap((inner, k) =>
        inner.type === 'text'
          ? textOf([inner.text])
          : convertImage(inner, `${path}.source.content.${k}`, ctx),
      ),
    );
  }
  if (source.type !== 'base64' && source.type !== 'text') refuseSource(source.type, path);

  let format: DocumentFormat;
  let bytes: Uint8Array;
  if (source.type === 'text') {
    if (!ctx.caps.documents) {
      // Text loses nothing but its citations by travelling as a text block.
      return sentAsText(textOf([[title, context, source.data].filter(Boolean).join('\n\n')]));
    }
    if (source.data.trim() === '') return [];
    format = 'txt';
    bytes = Buffer.from(source.data, 'utf8');
  } else {
    const known = DOCUMENT_FORMATS[source.media_type.toLowerCase()];
    if (known === undefined) {
      throw ApiError.invalid(
        `${path}.source.media_type: "${source.media_type}" is not a supported document type`,
      );
    }
    if (!ctx.caps.documents) return unsupported('documents', ctx);
    format = known;
    bytes = decodeBase64(source.data, path);
  }

  const document: DocumentBlock = { format, name: ctx.documentNames.next(title), source: { bytes } };
  // Citations exist on Bedrock for Claude only; elsewhere the document is still read, just not cited.
  if (citations && ctx.caps.family === 'claude') {
    document.citations = { enabled: true };
    if (context) document.context = context;
    return [{ document }];
  }
  if (citations) ctx.warnings.add(`document citations are not supported by ${ctx.modelId}; dropped`);
  return [...(context ? [{ text: context }] : []), { document }];
}
