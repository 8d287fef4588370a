/**
 * Bytes of request bodies the gateway holds at once. A body is read whole, then parsed and translated:
 * while its request runs it costs 6–14× its size in memory (measured: a 30 MB text prompt +185 MB, a
 * 25 MB body of 800,000 small blocks +343 MB). Without a bound, a few large requests at once (a team's
 * Claude Code sessions with images, or a hostile key holder) push V8 past its heap limit: the process
 * dies with every request in flight. Over the budget, a body is refused with 529 overloaded_error and a
 * retry-after, which the SDKs and Claude Code retry; what is already running is not affected.
 * One caller (an API key; the master key and an open gateway count as one) may hold at most half of it:
 * a key holder who starts many slow uploads is refused with 429 for its own load, and the other half
 * stays free for everyone else instead of every key getting 529s until those uploads end.
 */
import type { ServerResponse } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { ApiError } from '../../anthropic/errors.ts';
import { capacityWarning } from '../../metrics/capacity-warning.ts';
import type { GatewayMetrics } from '../../metrics/metrics.ts';
import type { Logger } from './logger.ts';

/** The share of V8's heap limit request bodies may take (~14× amplification, with room to spare). */
const HEAP_SHARE = 1 / 16;

/**
 * The default budget: a 16th of V8's heap limit (which node derives from the machine's or the
 * container's memory), never less than one largest body.
 */
export function defaultBodyBudget(
  maxBodyBytes: number,
  heapLimit = getHeapStatistics().heap_size_limit,
): number {
  return Math.max(maxBodyBytes, Math.floor(heapLimit * HEAP_SHARE));
}

/**
 * The budget a gateway runs with: the configured one (0: the default), never less than one largest body —
 * a body the budget could never hold would be refused with a retry-after forever.
 */
export function bodyBudgetOf(configured: number, maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, configured || defaultBodyBudget(maxBodyBytes));
}

/** The most one caller may hold: half the budget, never less than one largest body. */
export function callerShareOf(limit: number, maxBodyBytes: number): number {
  return Math.min(limit, Math.max(maxBodyBytes, Math.floor(limit / 2)));
}

/** What one request may add to the budget as its body arrives. */
export interface BodyHold {
  /** Counts `bytes` more of this request's body; the error to answer (nothing counted) when refused. */
  take(bytes: number): ApiError | undefined;
}

// The rest of the body is not read, so the connection cannot be reused.
const REFUSED_HEADERS = { 'retry-after': '2', connection: 'close' };

export function overBodyBudget(): ApiError {
  return new ApiError(
    'overloaded_error',
    'The gateway is holding too many large request bodies at once; retry shortly',
    { headers: REFUSED_HEADERS },
  );
}

/** One caller holds its whole share: its own load, so a 429, which clients also retry. */
export function overCallerShare(): ApiError {
  return new ApiError(
    'rate_limit_error',
    'This API key has too many large request bodies in flight at once; retry when some of its requests finish',
    { headers: REFUSED_HEADERS },
  );
}

/** A body was refused: what it asked for and what was held then, by everyone or by its caller. */
export interface BodyRefusal {
  scope: 'gateway' | 'caller';
  bytes: number;
  held: number;
  limit: number;
}

export interface BodyBudgetOptions {
  /** The most one caller may hold (callerShareOf); the whole budget when not given. */
  callerShare?: number;
  onRefused?: (refusal: BodyRefusal) => void;
}

export class BodyBudget {
  readonly limit: number;
  readonly callerShare: number;
  readonly #onRefused: BodyBudgetOptions['onRefused'];
  #held = 0;
  /** Bytes held per caller, for callers holding any. */
  readonly #byCaller = new Map<string, number>();

  constructor(limit: number, { callerShare = limit, onRefused }: BodyBudgetOptions = {}) {
    this.limit = limit;
    this.callerShare = callerShare;
    this.#onRefused = onRefused;
  }

  /** Bytes held now, by requests whose responses have not closed. */
  get held(): number {
    return this.#held;
  }

  /** Bytes one caller holds now. */
  heldBy(caller: string): number {
    return this.#byCaller.get(caller) ?? 0;
  }

  /**
   * A hold for the request of `caller` answered by `res`: what it takes is given back when `res`
   * closes.
   */
  holdFor(res: ServerResponse, caller: string): BodyHold {
    let taken = 0;
    let closed = false;
    res.once('close', () => {
      closed = true;
      this.#held -= taken;
      this.#give(caller, taken);
      taken = 0;
    });
    return {
      take: (bytes) => {
        if (closed) return undefined; // nothing left to protect; the reader is being torn down
        if (this.#held + bytes > this.limit) {
          this.#onRefused?.({ scope: 'gateway', bytes, held: this.#held, limit: this.limit });
          return overBodyBudget();
        }
        const callerHeld = this.heldBy(caller);
        if (callerHeld + bytes > this.callerShare) {
          this.#onRefused?.({ scope: 'caller', bytes, held: callerHeld, limit: this.callerShare });
          return overCallerShare();
        }
        this.#held += bytes;
        this.#byCaller.set(caller, callerHeld + bytes);
        taken += bytes;
        return undefined;
      },
    };
  }

  #give(caller: string, bytes: number): void {
    const left = this.heldBy(caller) - bytes;
    if (left > 0) this.#byCaller.set(caller, left);
    else this.#byCaller.delete(caller); // callers come and go: no entry per key ever seen
  }
}

/** The gateway's budget from its settings: its size, and half of it per caller. */
export function newBodyBudget(
  settings: { maxBodyBytesInFlight: number; maxBodyBytes: number },
  onRefused?: (refusal: BodyRefusal) => void,
): BodyBudget {
  const limit = bodyBudgetOf(settings.maxBodyBytesInFlight, settings.maxBodyBytes);
  return new BodyBudget(limit, {
    callerShare: callerShareOf(limit, settings.maxBodyBytes),
    ...(onRefused ? { onRefused } : {}),
  });
}

/** Counts bodies refused over the budget, and says so in the log once a minute at most. */
export function bodyRefusalReporter(
  log: Pick<Logger, 'warn'>,
  metrics: () => Pick<GatewayMetrics, 'bodyBudgetRefusals'> | undefined,
  now?: () => number,
): (refusal: BodyRefusal) => void {
  return capacityWarning<BodyRefusal>({
    log,
    counter: () => metrics()?.bodyBudgetRefusals,
    message:
      'request bodies held at once reached their budget (scope gateway: refused with 529) or one key reached its half of it (scope caller: 429); raise ABPROXY_MAX_BODY_BYTES_IN_FLIGHT with the memory',
    sinceLastLog: 'refusalsSinceLastLog',
    ...(now ? { now } : {}),
  });
}
