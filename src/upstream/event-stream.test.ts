import { PassThrough } from 'node:stream';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import {
  decodeEventStream,
  type EventStreamMessage,
  eventFeed,
  isEventFeed,
  untilDone,
} from './event-stream.ts';

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
    await expect(decodeChunks(frame('a', {}), frame('b', {}).subarray(0, 10))).rejects.toThrow(
      /ended inside a message/,
    );
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

/** Listens to a feed over a PassThrough body; `script` writes the body's chunks. */
function listenTo(map: (m: EventStreamMessage) => unknown = (m) => m.headers[':event-type']) {
  const body = new PassThrough();
  const batches: unknown[][] = [];
  let settle!: (outcome: string) => void;
  const outcome = new Promise<string>((resolve) => {
    settle = resolve;
  });
  const control = eventFeed(body, map).listen({
    events: (batch) => batches.push(batch),
    end: () => settle('end'),
    error: (err) => settle(`error: ${(err as Error).message}`),
  });
  return { body, batches, outcome, control };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('eventFeed (push mode)', () => {
  it('hands over the events of each chunk in one call, frames split across chunks included', async () => {
    const { body, batches, outcome } = listenTo();
    const b = Buffer.from(frame('b', {}));
    body.write(Buffer.concat([frame('a', {}), b.subarray(0, 5)]));
    await tick();
    body.write(Buffer.concat([b.subarray(5), frame('c', {}), frame('d', {})]));
    body.end();
    expect(await outcome).toBe('end');
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('skips what map drops and delivers the events before a throwing one, then the error', async () => {
    const { body, batches, outcome } = listenTo((m) => {
      const type = m.headers[':event-type'];
      if (type === 'boom') throw new Error('exception event');
      return type === 'skip' ? undefined : type;
    });
    body.write(
      Buffer.concat([frame('a', {}), frame('skip', {}), frame('b', {}), frame('boom', {}), frame('c', {})]),
    );
    expect(await outcome).toBe('error: exception event');
    expect(batches).toEqual([['a', 'b']]);
    expect(body.destroyed).toBe(true);
  });

  it('reports a corrupt frame, and a body that ends inside a frame', async () => {
    const corrupt = listenTo();
    const bytes = Buffer.from(frame('a', {}));
    bytes[bytes.length - 6]! ^= 1;
    corrupt.body.write(bytes);
    expect(await corrupt.outcome).toMatch(/error: .*checksum/);

    const truncated = listenTo();
    truncated.body.write(Buffer.concat([frame('a', {}), frame('b', {}).subarray(0, 10)]));
    truncated.body.end();
    expect(await truncated.outcome).toBe(
      "error: Bedrock's event stream could not be read: the body ended inside a message",
    );
    expect(truncated.batches).toEqual([['a']]);
  });

  it('reports a failure of the body (the connection dropped)', async () => {
    const { body, outcome } = listenTo();
    body.destroy(new Error('socket hang up'));
    expect(await outcome).toBe('error: socket hang up');
  });

  it('reports a body released before it was listened to (the call was aborted meanwhile)', async () => {
    const body = new PassThrough();
    body.on('error', () => {});
    body.destroy(new Error('This operation was aborted'));
    await tick();
    const outcome = await new Promise<string>((resolve) => {
      eventFeed(body, (m) => m).listen({
        events: () => resolve('events'),
        end: () => resolve('end'),
        error: (err) => resolve(`error: ${(err as Error).message}`),
      });
    });
    expect(outcome).toBe('error: This operation was aborted');
  });

  it('pauses and resumes the body; cancel releases it with no further callback', async () => {
    const { body, batches, outcome, control } = listenTo();
    await tick();
    control.pause();
    body.write(frame('a', {}));
    await tick();
    expect(batches).toEqual([]);
    control.resume();
    await tick();
    expect(batches).toEqual([['a']]);
    control.cancel();
    expect(body.destroyed).toBe(true);
    const settled = await Promise.race([outcome, tick().then(() => 'nothing')]);
    expect(settled).toBe('nothing');
  });

  it('is still iterable (the same decoding as decodeEventStream)', async () => {
    const body = new PassThrough();
    body.end(Buffer.concat([frame('a', {}), frame('b', {})]));
    const out: unknown[] = [];
    for await (const type of eventFeed(body, (m) => m.headers[':event-type'])) out.push(type);
    expect(out).toEqual(['a', 'b']);
  });
});

describe('untilDone', () => {
  const typeOf = (m: EventStreamMessage) => m.headers[':event-type'];

  it('keeps a feed a feed, and runs done once at its end, its failure or its cancel', async () => {
    for (const how of ['end', 'error', 'cancel'] as const) {
      const body = new PassThrough();
      let done = 0;
      const wrapped = untilDone(eventFeed(body, typeOf), () => done++);
      expect(isEventFeed(wrapped)).toBe(true);
      if (!isEventFeed(wrapped)) return;
      const batches: unknown[][] = [];
      const outcome = new Promise<string>((resolve) => {
        const control = wrapped.listen({
          events: (batch) => {
            batches.push(batch);
            if (how === 'cancel') {
              control.cancel();
              control.cancel();
              resolve('cancelled');
            }
          },
          end: () => resolve('end'),
          error: () => resolve('error'),
        });
      });
      body.write(frame('a', {}));
      if (how === 'end') body.end();
      if (how === 'error') setImmediate(() => body.destroy(new Error('reset')));
      expect(await outcome).toBe(how === 'cancel' ? 'cancelled' : how);
      expect(batches).toEqual([['a']]);
      expect(done).toBe(1);
    }
  });

  it('wraps a plain iterable as before: done when the loop ends or stops early', async () => {
    let done = 0;
    async function* events() {
      yield 1;
      yield 2;
    }
    const seen: number[] = [];
    for await (const n of untilDone(events(), () => done++)) seen.push(n);
    expect(seen).toEqual([1, 2]);
    expect(done).toBe(1);
    for await (const _n of untilDone(events(), () => done++)) break;
    expect(done).toBe(2);
  });
});
