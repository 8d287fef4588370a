/**
 * Message threads: a request's `thread` field (the `message-threads` beta) asks the server to hold the
 * conversation between turns, so each request sends only the new messages. The Anthropic SDK's
 * `toolRunner` and `beta.messages.thread()` use them by default: `{"type":"create"}` with the whole
 * history, then `{"type":"continue","previous_message_id":…}` with only the new turn, and neither
 * `system` nor `tools` (the thread keeps the ones it was created with).
 *
 * The gateway holds each thread in memory, bound to the key that made it, until it is continued, idle
 * for an hour or pushed out by newer ones. A continue it cannot find (a restart, another team instance,
 * an eviction, another key's thread) is 404 with `error_code` `thread_not_found`, on which the SDK
 * replays the whole history under a new thread: a lost thread costs one round trip, never the
 * conversation. Bedrock is always sent the whole history, as without threads.
 *
 * Memory: a thread is held as its JSON bytes (parsed objects cost 2–27× their JSON, which a client
 * shapes), so ABPROXY_THREADS_MAX_BYTES bounds what is really held. One key holds at most a quarter of
 * it (its own oldest go first), so one client cannot push every other key's threads out. A thread is
 * held only if it would pass as one request body (the size and value-count limits); a thread lent to
 * the continue serving it stays counted until that call ends, and the handler charges its bytes to the
 * request-body budget, as if the client had sent them.
 */
import { ApiError } from '../../anthropic/errors.ts';
import type { MessageParam, MessagesRequest, MessagesResponse, StreamEvent } from '../../anthropic/types.ts';
import { foldStream } from '../../translate/fold-stream.ts';
import type { OutgoingEvent } from '../../translate/stream-translator.ts';
import { hasMoreJsonValues, MAX_JSON_VALUES } from '../http/json-values.ts';

const IDLE_MS = 60 * 60 * 1000;
/** The share of the store one key may hold. */
const KEY_SHARE = 4;

/** What a thread keeps between turns. */
interface ThreadState {
  system: MessagesRequest['system'];
  tools: MessagesRequest['tools'];
  messages: MessageParam[];
}

interface HeldThread {
  keyId: string;
  /** ThreadState as UTF-8 JSON: what it costs is its length. */
  json: Buffer;
  heldAt: number;
}

export interface ThreadStoreOptions {
  /** Largest JSON of one thread: a request body could be no larger (ABPROXY_MAX_BODY_BYTES). */
  maxThreadBytes?: number;
  now?: () => number;
}

/** Threads by the id of their last reply; oldest first (a Map keeps insertion order), so eviction is LRU. */
export class ThreadStore {
  readonly #threads = new Map<string, HeldThread>();
  readonly #byKey = new Map<string, number>();
  readonly #maxBytes: number;
  readonly #maxThreadBytes: number;
  /** The largest request body (ABPROXY_MAX_BODY_BYTES): a continue's whole conversation must fit too. */
  readonly maxRequestBytes: number;
  readonly #now: () => number;
  #held = 0;
  /** Bytes of threads taken by a continue that has not ended. */
  #lent = 0;

  constructor(maxBytes: number, options: ThreadStoreOptions = {}) {
    this.#maxBytes = maxBytes;
    this.maxRequestBytes = options.maxThreadBytes ?? maxBytes;
    this.#maxThreadBytes = Math.min(this.maxRequestBytes, Math.floor(maxBytes / KEY_SHARE));
    this.#now = options.now ?? Date.now;
  }

