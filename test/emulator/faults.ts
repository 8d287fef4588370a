/**
 * Fault injection by rate or schedule, beside the turn-by-turn script: an emulator standing for a region
 * that throttles a share of calls, answers slowly, refuses connections or dies in the middle of streams,
 * and (with `models`) an account that only has some models. Set in-process (`emulator.setFaults`) or
 * through `POST /__emulator/faults`; see README.md.
 *
 * Rates are deterministic: `every: k` hits calls k, 2k, …; `percent: p` spreads exactly p of every 100
 * calls evenly (50 → every 2nd); with `seed` the p% are drawn from a seeded generator instead. Each fault
 * counts only the model calls (not CountTokens, not the control plane) made while it is active.
 * `afterMs`/`forMs` schedule a fault relative to the moment it was set.
 */
import { BedrockError } from './errors.ts';

export interface FaultRate {
  /** Every k-th call (1: all). */
  every?: number;
  /** This share of calls, 0–100 (default 100 when neither `every` nor `percent` is given). */
  percent?: number;
  /** With `percent`: a seeded random draw per call instead of the even spread. */
  seed?: number;
  /** Active from this long after the faults were set (default at once). */
  afterMs?: number;
  /** Active for this long (default for ever). */
  forMs?: number;
  /** Only calls whose model id contains this substring (and only they are counted). */
  model?: string;
}

export interface FaultPlan {
  /** Answer with an exception before any byte: ThrottlingException (429) unless `name` says otherwise. */
  throttle?: FaultRate & { name?: string; retryAfter?: number; message?: string };
  /** Hold the answer (headers included) this long. */
  slowFirstByte?: FaultRate & { ms: number };
  /**
   * Streams: after `afterEvents` events either send an exception frame (`how: "exception"`, the
   * default, `name` defaults to ServiceUnavailableException), drop the connection (`how: "disconnect"`),
   * or send the first half of the next event's frame and then drop it (`how: "torn"`: the body ends
   * inside a frame).
   */
  dieMidStream?: FaultRate & { afterEvents: number; how?: DieHow; name?: string };
  /** Destroy every TCP connection as it is accepted (and the open ones when set); `forMs` heals it. */
  refuseConnections?: boolean | { afterMs?: number; forMs?: number };
  /** Model-id substrings this account/region has; other models are missing from the catalogue and invalid. */
  models?: string[];
}

export type DieHow = 'exception' | 'disconnect' | 'torn';
const DIE_HOWS: readonly DieHow[] = ['exception', 'disconnect', 'torn'];

/** What a model call must suffer, decided once when it arrives. */
export interface CallFaults {
  throttle?: BedrockError;
  slowMs?: number;
  die?: { afterEvents: number; how: DieHow; name: string };
}

const KEYS = new Set(['throttle', 'slowFirstByte', 'dieMidStream', 'refuseConnections', 'models']);
const RATE_KEYS = new Set(['every', 'percent', 'seed', 'afterMs', 'forMs', 'model']);

/** mulberry32: small, seedable, good enough to pick calls. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function nonNegative(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where}: expected a non-negative number`);
  }
  return value;
}

class Rate {
  readonly #rate: FaultRate;
  readonly #since: number;
  readonly #random: (() => number) | undefined;
  #calls = 0;

  constructor(rate: FaultRate, where: string, extra: string[], since: number) {
    for (const key of Object.keys(rate)) {
      if (!RATE_KEYS.has(key) && !extra.includes(key)) throw new TypeError(`${where}.${key}: unknown field`);
    }
    const every = nonNegative(rate.every, `${where}.every`);
    if (every !== undefined && (!Number.isInteger(every) || every < 1)) {
      throw new TypeError(`${where}.every: expected an integer ≥ 1`);
    }
    const percent = nonNegative(rate.percent, `${where}.percent`);
    if (percent !== undefined && percent > 100) throw new TypeError(`${where}.percent: expected 0–100`);
    nonNegative(rate.afterMs, `${where}.afterMs`);
    nonNegative(rate.forMs, `${where}.forMs`);
    if (rate.model !== undefined && typeof rate.model !== 'string') {
      throw new TypeError(`${where}.model: expected a string`);
    }
    this.#rate = rate;
    this.#since = since;
    this.#random = rate.seed === undefined ? undefined : seeded(rate.seed);
  }

  /** Counts this call if the fault is active for it; true when the call is hit. */
  hits(modelId: string, now: number): boolean {
    const { every, percent, afterMs = 0, forMs, model } = this.#rate;
    if (model !== undefined && !modelId.includes(model)) return false;
    const elapsed = now - this.#since;
    if (elapsed < afterMs || (forMs !== undefined && elapsed >= afterMs + forMs)) return false;
    const n = ++this.#calls;
    if (every !== undefined) return n % every === 0;
    if (percent === undefined) return true;
    if (this.#random) return this.#random() * 100 < percent;
    return Math.floor((n * percent) / 100) > Math.floor(((n - 1) * percent) / 100);
  }
}

