import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { describe, expect, it } from 'vitest';
import type { StreamFrame } from './usage.ts';
import { WholeFrames } from './whole-frames.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (text: string) =>
  Buffer.from(
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: 'chunk' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(text),
    }),
  );

/** Feeds `bytes` in chunks of `size`; what came out, split at frame boundaries by the decoder. */
function pass(bytes: Buffer, size: number) {
  const seen: StreamFrame[] = [];
  const frames = new WholeFrames((f) => seen.push(f));
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const whole = frames.push(bytes.subarray(i, i + size));
    if (whole) out.push(Buffer.from(whole));
  }
  return { frames, out, seen };
}

describe('WholeFrames', () => {
  const three = [frame('one'), frame('two, longer'), frame('three')];
  const all = Buffer.concat(three);

  it.each([1, 3, 7, 20, all.length])(
    'in chunks of %i: every output is whole frames, all of them in order',
    (size) => {
      const { frames, out, seen } = pass(all, size);
      expect(Buffer.concat(out).equals(all)).toBe(true);
      for (const piece of out) {
        // Each piece decodes as whole frames only.
        let at = 0;
        while (at < piece.length) {
          const total = piece.readUInt32BE(at);
          expect(() => codec.decode(piece.subarray(at, at + total))).not.toThrow();
          at += total;
        }
        expect(at).toBe(piece.length);
      }
      expect(seen.map((f) => Buffer.from(f.payload).toString())).toEqual(['one', 'two, longer', 'three']);
      expect(() => frames.end()).not.toThrow();
    },
  );

  it('a body that ends inside a frame: the partial frame is held back, end() says the stream was cut', () => {
    const cut = all.subarray(0, three[0]!.length + three[1]!.length + 5);
    const { frames, out } = pass(cut, 4);
    expect(Buffer.concat(out).equals(all.subarray(0, three[0]!.length + three[1]!.length))).toBe(true);
    expect(() => frames.end()).toThrow(
      expect.objectContaining({
        name: 'UpstreamAnswerMalformed',
        message: expect.stringMatching(/inside a frame/),
      }),
    );
  });

  it('a corrupt frame after whole ones in the same chunk: those go out, the next call fails', () => {
    const bad = Buffer.from(frame('bad'));
    bad[bad.length - 1]! ^= 0xff; // the message CRC
    const frames = new WholeFrames(() => {});
    const whole = frames.push(Buffer.concat([three[0]!, bad]));
    expect(whole && Buffer.from(whole).equals(three[0]!)).toBe(true);
    expect(() => frames.push(three[1]!)).toThrow(/corrupt/);
    expect(() => frames.end()).toThrow(/corrupt/);
  });
});

describe('WholeFrames and an exception frame echoing a credential', () => {
  const key = `ABSK${'Q'.repeat(40)}`;
  const exception = (message: string) =>
    Buffer.from(
      codec.encode({
        headers: {
          ':exception-type': { type: 'string', value: 'modelStreamErrorException' },
          ':content-type': { type: 'string', value: 'application/json' },
          ':message-type': { type: 'string', value: 'exception' },
        },
        body: fromUtf8(JSON.stringify({ message })),
      }),
    );

  it.each([1, 5, 1000])('in chunks of %i: re-encoded without it, the frames around it unchanged', (size) => {
    const bytes = Buffer.concat([frame('one'), exception(`broke for Bearer ${key}`), frame('two')]);
    const { out } = pass(bytes, size);
    const passed = Buffer.concat(out);
    expect(passed.toString('latin1')).not.toContain(key);
    const decoded: { headers: Record<string, string>; body: string }[] = [];
    for (let at = 0; at < passed.length; ) {
      const length = passed.readUInt32BE(at);
      const message = codec.decode(passed.subarray(at, at + length));
      decoded.push({
        headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v.value)])),
        body: Buffer.from(message.body).toString('utf8'),
      });
      at += length;
    }
    expect(decoded.map((m) => m.body)).toEqual([
      'one',
      JSON.stringify({ message: 'broke for [redacted]' }),
      'two',
    ]);
    expect(decoded[1]!.headers[':exception-type']).toBe('modelStreamErrorException');
  });

  it('leaves a frame without a credential as the same bytes', () => {
    const bytes = Buffer.concat([frame('one'), exception('Bearer token has expired')]);
    expect(Buffer.concat(pass(bytes, bytes.length).out).equals(bytes)).toBe(true);
  });
});
