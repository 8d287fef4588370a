/**
 * Converse takes at most 20 images and 5 documents in one request (the Message reference: "You can
 * include up to 20 images … up to five documents"; Bedrock answers "You can't include more than 5
 * documents in a request."). A client resends its whole history every turn, so a session that has read a
 * sixth PDF would fail on every turn after. The newest are kept; older ones become a short note, so the
 * conversation stays valid and the model knows something was there. Pure: edits the messages in place.
 */
import type { ContentBlock, Message, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime';

export const MAX_IMAGES = 20;
export const MAX_DOCUMENTS = 5;

type Kind = 'image' | 'document';

const note = (kind: Kind, max: number) =>
  `[earlier ${kind} omitted: Bedrock takes at most ${max} ${kind}s in one request, and newer ones were kept]`;

/** Replaces all but the newest MAX_IMAGES images and MAX_DOCUMENTS documents; returns how many of each. */
export function limitMedia(messages: Message[]): { image: number; document: number } {
  const seen = { image: 0, document: 0 };
  const dropped = { image: 0, document: 0 };
  const max = { image: MAX_IMAGES, document: MAX_DOCUMENTS };
  /** The block as it may stay, or a note in its place. */
  const keep = <B extends ContentBlock | ToolResultContentBlock>(block: B): B => {
    const kind: Kind | undefined =
      block.image !== undefined ? 'image' : block.document !== undefined ? 'document' : undefined;
    if (!kind) return block;
    seen[kind]++;
    if (seen[kind] <= max[kind]) return block;
    dropped[kind]++;
    return { text: note(kind, max[kind]) } as B;
  };
  for (let m = messages.length - 1; m >= 0; m--) {
    const content = messages[m]?.content ?? [];
    for (let b = content.length - 1; b >= 0; b--) {
      const block = content[b]!;
      const result = block.toolResult;
      if (result?.content) {
        const inner = result.content;
        for (let i = inner.length - 1; i >= 0; i--) inner[i] = keep(inner[i]!);
      } else {
        content[b] = keep(block);
      }
    }
  }
  return dropped;
}
