import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { EventStreamDecoder } from './event-stream.ts';

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

describe('EventStreamDecoder', () => {
  it('decodes frames split at every byte boundary, including multi-byte text', () => {
    const bytes = Buffer.concat([frame('a', { text: 'héllo ✓' }), frame('b', { n: 2 })]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new EventStreamDecoder();
      const out = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      decoder.end();
      expect(out.map((m) => [m.headers[':event-type'], JSON.parse(m.payload.toString('utf8'))])).toEqual([
        ['a', { text: 'héllo ✓' }],
        ['b', { n: 2 }],
      ]);
      expect(out[0]!.headers[':message-type']).toBe('event');
    }
  });

  it('rejects a corrupted frame', () => {
    const bytes = Buffer.from(frame('a', { text: 'x' }));
    bytes[bytes.length - 6]! ^= 1;
    expect(() => new EventStreamDecoder().push(bytes)).toThrow(/CRC/);
  });

  it('fails at the end when a partial frame is left over', () => {
    const decoder = new EventStreamDecoder();
    decoder.push(frame('a', {}).subarray(0, 10));
    expect(() => decoder.end()).toThrow(/inside a frame/);
  });
});
