/**
 * The seed converter's feature switches (ENABLE_EXTENDED_THINKING, PROMPT_CACHING_ENABLED,
 * ENABLE_TOOL_USE, ENABLE_DOCUMENT_SUPPORT) for the native Claude path, where no capability table
 * shapes the body: the switched-off features are removed from a shallow copy of the request.
 * (The Converse path gets the same effect by narrowing the model's capabilities.)
 */
import type { ContentBlockParam, MessageParam, MessagesRequest } from '../anthropic/types.ts';

export interface FeatureSwitches {
  enableToolUse: boolean;
  enableExtendedThinking: boolean;
  enableDocumentSupport: boolean;
  promptCachingEnabled: boolean;
}

/** What a turn that held only documents says instead. */
const DOCUMENT_OMITTED = '(document omitted)';

function withoutCacheControl<T extends object>(block: T): T {
  if (!('cache_control' in block)) return block;
  const { cache_control: _dropped, ...rest } = block as T & { cache_control?: unknown };
  return rest as T;
}

/** Pure: the request with switched-off features removed, and what was removed. */
export function applyFeatureSwitches(
  req: MessagesRequest,
  switches: FeatureSwitches,
): { request: MessagesRequest; warnings: string[] } {
  const warnings: string[] = [];
  const out: MessagesRequest = { ...req };
  if (!switches.enableExtendedThinking && out.thinking && out.thinking.type !== 'disabled') {
    delete out.thinking;
    warnings.push('thinking removed: extended thinking is switched off (ENABLE_EXTENDED_THINKING)');
  }
  if (!switches.enableToolUse && (out.tools || out.tool_choice)) {
    delete out.tools;
    delete out.tool_choice;
    warnings.push('tools removed: tool use is switched off (ENABLE_TOOL_USE)');
  }
  const dropCache = !switches.promptCachingEnabled;
  const dropDocuments = !switches.enableDocumentSupport;
  if (!dropCache && !dropDocuments) return { request: out, warnings };

  let removedDocuments = 0;
  // Tool results hold blocks of their own (documents, cache marks): the same rules apply inside them.
  const fixBlocks = <T extends ContentBlockParam>(blocks: T[]): T[] => {
    const kept = dropDocuments
      ? blocks.filter((block) => {
          if (block.type !== 'document') return true;
          removedDocuments++;
          return false;
        })
      : blocks;
    return kept.map((block) => {
      const fixed = dropCache ? withoutCacheControl(block) : block;
      if (fixed.type !== 'tool_result' || !Array.isArray(fixed.content)) return fixed;
      return { ...fixed, content: fixBlocks(fixed.content as ContentBlockParam[]) };
    });
  };
  out.messages = req.messages.map((message): MessageParam => {
    if (typeof message.content === 'string') return message;
    const content = fixBlocks(message.content);
    // A turn that held only documents still needs content: an empty one is a 400 upstream.
    return { ...message, content: content.length > 0 ? content : [{ type: 'text', text: DOCUMENT_OMITTED }] };
  });
  if (dropCache) {
    if (Array.isArray(out.system)) out.system = out.system.map(withoutCacheControl);
    if (out.tools) out.tools = out.tools.map(withoutCacheControl);
  }
  if (removedDocuments > 0) {
    warnings.push(
      `${removedDocuments} document(s) removed: documents are switched off (ENABLE_DOCUMENT_SUPPORT)`,
    );
  }
  return { request: out, warnings };
}
