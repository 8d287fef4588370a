import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { DispatchedBody } from './dispatched-body.ts';

/** undici's controller as the body uses it: pause, resume, abort (recorded). */
function controller() {
  const calls: string[] = [];
  const c = {
    calls,
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    abort: (reason: unknown) => calls.push(`abort:${(reason as Error).message}`),
  };
  return c as typeof c & Dispatcher.DispatchController;
}
const tick = () => new Promise((resolve) => setImmediate(resolve));
const chunk = (text: string) => Buffer.from(text);

describe('DispatchedBody', () => {
  it('hands over chunks that came before anyone listened, in order, then the end', async () => {
    const body = new DispatchedBody(controller());
    body.push(chunk('a'));
    body.push(chunk('b'));
    body.complete();
    const seen: string[] = [];
    body.on('data', (c) => seen.push(Buffer.from(c).toString()));
    body.on('end', () => seen.push('end'));
    body.on('error', (err) => seen.push(`error:${err.message}`));
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual(['a', 'b', 'end']);
  });

  it('hands a chunk to a listening reader at once, and queues it while the reader pauses', async () => {
    const c = controller();
    const body = new DispatchedBody(c);
    const seen: string[] = [];
    body.on('data', (d) => seen.push(Buffer.from(d).toString()));
    body.on('end', () => seen.push('end'));
    await tick();
    body.push(chunk('live'));
    expect(seen).toEqual(['live']);
    body.pause();
    body.push(chunk('held'));
    body.complete();
    await tick();
    expect(seen).toEqual(['live']);
    expect(c.calls).toEqual(['pause']);
    body.resume();
    await tick();
    expect(seen).toEqual(['live', 'held', 'end']);
  });

  it('pauses the socket when nobody reads a growing queue, and resumes it as an iterator drains it', async () => {
    const c = controller();
    const body = new DispatchedBody(c);
    for (let i = 0; i < 20; i++) body.push(chunk(String(i)));
    expect(c.calls).toEqual(['pause']);
    const iterator = body[Symbol.asyncIterator]();
    const read: string[] = [];
    for (let i = 0; i < 13; i++) read.push(Buffer.from((await iterator.next()).value!).toString());
    expect(c.calls).toEqual(['pause', 'resume']);
    body.complete();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      read.push(Buffer.from(next.value).toString());
    }
    expect(read).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('an iterator that stops early releases the call; a failure reaches the reader', async () => {
    const c = controller();
    const body = new DispatchedBody(c);
    body.push(chunk('x'));
    for await (const _ of body) break;
    expect(c.calls.at(-1)).toMatch(/^abort:/);
    expect(body.destroyed).toBe(true);

    const failing = new DispatchedBody(controller());
    const text = failing.text(1024, () => new Error('too large'));
    failing.push(chunk('partial'));
    failing.fail(new Error('socket hang up'));
    await expect(text).rejects.toThrow('socket hang up');
    expect(failing.errored?.message).toBe('socket hang up');
    const errors: string[] = [];
    const late = new DispatchedBody(controller());
    late.fail(new Error('gone'));
    late.on('error', (err) => errors.push(err.message));
    await tick();
    expect(errors).toEqual(['gone']);
  });
});
