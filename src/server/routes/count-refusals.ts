/**
 * Which models Bedrock recently refused to count tokens for. Bounded on both axes: at most `maxModels`
 * entries (the oldest goes first; pass-through ids are client-chosen), each forgotten after `ttlMs`, so
 * a model that gains CountTokens is tried again without a restart.
 */
export interface CountRefusalsOptions {
  maxModels?: number;
  ttlMs?: number;
  now?: () => number;
}

export class CountRefusals {
  readonly #until = new Map<string, number>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor({ maxModels = 256, ttlMs = 15 * 60_000, now = Date.now }: CountRefusalsOptions = {}) {
    this.#max = maxModels;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** True while a refusal for this model is remembered. */
  has(modelId: string): boolean {
    const until = this.#until.get(modelId);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(modelId);
    return false;
  }

  remember(modelId: string): void {
    this.#until.delete(modelId);
    if (this.#until.size >= this.#max) this.#until.delete(this.#until.keys().next().value!);
    this.#until.set(modelId, this.#now() + this.#ttlMs);
  }

  get size(): number {
    return this.#until.size;
  }
}
