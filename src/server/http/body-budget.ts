/**
 * Bytes of request bodies the gateway holds at once. A body is read whole, then parsed and translated:
 * while its request runs it costs 6–14× its size in memory (measured: a 30 MB text prompt +185 MB, a
 * 25 MB body of 800,000 small blocks +343 MB). Without a bound, a few large requests at once (a team's
 * Claude Code sessions with images, or a hostile key holder) push V8 past its heap limit: the process
 * dies with every request in flight. Over the budget, a body is refused with 529 overloaded_error and a
 * retry-after, which the SDKs and Claude Code retry; what is already running is not affected.
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

/** What one request may add to the budget as its body arrives. */
export interface BodyHold {
  /** Counts `bytes` more of this request's body; false (nothing counted) when the budget is spent. */
  take(bytes: number): boolean;
}

export function overBodyBudget(): ApiError {
  return new ApiError(
    'overloaded_error',
    'The gateway is holding too many large request bodies at once; retry shortly',
    // The rest of the body is not read, so the connection cannot be reused.
    { headers: { 'retry-after': '2', connection: 'close' } },
  );
}

/** A body was refused: what it asked for and what was held then. */
export interface BodyRefusal {
  bytes: number;
  held: number;
  limit: number;
}

export class BodyBudget {
  readonly limit: number;
  readonly #onRefused: ((refusal: BodyRefusal) => void) | undefined;
  #held = 0;

  constructor(limit: number, onRefused?: (refusal: BodyRefusal) => void) {
    this.limit = limit;
    this.#onRefused = onRefused;
  }

  /** Bytes held now, by requests whose responses have not closed. */
  get held(): number {
    return this.#held;
  }

  /** A hold for the request answered by `res`: what it takes is given back when `res` closes. */
  holdFor(res: ServerResponse): BodyHold {
    let taken = 0;
    let closed = false;
    res.once('close', () => {
      closed = true;
      this.#held -= taken;
      taken = 0;
    });
    return {
      take: (bytes) => {
        if (closed) return true; // nothing left to protect; the reader is being torn down
        if (this.#held + bytes > this.limit) {
          this.#onRefused?.({ bytes, held: this.#held, limit: this.limit });
          return false;
        }
        this.#held += bytes;
        taken += bytes;
        return true;
      },
    };
  }
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
      'request bodies held at once reached their budget; refusing with 529 (raise ABPROXY_MAX_BODY_BYTES_IN_FLIGHT with the memory)',
    sinceLastLog: 'refusalsSinceLastLog',
    ...(now ? { now } : {}),
  });
}
