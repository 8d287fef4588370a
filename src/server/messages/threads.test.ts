import { describe, expect, it } from 'vitest';
import type { MessagesResponse } from '../../anthropic/types.ts';
import { openThreadTurn, ThreadStore } from './threads.ts';

const reply = (
  id: string,
  text: string,
  stop: MessagesResponse['stop_reason'] = 'end_turn',
): MessagesResponse => ({
  id,
  type: 'message',
  role: 'assistant',
  model: 'm',
  content: [{ type: 'text', text }],
  stop_reason: stop,
  stop_sequence: null,
  usage: {
    input_tokens: 1,
    output_tokens: 1,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: null,
  },
});

const user = (text: string) => ({ role: 'user', content: text });

function turn(store: ThreadStore, body: Record<string, unknown>, keyId = 'key_a') {
  return openThreadTurn({ model: 'm', max_tokens: 10, ...body }, keyId, store);
}

describe('message threads', () => {
  it('a create holds the conversation under the reply id; a continue takes it, with system and tools put back', () => {
    const store = new ThreadStore(1 << 20);
    const created = turn(store, { thread: { type: 'create' }, system: 'sys', messages: [user('hi')] })!;
    expect(created.body.thread).toBeUndefined();
    created.record(reply('msg_1', 'hello'));
    created.end();
    const next = turn(store, {
      thread: { type: 'continue', previous_message_id: 'msg_1' },
      messages: [user('again')],
    })!;
    expect(next.body).toMatchObject({
      system: 'sys',
      messages: [
        user('hi'),
        { role: 'assistant', content: [{ type: 'text', text: 'hello' }] },
        user('again'),
      ],
    });
    // Taken: a second continue of the same reply is not found.
    expect(() =>
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_1' }, messages: [] }),
    ).toThrow(/no thread ends in message msg_1/);
  });

  it('a continue that gets no reply gives the thread back; a refusal is not held', () => {
    const store = new ThreadStore(1 << 20);
    const created = turn(store, { thread: { type: 'create' }, messages: [user('hi')] })!;
    created.record(reply('msg_1', 'hello'));
    const failed = turn(store, {
      thread: { type: 'continue', previous_message_id: 'msg_1' },
      messages: [user('x')],
    })!;
    failed.end(); // the upstream call failed: no record()
    const retried = turn(store, {
      thread: { type: 'continue', previous_message_id: 'msg_1' },
      messages: [user('x')],
    })!;
    retried.record(reply('msg_2', 'no', 'refusal'));
    retried.end();
    expect(store.count).toBe(0);
  });

  it("another key's thread is not found, and stays held for its owner", () => {
    const store = new ThreadStore(1 << 20);
    turn(store, { thread: { type: 'create' }, messages: [user('mine')] }, 'key_a')!.record(
      reply('msg_1', 'ok'),
    );
    expect(() =>
      turn(
        store,
        { thread: { type: 'continue', previous_message_id: 'msg_1' }, messages: [user('x')] },
        'key_b',
      ),
    ).toThrow(expect.objectContaining({ status: 404, details: { error_code: 'thread_not_found' } }));
    expect(store.count).toBe(1);
  });

  it('past its size the store drops the oldest threads; an hour idle, a thread is gone', () => {
    let now = 0;
    const store = new ThreadStore(8_000, { now: () => now });
    // Twenty keys, one thread each of ~400 bytes: past 8,000 bytes the oldest keys lose theirs.
    for (let i = 0; i < 20; i++) {
      turn(store, { thread: { type: 'create' }, messages: [user('x'.repeat(300))] }, `key_${i}`)!.record(
        reply(`msg_${i}`, 'ok'),
      );
    }
    expect(store.count).toBeLessThan(20);
    expect(store.bytes).toBeLessThanOrEqual(8_000);
    expect(() =>
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_0' }, messages: [] }, 'key_0'),
    ).toThrow(/no thread/);
    turn(
      store,
      { thread: { type: 'continue', previous_message_id: 'msg_19' }, messages: [user('y')] },
      'key_19',
    )!.record(reply('msg_20', 'ok'));
    now += 61 * 60 * 1000;
    expect(() =>
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_20' }, messages: [] }, 'key_19'),
    ).toThrow(/no thread/);
  });

  it("one key holds at most a quarter of the store: its own oldest go first, not other keys' threads", () => {
    const store = new ThreadStore(8_000);
    turn(store, { thread: { type: 'create' }, messages: [user('other key')] }, 'key_b')!.record(
      reply('msg_b', 'ok'),
    );
    for (let i = 0; i < 30; i++) {
      turn(store, { thread: { type: 'create' }, messages: [user('x'.repeat(300))] }, 'key_a')!.record(
        reply(`msg_${i}`, 'ok'),
      );
    }
    // key_a's newest is held, its oldest are gone, key_b's thread is untouched.
    expect(() =>
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_0' }, messages: [] }, 'key_a'),
    ).toThrow(/no thread/);
    expect(
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_29' }, messages: [] }, 'key_a'),
    ).toBeDefined();
    expect(
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_b' }, messages: [] }, 'key_b'),
    ).toBeDefined();
  });

  it('holds threads as JSON bytes, counts a lent one until its call ends, and refuses one no request could carry', () => {
    const store = new ThreadStore(1 << 20, { maxThreadBytes: 5_000 });
    // Many tiny values cost far more parsed than as JSON: what is held is the JSON.
    const wide = { role: 'user', content: [{ type: 'text', text: JSON.stringify(Array(500).fill({})) }] };
    turn(store, { thread: { type: 'create' }, messages: [wide] })!.record(reply('msg_1', 'ok'));
    const size = store.bytes;
    expect(size).toBeGreaterThan(1_000);
    const next = turn(store, {
      thread: { type: 'continue', previous_message_id: 'msg_1' },
      messages: [user('y')],
    })!;
    expect(next.heldBytes).toBe(size);
    expect(store.count).toBe(0);
    expect(store.bytes).toBe(size); // lent, still counted
    next.record(reply('msg_2', 'ok'));
    expect(store.bytes).toBeGreaterThan(size);
    expect(store.count).toBe(1);
    // Past the largest body: not held (its continue is thread_not_found, and the SDK replays).
    turn(store, { thread: { type: 'create' }, messages: [user('z'.repeat(6_000))] })!.record(
      reply('msg_3', 'ok'),
    );
    expect(() =>
      turn(store, { thread: { type: 'continue', previous_message_id: 'msg_3' }, messages: [] }),
    ).toThrow(/no thread/);
  });
});