function windowOf(
  value: FaultPlan['refuseConnections'],
  since: number,
): ((now: number) => boolean) | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return () => true;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('refuseConnections: expected true or {afterMs?, forMs?}');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'afterMs' && key !== 'forMs') throw new TypeError(`refuseConnections.${key}: unknown field`);
  }
  const afterMs = nonNegative(value.afterMs, 'refuseConnections.afterMs') ?? 0;
  const forMs = nonNegative(value.forMs, 'refuseConnections.forMs');
  return (now) => {
    const elapsed = now - since;
    return elapsed >= afterMs && (forMs === undefined || elapsed < afterMs + forMs);
  };
}

type Throttle = { rate: Rate; error: () => BedrockError };
type Slow = { rate: Rate; ms: number };
type Die = { rate: Rate; die: NonNullable<CallFaults['die']> };

/** The faults in force on one emulator; `set` replaces them all (an empty plan clears them). */
export class Faults {
  #throttle: Throttle | undefined;
  #slow: Slow | undefined;
  #die: Die | undefined;
  #refusing: ((now: number) => boolean) | undefined;
  #models: string[] | undefined;
  #plan: FaultPlan = {};
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Validates and installs a plan; throws TypeError naming the field on a bad one (nothing changes). */
  set(plan: unknown): void {
    if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) {
      throw new TypeError('faults: expected an object');
    }
    const p = plan as FaultPlan;
    for (const key of Object.keys(p)) {
      if (!KEYS.has(key)) throw new TypeError(`${key}: unknown fault (known: ${[...KEYS].join(', ')})`);
    }
    const since = this.#now();
    let throttle: Throttle | undefined;
    if (p.throttle) {
      const t = p.throttle;
      const rate = new Rate(t, 'throttle', ['name', 'retryAfter', 'message'], since);
      const name = t.name ?? 'ThrottlingException';
      const retryAfter = nonNegative(t.retryAfter, 'throttle.retryAfter');
      throttle = {
        rate,
        error: () =>
          new BedrockError(
            name,
            t.message ?? 'Too many requests, please wait before trying again.',
            undefined,
            retryAfter,
          ),
      };
    }
    let slow: Slow | undefined;
    if (p.slowFirstByte) {
      const ms = nonNegative(p.slowFirstByte.ms, 'slowFirstByte.ms');
      if (ms === undefined) throw new TypeError('slowFirstByte.ms: required');
      slow = { rate: new Rate(p.slowFirstByte, 'slowFirstByte', ['ms'], since), ms };
    }
    let die: Die | undefined;
    if (p.dieMidStream) {
      const d = p.dieMidStream;
      const afterEvents = nonNegative(d.afterEvents, 'dieMidStream.afterEvents');
      if (afterEvents === undefined || !Number.isInteger(afterEvents)) {
        throw new TypeError('dieMidStream.afterEvents: expected an integer ≥ 0');
      }
      if (d.how !== undefined && !DIE_HOWS.includes(d.how)) {
        throw new TypeError('dieMidStream.how: expected "exception", "disconnect" or "torn"');
      }
      die = {
        rate: new Rate(d, 'dieMidStream', ['afterEvents', 'how', 'name'], since),
        die: { afterEvents, how: d.how ?? 'exception', name: d.name ?? 'ServiceUnavailableException' },
      };
    }
    const refusing = windowOf(p.refuseConnections, since);
    if (
      p.models !== undefined &&
      (!Array.isArray(p.models) || !p.models.every((m) => typeof m === 'string' && m !== ''))
    ) {
      throw new TypeError('models: expected a list of model-id substrings');
    }
    this.#throttle = throttle;
    this.#slow = slow;
    this.#die = die;
    this.#refusing = refusing;
    this.#models = p.models;
    this.#plan = p;
  }

  clear(): void {
    this.set({});
  }

  /** The plan in force, as it was set (for `GET /__emulator/faults`). */
  get plan(): FaultPlan {
    return this.#plan;
  }

  /** Whether connections are refused right now. */
  refusing(): boolean {
    return this.#refusing?.(this.#now()) ?? false;
  }

  /** Whether this account/region has the model (every model without a `models` list). */
  has(modelId: string): boolean {
    return this.#models === undefined || this.#models.some((m) => modelId.includes(m));
  }

  /** Decides what one arriving model call suffers (each active fault counts it). */
  forCall(modelId: string, streaming: boolean): CallFaults {
    const now = this.#now();
    const out: CallFaults = {};
    if (this.#throttle?.rate.hits(modelId, now)) out.throttle = this.#throttle.error();
    if (this.#slow?.rate.hits(modelId, now)) out.slowMs = this.#slow.ms;
    if (streaming && this.#die?.rate.hits(modelId, now)) out.die = this.#die.die;
    return out;
  }
}
