import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { decodeEventStream, type EventStreamMessage } from './event-stream.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':message-type': { type: 'string', value: 'event' },
      flag: { type: 'boolean', value: true },
      n: { type: 'integer', value: 7 },
      id: { type: 'binary', value: new Uint8Array([1, 2, 3]) },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

async function decodeChunks(...chunks: Uint8Array[]): Promise<EventStreamMessage[]> {
  async function* body() {
    for (const chunk of chunks) yield Buffer.from(chunk);
  }
  const out: EventStreamMessage[] = [];
  for await (const message of decodeEventStream(body())) out.push(message);
  return out;
}

describe('decodeEventStream', () => {
  it('decodes frames split at every byte boundary, including multi-byte text', async () => {
    const bytes = Buffer.concat([frame('a', { text: 'héllo ✓' }), frame('b', { n: 2 })]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const out = await decodeChunks(bytes.subarray(0, cut), bytes.subarray(cut));
      expect(out.map((m) => [m.headers[':event-type'], JSON.parse(m.payload.toString('utf8'))])).toEqual([
        ['a', { text: 'héllo ✓' }],
        ['b', { n: 2 }],
      ]);
      expect(out[0]!.headers).toEqual({ ':event-type': 'a', ':message-type': 'event' });
    }
  });

  it('decodes many frames arriving in one chunk', async () => {
    const frames = Array.from({ length: 50 }, (_, i) => frame(`e${i}`, { i }));
    const out = await decodeChunks(Buffer.concat(frames));
    expect(out.map((m) => JSON.parse(m.payload.toString('utf8')).i)).toEqual(frames.map((_, i) => i));
  });

  it('rejects a corrupted frame', async () => {
    const bytes = Buffer.from(frame('a', { text: 'x' }));
    bytes[bytes.length - 6]! ^= 1;
    await expect(decodeChunks(bytes)).rejects.toThrow(/checksum/);
  });

  it('fails at the end when a partial frame is left over', async () => {
    await expect(decodeChunks(frame('a', {}), frame('b', {}).subarray(0, 10))).rejects.toThrow(/Truncated/);
  });

  it('releases the body when the consumer stops early (so the HTTP connection is freed)', async () => {
    let released = false;
    async function* body() {
      try {
        yield Buffer.from(frame('a', {}));
        yield Buffer.from(frame('b', {}));
      } finally {
        released = true;
      }
    }
    for await (const _message of decodeEventStream(body())) break;
    expect(released).toBe(true);
  });
});
