/**
 * Message threads: a request's `thread` field (the `message-threads` beta) asks the server to hold the
 * conversation between turns, so each request sends only the new messages. The Anthropic SDK's
 * `toolRunner` and `beta.messages.thread()` use them by default: `{"type":"create"}` with the whole
 * history, then `{"type":"continue","previous_message_id":…}` with only the new turn, and neither
 * `system` nor `tools` (the thread keeps the ones it was created with).
 *
 * The gateway holds each thread in memory, bound to the key that made it, until it is continued, idle
 * for an hour or pushed out by newer ones past ABPROXY_THREADS_MAX_MB. A continue it cannot find (a
 * restart, another team instance, an eviction, another key's thread) is 404 with `error_code`
 * `thread_not_found`, on which the SDK replays the whole history under a new thread: a lost thread costs
 * one round trip, never the conversation. Bedrock is always sent the whole history, as without threads.
 */
import { ApiError } from '../../anthropic/errors.ts';
import type { MessageParam, MessagesRequest, MessagesResponse, StreamEvent } from '../../anthropic/types.ts';
import { foldStream } from '../../translate/fold-stream.ts';
import type { OutgoingEvent } from '../../translate/stream-translator.ts';

const IDLE_MS = 60 * 60 * 1000;

interface HeldThread {
  keyId: string;
  system: MessagesRequest['system'];
  tools: MessagesRequest['tools'];
  messages: MessageParam[];
  /** Approximate size (JSON characters), for the store's bound. */
  size: number;
  heldAt: number;
}

/** Threads by the id of their last reply; oldest first (a Map keeps insertion order), so eviction is LRU. */
export class ThreadStore {
  readonly #threads = new Map<string, HeldThread>();
  readonly #maxSize: number;
  readonly #now: () => number;
  #size = 0;

  constructor(maxBytes: number, now: () => number = Date.now) {
    this.#maxSize = maxBytes;
    this.#now = now;
  }

  /** Takes the thread ending in reply `id` out of the store, if `keyId` made it and it is still held. */
  take(id: string, keyId: string): HeldThread | undefined {
    const thread = this.#threads.get(id);
    if (!thread) return undefined;
    if (thread.keyId !== keyId) return undefined;
    this.#remove(id, thread);
    if (this.#now() - thread.heldAt > IDLE_MS) return undefined;
    return thread;
  }

  /** Holds `thread` under reply `id`, dropping the oldest threads while the store is over its size. */
  put(id: string, contents: Omit<HeldThread, 'heldAt'>): void {
    if (contents.size > this.#maxSize) return;
    const old = this.#threads.get(id);
    if (old) this.#remove(id, old);
    const now = this.#now();
    this.#threads.set(id, { ...contents, heldAt: now });
    this.#size += contents.size;
    for (const [oldestId, oldest] of this.#threads) {
      if (this.#size <= this.#maxSize && now - oldest.heldAt <= IDLE_MS) break;
      this.#remove(oldestId, oldest);
    }
  }

  /** Threads held now (tests). */
  get count(): number {
    return this.#threads.size;
  }

  #remove(id: string, thread: HeldThread): void {
    this.#threads.delete(id);
    this.#size -= thread.size;
  }
}

/** One request's part in a thread. */
export interface ThreadTurn {
  /** The body to serve: the thread's history, system and tools put back, without `thread`. */
  body: Record<string, unknown>;
  /** This turn's reply (the whole message): held as the thread's next state, under the reply's id. */
  record(reply: MessagesResponse): void;
  /** The turn is over: a continue that got no reply puts its thread back, so the client's retry finds it. */
  end(): void;
}

function threadNotFound(id: string): ApiError {
  return new ApiError(
    'not_found_error',
    `thread: no thread ends in message ${id.slice(0, 100)} here (it may have expired); send the whole conversation under a new thread`,
    { details: { error_code: 'thread_not_found' } },
  );
}

const sizeOf = (value: unknown): number => JSON.stringify(value ?? null).length;

/**
 * The thread part of a parsed request body, or undefined when it names none. Throws the client's error
 * for a malformed `thread`, a continue that repeats `system` or `tools`, or a thread not held here.
 */
export function openThreadTurn(
  body: Record<string, unknown>,
  keyId: string,
  store: ThreadStore | undefined,
): ThreadTurn | undefined {
  const { thread, ...rest } = body;
  if (thread === undefined || thread === null) return undefined;
  if (typeof thread !== 'object' || Array.isArray(thread))
    throw ApiError.invalid('thread: expected an object with a type of create or continue');
  const { type, previous_message_id: previousId } = thread as Record<string, unknown>;
  if (type !== 'create' && type !== 'continue')
    throw ApiError.invalid(`thread.type: expected create or continue`);
  const messages = Array.isArray(rest.messages) ? (rest.messages as MessageParam[]) : undefined;

  let held: HeldThread | undefined;
  let served = rest;
  if (type === 'continue') {
    if (typeof previousId !== 'string' || previousId === '')
      throw ApiError.invalid('thread.previous_message_id: expected the id of the reply to continue from');
    for (const field of ['system', 'tools'] as const) {
      if (rest[field] !== undefined)
        throw ApiError.invalid(
          `${field}: a thread keeps the ${field} it was created with; start a new thread to change it`,
        );
    }
    if (messages === undefined) throw ApiError.invalid('messages: expected a list');
    held = store?.take(previousId, keyId);
    if (!held) throw threadNotFound(previousId);
    served = { ...rest, messages: [...held.messages, ...messages] };
    if (held.system !== undefined) served.system = held.system;
    if (held.tools !== undefined) served.tools = held.tools;
  }

  let recorded = false;
  const heldBefore = held;
  return {
    body: served,
    record(reply) {
      recorded = true;
      // A refused turn is not part of the thread (the SDK starts a new one after it).
      if (!store || reply.stop_reason === 'refusal') return;
      const turnMessages = (served.messages as MessageParam[]) ?? [];
      const added = heldBefore ? (messages ?? []) : turnMessages;
      const answer: MessageParam = { role: 'assistant', content: reply.content as MessageParam['content'] };
      store.put(reply.id, {
        keyId,
        system: served.system as MessagesRequest['system'],
        tools: served.tools as MessagesRequest['tools'],
        messages: [...turnMessages, answer],
        size:
          (heldBefore?.size ?? sizeOf(served.system) + sizeOf(served.tools)) + sizeOf(added) + sizeOf(answer),
      });
    },
    end() {
      if (!recorded && heldBefore && store && typeof previousId === 'string')
        store.put(previousId, heldBefore);
    },
  };
}

/** An event as sent: formatted frames (passed through as Bedrock sent them) are read back. */
function parsed(event: OutgoingEvent): StreamEvent {
  if (!('frame' in event)) return event;
  const data = event.frame.indexOf('\ndata: ');
  return JSON.parse(event.frame.slice(data + 7)) as StreamEvent;
}

/** A stream that ended normally: its reply, folded from the events sent, is held for the thread. */
export function recordStreamedReply(thread: ThreadTurn, events: readonly OutgoingEvent[]): void {
  let reply: MessagesResponse;
  try {
    reply = foldStream(events.filter((e) => e.type !== 'ping' && e.type !== 'error').map(parsed));
  } catch {
    return; // not a whole reply: the thread is not held, and its continue gets thread_not_found
  }
  thread.record(reply);
}