  /** Takes the thread ending in reply `id` out of the store, if `keyId` made it and it is still held. */
  take(id: string, keyId: string): HeldThread | undefined {
    const thread = this.#threads.get(id);
    if (!thread || thread.keyId !== keyId) return undefined;
    this.#remove(id, thread);
    if (this.#now() - thread.heldAt > IDLE_MS) return undefined;
    this.#lend(thread, 1);
    return thread;
  }

  /** The continue that took `thread` ended: it no longer counts (it is held again, or replaced). */
  returned(thread: HeldThread): void {
    this.#lend(thread, -1);
  }

  /**
   * Holds `json` under reply `id` for `keyId`, dropping that key's oldest threads past its share and then
   * anyone's oldest past the store's size. A thread that could not pass as one request is not held.
   */
  put(id: string, keyId: string, json: Buffer): boolean {
    if (json.length > this.#maxThreadBytes || hasMoreJsonValues(json, MAX_JSON_VALUES)) return false;
    const old = this.#threads.get(id);
    if (old) this.#remove(id, old);
    const now = this.#now();
    this.#threads.set(id, { keyId, json, heldAt: now });
    this.#held += json.length;
    this.#byKey.set(keyId, (this.#byKey.get(keyId) ?? 0) + json.length);
    const share = Math.floor(this.#maxBytes / KEY_SHARE);
    for (const [oldestId, oldest] of this.#threads) {
      if ((this.#byKey.get(keyId) ?? 0) <= share) break;
      if (oldest.keyId === keyId && oldestId !== id) this.#remove(oldestId, oldest);
    }
    for (const [oldestId, oldest] of this.#threads) {
      if (this.#held + this.#lent <= this.#maxBytes && now - oldest.heldAt <= IDLE_MS) break;
      this.#remove(oldestId, oldest);
    }
    return this.#threads.has(id);
  }

  /** Threads held now, and their bytes (tests, metrics). */
  get count(): number {
    return this.#threads.size;
  }

  get bytes(): number {
    return this.#held + this.#lent;
  }

  #lend(thread: HeldThread, sign: 1 | -1): void {
    this.#lent += sign * thread.json.length;
  }

  #remove(id: string, thread: HeldThread): void {
    this.#threads.delete(id);
    this.#held -= thread.json.length;
    const left = (this.#byKey.get(thread.keyId) ?? 0) - thread.json.length;
    if (left > 0) this.#byKey.set(thread.keyId, left);
    else this.#byKey.delete(thread.keyId);
  }
}

/** One request's part in a thread. */
export interface ThreadTurn {
  /** The body to serve: the thread's history, system and tools put back, without `thread`. */
  body: Record<string, unknown>;
  /** Bytes of history put back (the handler charges them to the request-body budget). */
  heldBytes: number;
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

/** A JSON object body with a `thread` (validation refuses any other body later, with its own words). */
function namesThread(body: unknown): body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const { thread } = body as Record<string, unknown>;
  return thread !== undefined && thread !== null;
}

/**
 * The `thread` of a body, checked (a continue may not repeat `system` or `tools`): undefined when it
 * names none.
 */
function threadOf(
  thread: unknown,
  rest: Record<string, unknown>,
): { type: 'create' } | { type: 'continue'; previousId: string } | undefined {
  if (thread === undefined || thread === null) return undefined;
  if (typeof thread !== 'object' || Array.isArray(thread))
    throw ApiError.invalid('thread: expected an object with a type of create or continue');
  const { type, previous_message_id: previousId } = thread as Record<string, unknown>;
  if (type === 'create') return { type };
  if (type !== 'continue') throw ApiError.invalid('thread.type: expected create or continue');
  if (typeof previousId !== 'string' || previousId === '')
    throw ApiError.invalid('thread.previous_message_id: expected the id of the reply to continue from');
  for (const field of ['system', 'tools'] as const) {
    if (rest[field] !== undefined)
      throw ApiError.invalid(
        `${field}: a thread keeps the ${field} it was created with; start a new thread to change it`,
      );
  }
  return { type, previousId };
}

/**
 * A continue's body with the thread's history, system and tools put back. The whole conversation must
 * fit in one request, as it would have without the thread.
 */
function continued(rest: Record<string, unknown>, json: Buffer, maxBytes: number): Record<string, unknown> {
  if (!Array.isArray(rest.messages)) throw ApiError.invalid('messages: expected a list');
  const size = json.length + JSON.stringify(rest.messages).length;
  if (size > maxBytes) {
    throw new ApiError(
      'request_too_large',
      `Request exceeds the maximum allowed number of bytes: the thread's conversation and this turn come to ${size} bytes, more than the ${maxBytes} one request may carry`,
    );
  }
  const state = JSON.parse(json.toString('utf8')) as ThreadState;
  const served: Record<string, unknown> = { ...rest, messages: [...state.messages, ...rest.messages] };
  if (state.system !== undefined) served.system = state.system;
  if (state.tools !== undefined) served.tools = state.tools;
  return served;
}

/**
 * The thread part of a parsed request body, or undefined when it names none. Throws the client's error
 * for a malformed `thread`, a continue that repeats `system` or `tools`, or a thread not held here.
 */
export function openThreadTurn(
  body: unknown,
  keyId: string,
  store: ThreadStore | undefined,
): ThreadTurn | undefined {
  // Most requests name no thread: no copy of the body for them.
  if (!namesThread(body)) return undefined;
  const { thread: raw, ...rest } = body;
  const thread = threadOf(raw, rest);
  if (!thread) return undefined;
  let held: HeldThread | undefined;
  let served = rest;
  if (thread.type === 'continue') {
    held = store?.take(thread.previousId, keyId);
    if (!held) throw threadNotFound(thread.previousId);
    try {
      served = continued(rest, held.json, store!.maxRequestBytes);
    } catch (err) {
      store!.returned(held);
      store!.put(thread.previousId, keyId, held.json);
      throw err;
    }
  }
  let ended = false;
  /** The turn's end: the thread as it now stands is held, or the one taken goes back, or neither. */
  const finish = (next: { replyId: string; state: ThreadState } | 'put back' | 'drop') => {
    if (ended) return;
    ended = true;
    if (!store) return;
    if (held) store.returned(held);
    if (typeof next === 'object') store.put(next.replyId, keyId, Buffer.from(JSON.stringify(next.state)));
    else if (next === 'put back' && held && thread.type === 'continue')
      store.put(thread.previousId, keyId, held.json);
  };
  return {
    body: served,
    heldBytes: held?.json.length ?? 0,
    record(reply) {
      // A refused turn is not part of the thread: the SDK starts a new one after it.
      if (reply.stop_reason === 'refusal') return finish('drop');
      const answer: MessageParam = { role: 'assistant', content: reply.content as MessageParam['content'] };
      finish({
        replyId: reply.id,
        state: {
          system: served.system as MessagesRequest['system'],
          tools: served.tools as MessagesRequest['tools'],
          // As the SDK does when it replays: the marks were for the request that first sent these
          // messages, and kept they would pile up turn after turn (past Bedrock's four).
          messages: [...(served.messages as MessageParam[]).map(withoutCacheControl), answer],
        },
      });
    },
    end() {
      finish('put back');
    },
  };
}

/** A copy of a message or block without its `cache_control` and that of the blocks inside it. */
function withoutCacheControl<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const { cache_control: _mark, ...copy } = value as Record<string, unknown>;
  for (const key of ['content', 'source']) {
    const nested = copy[key];
    if (Array.isArray(nested)) copy[key] = nested.map(withoutCacheControl);
    else if (nested !== null && typeof nested === 'object') copy[key] = withoutCacheControl(nested);
  }
  return copy as T;
}

/** An event as sent: formatted frames (passed through as Bedrock sent them) are read back. */
function parsed(event: OutgoingEvent): StreamEvent {
  if (!('frame' in event)) return event;
  // SSE: the data lines (`data:` and one optional space), joined by newlines; CRLF or LF.
  const data = event.frame
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
  return JSON.parse(data) as StreamEvent;
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

/**
 * count_tokens with a `thread`: the body with the thread's history put back, read without taking it
 * (the count changes nothing); a thread not held here is thread_not_found, as for a message.
 */
export function threadCountBody(body: unknown, keyId: string, store: ThreadStore | undefined): unknown {
  if (!namesThread(body)) return body;
  const { thread: raw, ...rest } = body;
  const thread = threadOf(raw, rest);
  if (!thread || thread.type === 'create') return rest;
  const held = store?.take(thread.previousId, keyId);
  if (!held) throw threadNotFound(thread.previousId);
  try {
    return continued(rest, held.json, store!.maxRequestBytes);
  } finally {
    store!.returned(held);
    store!.put(thread.previousId, keyId, held.json);
  }
}
