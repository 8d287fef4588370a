/** Scripted turns: what the next model call answers, or how it fails. */

export interface ScriptToolCall {
  name: string;
  input?: unknown;
  id?: string;
}

export interface ScriptTurn {
  /** Only a call whose model id contains this substring consumes the turn. */
  model?: string;
  text?: string;
  reasoning?: { text?: string; signature?: string; redacted?: string };
  toolCalls?: ScriptToolCall[];
  stopReason?: string;
  /** Which stop sequence matched when stopReason is `stop_sequence` (default: the request's first). */
  stopSequence?: string;
  usage?: {
    inputTokens?: number;
    outputTokens?: number;
    cacheReadInputTokens?: number;
    cacheWriteInputTokens?: number;
  };
  /**
   * Claude (InvokeModel): a server-side compaction ran first and cost this much. As Bedrock's compaction
   * page says, the top-level usage leaves it out and `usage.iterations` lists it with the message's own.
   */
  compaction?: { inputTokens: number; outputTokens: number };
  /**
   * Fail before any response byte: exception name, optional status (defaults to Bedrock's), message and
   * `retry-after` header (seconds).
   */
  error?: { name: string; status?: number; message?: string; retryAfter?: number };
  /** Streams only: send this many events, then an exception frame. */
  errorAfterEvents?: { events: number; name: string; message?: string };
  /** Wait this long before answering (headers included). */
  delayMs?: number;
  /** Pause between stream events. */
  chunkDelayMs?: number;
  /** Characters per text / tool-input delta. */
  chunkSize?: number;
}

export class ScriptQueue {
  #turns: ScriptTurn[] = [];

  enqueue(...turns: ScriptTurn[]): void {
    for (const turn of turns) this.#turns.push(validateTurn(turn));
  }

  /** Removes and returns the first turn meant for this model. */
  take(modelId: string): ScriptTurn | undefined {
    const index = this.#turns.findIndex((t) => !t.model || modelId.includes(t.model));
    if (index < 0) return undefined;
    return this.#turns.splice(index, 1)[0];
  }

  get pending(): number {
    return this.#turns.length;
  }

  clear(): void {
    this.#turns = [];
  }
}

function validateTurn(turn: unknown): ScriptTurn {
  if (typeof turn !== 'object' || turn === null || Array.isArray(turn)) {
    throw new TypeError('a script turn must be an object');
  }
  const t = turn as ScriptTurn;
  if (t.error && typeof t.error.name !== 'string') throw new TypeError('script error needs a name');
  if (
    t.errorAfterEvents &&
    (!Number.isInteger(t.errorAfterEvents.events) || typeof t.errorAfterEvents.name !== 'string')
  ) {
    throw new TypeError('errorAfterEvents needs events (integer) and name');
  }
  for (const call of t.toolCalls ?? []) {
    if (typeof call.name !== 'string') throw new TypeError('every tool call needs a name');
  }
  return t;
}
