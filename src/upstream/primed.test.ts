import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventFrame, exceptionFrame } from '../../test/emulator/eventstream.ts';
import { converseEvents } from './codec.ts';
import { type EventFeed, isEventFeed } from './event-stream.ts';
import { primed } from './primed.ts';

const delta = (text: string) => eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } });

/** A Converse event feed over a body whose chunks are written as `chunks` says, one per turn. */
function feedOf(chunks: Uint8Array[], thenEnd = true) {
  const body = new PassThrough();
  (async () => {
    for (const chunk of chunks) {
      body.write(Buffer.from(chunk));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (thenEnd) body.end();
  })();
  return { feed: converseEvents(body), body };
}

/** Every event of a feed in push mode, and how it ended. */
function listened<T>(feed: EventFeed<T>): Promise<{ events: T[]; err?: unknown }> {
  return new Promise((resolve) => {
    const events: T[] = [];
    feed.listen({
      events: (batch) => events.push(...batch),
      end: () => resolve({ events }),
      error: (err) => resolve({ events, err }),
    });
  });
}

const texts = (events: unknown[]) =>
  events.map(
    (e) => (e as { contentBlockDelta?: { delta?: { text?: string } } }).contentBlockDelta?.delta?.text,
  );

describe('primed', () => {
  it('rejects a stream whose first frame is an exception: the attempt fails, not the stream', async () => {
    const { feed } = feedOf([exceptionFrame('throttlingException', 'slow down'), delta('never')]);
    await expect(primed(feed)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('hands on every event in order, in push mode, the first ones included', async () => {
    const { feed } = feedOf([delta('a'), delta('b'), Buffer.concat([delta('c'), delta('d')])]);
    const stream = await primed(feed);
    expect(isEventFeed(stream)).toBe(true);
    const { events, err } = await listened(stream as EventFeed<unknown>);
    expect(err).toBeUndefined();
    expect(texts(events)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a failure after the first events reaches the listener after them', async () => {
    const { feed } = feedOf([delta('a'), exceptionFrame('modelStreamErrorException', 'broke')]);
    const { events, err } = await listened((await primed(feed)) as EventFeed<unknown>);
    expect(texts(events)).toEqual(['a']);
    expect(err).toMatchObject({ name: 'ModelStreamErrorException' });
  });

  it('reads as an async iterator too, and from a plain iterable', async () => {
    const { feed } = feedOf([delta('a'), delta('b'), delta('c')]);
    const seen: unknown[] = [];
    for await (const event of await primed(feed)) seen.push(event);
    expect(texts(seen)).toEqual(['a', 'b', 'c']);

    async function* plain() {
      yield 1;
      yield 2;
    }
    const out: number[] = [];
    for await (const n of await primed(plain())) out.push(n);
    expect(out).toEqual([1, 2]);
    async function* failing(): AsyncGenerator<number> {
      if (out.length > 0) throw new Error('at once');
      yield 0;
    }
    await expect(primed(failing())).rejects.toThrow('at once');
  });

  it('an empty stream is an answer (it ends), not a failure', async () => {
    const { feed } = feedOf([]);
    const { events, err } = await listened((await primed(feed)) as EventFeed<unknown>);
    expect(events).toEqual([]);
    expect(err).toBeUndefined();
  });

  it('holds the body while nobody listens (backpressure), and cancel releases it', async () => {
    const { feed, body } = feedOf([delta('a'), delta('b')], false);
    const stream = (await primed(feed)) as EventFeed<unknown>;
    expect(body.isPaused()).toBe(true);
    const control = stream.listen({ events: () => control.cancel(), end: () => {}, error: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(body.destroyed).toBe(true);
  });
});
