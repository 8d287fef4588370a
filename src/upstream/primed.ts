/**
 * A stream's first events awaited before its call counts as answered. Bedrock may answer a stream call
 * 200 and then fail at once, in its first frame (an in-stream throttlingException, say): the pool waits
 * for the first events so that such a failure is its attempt's, moved to the next upstream, rather than
 * the client's stream's. The events are handed on as they came, in push mode when the stream had it.
 */
import { type EventFeed, type EventFeedControl, type EventListener, isEventFeed } from './event-stream.ts';

/**
 * Resolves, once the stream gave its first events or ended, to a stream of the same events (those
 * first ones included); rejects when it fails before any.
 */
export function primed<T>(stream: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  return isEventFeed(stream) ? primedFeed(stream) : primedIterable(stream);
}

async function primedIterable<T>(stream: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { [Symbol.asyncIterator]: () => replay(first, iterator) };
}

async function* replay<T>(first: IteratorResult<T>, iterator: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    for (let next = first; !next.done; next = await iterator.next()) yield next.value;
  } finally {
    await iterator.return?.();
  }
}

function primedFeed<T>(feed: EventFeed<T>): Promise<EventFeed<T>> {
  return new Promise((resolve, reject) => {
    /** Events held until someone listens (the underlying feed is paused meanwhile). */
    let held: T[] = [];
    let ended = false;
    let failure: { err: unknown } | undefined;
    let listener: EventListener<T> | undefined;
    /** The listener has had the held events (and any end or failure that came with them). */
    let handedOver = false;
    /** The feed gave events before listen() returned its control: pause it as soon as it has. */
    let pauseAtOnce = false;
    const answered = () => resolve(replaying);

    let underlying: EventFeedControl | undefined;
    underlying = feed.listen({
      events(batch) {
        if (handedOver) return listener!.events(batch);
        for (const event of batch) held.push(event);
        // Not read on until someone listens: backpressure, as in any paused stream.
        if (underlying) underlying.pause();
        else pauseAtOnce = true;
        answered();
      },
      end() {
        if (handedOver) return listener!.end();
        ended = true;
        answered();
      },
      error(err) {
        if (handedOver) return listener!.error(err);
        if (held.length === 0 && !ended && listener === undefined) return reject(err);
        failure = { err };
      },
    });
    if (pauseAtOnce) underlying.pause();
    const feedControl = underlying;

    const replaying: EventFeed<T> = {
      [Symbol.asyncIterator]: () => pulled(replaying),
      listen(next) {
        listener = next;
        let cancelled = false;
        let paused = false;
        const control: EventFeedControl = {
          pause() {
            paused = true;
            feedControl.pause();
          },
          resume() {
            paused = false;
            feedControl.resume();
          },
          cancel() {
            cancelled = true;
            feedControl.cancel();
          },
        };
        // After listen() returned: the listener may use its control from its first callback on.
        queueMicrotask(() => {
          if (cancelled) return;
          const events = held;
          held = [];
          if (events.length > 0) next.events(events);
          handedOver = true;
          if (cancelled) return;
          if (failure) next.error(failure.err);
          else if (ended) next.end();
          else if (!paused) feedControl.resume();
        });
        return control;
      },
    };
  });
}

/** A push-mode feed read as an async iterator: one batch at a time, the feed paused while it waits. */
async function* pulled<T>(feed: EventFeed<T>): AsyncGenerator<T> {
  const queue: T[] = [];
  let done = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  let control: EventFeedControl | undefined;
  control = feed.listen({
    events(batch) {
      for (const event of batch) queue.push(event);
      control?.pause();
      wake?.();
    },
    end() {
      done = true;
      wake?.();
    },
    error(err) {
      failure = { err };
      done = true;
      wake?.();
    },
  });
  try {
    for (;;) {
      for (let i = 0; i < queue.length; i++) yield queue[i]!;
      queue.length = 0;
      if (done) {
        if (failure) throw failure.err;
        return;
      }
      const more = new Promise<void>((resolve) => {
        wake = resolve;
      });
      control.resume();
      await more;
      wake = undefined;
    }
  } finally {
    if (!done) control.cancel();
  }
}
