import type { Message } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { limitMedia, MAX_DOCUMENTS, MAX_IMAGES } from './media-limits.ts';

const doc = (name: string) => ({
  document: { name, format: 'pdf' as const, source: { bytes: new Uint8Array([1]) } },
});
const image = () => ({ image: { format: 'png' as const, source: { bytes: new Uint8Array([1]) } } });

describe('limitMedia', () => {
  it('keeps the newest five documents and twenty images, tool results included; older ones become a note', () => {
    const messages: Message[] = [];
    // Eight turns, each a tool result holding one PDF and three images (as a session reading PDFs does).
    for (let turn = 0; turn < 8; turn++) {
      messages.push({
        role: 'assistant',
        content: [{ toolUse: { toolUseId: `t${turn}`, name: 'Read', input: {} } }],
      });
      messages.push({
        role: 'user',
        content: [
          { toolResult: { toolUseId: `t${turn}`, content: [doc(`d${turn}`), image(), image(), image()] } },
        ],
      });
    }
    expect(limitMedia(messages)).toEqual({ document: 8 - MAX_DOCUMENTS, image: 24 - MAX_IMAGES });
    const inner = messages.flatMap((m) => (m.content ?? []).flatMap((b) => b.toolResult?.content ?? []));
    expect(inner.filter((b) => b.document)).toHaveLength(MAX_DOCUMENTS);
    expect(inner.filter((b) => b.image)).toHaveLength(MAX_IMAGES);
    // The newest are kept, the oldest replaced.
    const lastTurn = messages.at(-1)!.content![0]!.toolResult!.content!;
    expect(lastTurn.every((b) => b.document || b.image)).toBe(true);
    const firstTurn = messages[1]!.content![0]!.toolResult!.content!;
    expect(firstTurn[0]).toEqual({
      text: expect.stringMatching(/earlier document omitted: Bedrock takes at most 5/),
    });
  });

  it('changes nothing within the limits', () => {
    const messages: Message[] = [{ role: 'user', content: [doc('a'), image(), { text: 'look' }] }];
    const before = structuredClone(messages);
    expect(limitMedia(messages)).toEqual({ document: 0, image: 0 });
    expect(messages).toEqual(before);
  });
});
