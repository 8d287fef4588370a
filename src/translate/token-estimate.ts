/**
 * A quick input-token estimate for count_tokens when Bedrock's CountTokens is unavailable, and for the
 * usage in message_start before the model reports its own. Deliberately simple and documented:
 *
 * - Text (messages, system, tool descriptions, JSON of tool inputs and schemas): 4 ASCII characters per
 *   token; any other character (CJK, emoji, accents) counts 1 token each, as BPE tokenizers split them finely.
 * - Images: Anthropic's rule, width × height / 750 tokens, at most 1,600 (larger images are scaled down);
 *   dimensions are read from the PNG/GIF/JPEG header, else 1,600 is assumed (URL and file images too).
 * - PDFs: 2,000 tokens per page (page text plus the page image Claude is given); pages are counted from
 *   the `/Type /Page` objects, at least 1. Other documents: their text.
 * - Blocks not modelled here (search results, server tool calls and results, MCP blocks, redacted
 *   thinking): the text of every field, nested blocks by their own rules. This estimate admits requests
 *   against tokens-per-minute limits, so no block may carry text for free.
 * - Overheads: 4 tokens per message and per content block boundary, 10 per tool plus its text, and 300 once
 *   when tools are present (the tool-use preamble models receive).
 * Each tool schema / tool input is serialized once; the request as a whole never is.
 */
import type {
  ContentBlockParam,
  CountTokensRequest,
  DocumentBlockParam,
  ImageBlockParam,
  ImageSource,
  MessagesRequest,
  TextBlockParam,
  ToolResultBlockParam,
} from '../anthropic/types.ts';
import { fromLastCompaction } from './compaction.ts';

const PER_MESSAGE = 4;
const PER_TOOL = 10;
const TOOLS_PREAMBLE = 300;
const MAX_IMAGE_TOKENS = 1_600;
const PER_PDF_PAGE = 2_000;

export function estimateInputTokens(req: MessagesRequest | CountTokensRequest): number {
  let tokens = 0;
  if (typeof req.system === 'string') tokens += textTokens(req.system);
  else if (req.system) for (const block of req.system) tokens += textTokens(block.text);

  // Messages before a compaction block are dropped by Claude (and by the gateway where the block becomes
  // text): they are not input.
  for (const message of fromLastCompaction(req.messages).messages) {
    tokens += PER_MESSAGE;
    if (typeof message.content === 'string') tokens += textTokens(message.content);
    else for (const block of message.content) tokens += blockTokens(block);
  }

  if (req.tools && req.tools.length > 0) {
    tokens += TOOLS_PREAMBLE;
    for (const tool of req.tools) {
      // Anthropic-defined tools may come without a name (mcp_toolset names its server instead).
      tokens += PER_TOOL + textTokens(tool.name ?? '') + textTokens(tool.description ?? '');
      tokens += textTokens(JSON.stringify(tool.input_schema ?? {}));
    }
  }
  return Math.max(1, Math.ceil(tokens));
}

function blockTokens(block: ContentBlockParam): number {
  switch (block.type) {
    case 'text':
      return textTokens(block.text);
    case 'image':
      return imageTokens(block);
    case 'document':
      return documentTokens(block);
    case 'thinking':
      return textTokens(block.thinking);
    case 'tool_use':
      return PER_MESSAGE + textTokens(block.name) + textTokens(JSON.stringify(block.input ?? {}));
    case 'tool_result':
      return PER_MESSAGE + toolResultTokens(block);
    case 'tool_reference':
      return textTokens(block.tool_name);
    default:
      return PER_MESSAGE + fieldTokens(block);
  }
}

/** Fields that hold ids, markers or opaque proofs, never prompt text. */
const NOT_TEXT = new Set(['type', 'id', 'tool_use_id', 'cache_control', 'signature']);

/**
 * The text anywhere in a block the estimate does not model: strings as text, nested blocks (anything
 * with a string `type` inside an array) by blockTokens. Validation bounds the nesting depth.
 */
function fieldTokens(value: unknown): number {
  if (typeof value === 'string') return textTokens(value);
  if (typeof value !== 'object' || value === null) return 0;
  let tokens = 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      const block = typeof (item as { type?: unknown } | null)?.type === 'string';
      tokens += block ? blockTokens(item as ContentBlockParam) : fieldTokens(item);
    }
    return tokens;
  }
  for (const key in value) {
    if (!NOT_TEXT.has(key)) tokens += fieldTokens((value as Record<string, unknown>)[key]);
  }
  return tokens;
}

function toolResultTokens(block: ToolResultBlockParam): number {
  if (block.content === undefined) return 0;
  if (typeof block.content === 'string') return textTokens(block.content);
  let tokens = 0;
  for (const part of block.content) tokens += blockTokens(part as ContentBlockParam);
  return tokens;
}

/** ~4 ASCII chars per token; other characters 1 token each. */
export function textTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    else if (code < 0xdc00 || code > 0xdfff) other++; // a surrogate pair counts once
  }
  return ascii / 4 + other;
}

function imageTokens(block: ImageBlockParam): number {
  const size = block.source.type === 'base64' ? imageSize(block.source) : null;
  if (!size) return MAX_IMAGE_TOKENS;
  return Math.min(MAX_IMAGE_TOKENS, Math.ceil((size.width * size.height) / 750));
}

function documentTokens(block: DocumentBlockParam): number {
  const source = block.source;
  let tokens = textTokens(block.title ?? '') + textTokens(block.context ?? '');
  switch (source.type) {
    case 'text':
      return tokens + textTokens(source.data);
    case 'content':
      if (typeof source.content === 'string') return tokens + textTokens(source.content);
      for (const part of source.content)
        tokens += part.type === 'text' ? textTokens((part as TextBlockParam).text) : imageTokens(part);
      return tokens;
    case 'base64':
      return (
        tokens +
        (source.media_type === 'application/pdf'
          ? pdfPages(source.data) * PER_PDF_PAGE
          : textTokens(source.data) / 2)
      );
    case 'url':
    case 'file':
      return tokens + PER_PDF_PAGE;
    default: {
      const unreachable: never = source;
      return unreachable;
    }
  }
}

function pdfPages(base64: string): number {
  const text = Buffer.from(base64, 'base64').toString('latin1');
  const pages = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g);
  return Math.max(1, pages?.length ?? 0);
}

/** Width/height from the first bytes of a PNG, GIF or JPEG; null when unknown. */
function imageSize(
  source: Extract<ImageSource, { type: 'base64' }>,
): { width: number; height: number } | null {
  // 64 KiB of base64 covers any JPEG header worth reading without decoding the whole image.
  const head = Buffer.from(source.data.slice(0, 65_536), 'base64');
  if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47) {
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  }
  if (head.length >= 10 && head.toString('latin1', 0, 3) === 'GIF') {
    return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
  }
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) {
    let at = 2;
    while (at + 9 < head.length) {
      if (head[at] !== 0xff) return null;
      const marker = head[at + 1]!;
      const length = head.readUInt16BE(at + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: head.readUInt16BE(at + 5), width: head.readUInt16BE(at + 7) };
      }
      at += 2 + length;
    }
  }
  return null;
}
