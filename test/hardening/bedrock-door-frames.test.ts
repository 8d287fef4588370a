/**
 * The Bedrock-format door passes the eventstream through whole frame by whole frame (watched for usage).
 * What Bedrock, or a proxy in front of it, sends in whatever chunking must cost linear time to split, and
 * a prelude claiming a frame of gigabytes must fail the stream rather than buffer the rest of it.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { describe, expect, it } from 'vitest';
import type { StreamFrame } from '../../src/server/bedrock/usage.ts';
import { WholeFrames } from '../../src/server/bedrock/whole-frames.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const chunkFrame = (payload: string) =>
  codec.encode({
    headers: {
      ':event-type': { type: 'string', value: 'chunk' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify({ bytes: Buffer.from(payload).toString('base64') })),
  });

function watch(bytes: Uint8Array, size: number): StreamFrame[] {
  const seen: StreamFrame[] = [];
  const frames = new WholeFrames((frame) => seen.push(frame));
  try {
    for (let i = 0; i < bytes.length; i += size) frames.push(bytes.subarray(i, i + size));
  } catch {
    // A corrupt stream: the door ends it here.
  }
  return seen;
}

const timed = (run: () => unknown) => {
  const start = performance.now();
  run();
  return performance.now() - start;
};

describe('WholeFrames on hostile chunking', () => {
  it('one large frame in small chunks is watched in linear time, and read', { timeout: 120_000 }, () => {
    const small = chunkFrame('x'.repeat(16_000));
    const large = chunkFrame('x'.repeat(512_000));
    expect(watch(large, 64)).toHaveLength(1);
    timed(() => watch(small, 64)); // warm-up
    const smallMs = Math.min(
      timed(() => watch(small, 64)),
      timed(() => watch(small, 64)),
    );
    const largeMs = Math.min(
      timed(() => watch(large, 64)),
      timed(() => watch(large, 64)),
    );
    // 32× the size: linear near 32, quadratic near 1,000.
    expect(
      largeMs / smallMs,
      `512 kB: ${largeMs.toFixed(0)} ms, 16 kB: ${smallMs.toFixed(2)} ms`,
    ).toBeLessThan(200);
  });

  it('a prelude claiming a 4 GB frame fails the stream: the rest is not buffered', {
    timeout: 120_000,
  }, () => {
    const bogus = (size: number) => {
      const bytes = Buffer.alloc(size, 0x41);
      bytes.writeUInt32BE(0xfffffff0, 0);
      return bytes;
    };
    timed(() => watch(bogus(16_000), 64));
    const smallMs = Math.min(
      timed(() => watch(bogus(16_000), 64)),
      timed(() => watch(bogus(16_000), 64)),
    );
    const largeMs = Math.min(
      timed(() => watch(bogus(512_000), 64)),
      timed(() => watch(bogus(512_000), 64)),
    );
    expect(
      largeMs / smallMs,
      `512 kB: ${largeMs.toFixed(0)} ms, 16 kB: ${smallMs.toFixed(2)} ms`,
    ).toBeLessThan(200);
  });

  it('frames split at every byte are all seen', () => {
    const two = Buffer.concat([chunkFrame('{"type":"message_stop"}'), chunkFrame('{"a":1}')]);
    expect(watch(two, 1)).toHaveLength(2);
  });
});
