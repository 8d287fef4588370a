/**
 * The rate limits of one request: the key's requests and tokens per minute, and the seed's
 * RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW (applied to every caller, keyed by key id). Answers carry
 * Anthropic's `anthropic-ratelimit-*` headers; refusals are 429 rate_limit_error with retry-after.
 */
import { ApiError } from '../anthropic/errors.ts';
import type { KeyLimits } from '../store/types.ts';
import type { Take, WindowLimiter } from './types.ts';
import { windowStart } from './types.ts';

const MINUTE_MS = 60_000;

export interface SeedLimit {
  requests: number;
  windowMs: number;
}

/** What a request was admitted with; settle() corrects the token estimate with real usage. */
export interface TokenAdmission {
  counter: string;
  limit: number;
  windowStart: number;
  estimate: number;
}

export type LimitHeaders = Record<string, string>;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function retryAfterSeconds(resetAt: number, now: number): string {
  return String(Math.max(1, Math.ceil((resetAt - now) / 1000)));
}

function limitHeaders(kind: 'requests' | 'tokens', limit: number, take: Take): LimitHeaders {
  return {
    [`anthropic-ratelimit-${kind}-limit`]: String(limit),
    [`anthropic-ratelimit-${kind}-remaining`]: String(Math.max(0, Math.floor(take.remaining))),
    [`anthropic-ratelimit-${kind}-reset`]: rfc3339(take.resetAt),
  };
}

export type LimitName = 'requests' | 'tokens' | 'seed' | 'count_tokens' | 'concurrency';

export class RateLimitError extends ApiError {
  readonly limit: LimitName;
  constructor(limit: LimitName, message: string, headers: LimitHeaders) {
    super('rate_limit_error', message, { headers });
    this.limit = limit;
  }
}

export interface RateLimitsOptions {
  limiter: WindowLimiter;
  seed?: SeedLimit;
  now?: () => number;
}

export class RateLimits {
  readonly #limiter: WindowLimiter;
  readonly #seed: SeedLimit | undefined;
  readonly #now: () => number;

  constructor(options: RateLimitsOptions) {
    this.#limiter = options.limiter;
    this.#seed = options.seed;
    this.#now = options.now ?? Date.now;
  }

  /** Whether admitRequest has anything to count for these limits (else it would answer no headers). */
  limitsRequests(limits: KeyLimits): boolean {
    return limits.requestsPerMinute !== undefined || this.#seed !== undefined;
  }

  /** Counts one request against the key's per-minute and the seed limits; headers for the answer. */
  async admitRequest(keyId: string, limits: KeyLimits): Promise<LimitHeaders> {
    const now = this.#now();
    let headers: LimitHeaders = {};
    const rpm = limits.requestsPerMinute;
    if (rpm !== undefined) {
      headers = await this.#perMinute(
        { counter: `rpm:${keyId}`, amount: 1, limit: rpm, kind: 'requests', name: 'requests', now },
        (reset) =>
          `This API key's rate limit of ${rpm} requests per minute is used up; retry after ${reset}.`,
      );
    }
    if (this.#seed) {
      const { requests, windowMs } = this.#seed;
      const take = await this.#limiter.take(`seed:${keyId}`, 1, requests, windowMs, now);
      // The key's own limit names the headers when it has one; else the gateway-wide one does.
      if (rpm === undefined) headers = limitHeaders('requests', requests, take);
      if (!take.ok) {
        const seedHeaders = limitHeaders('requests', requests, take);
        throw new RateLimitError(
          'seed',
          `Rate limit of ${requests} requests per ${windowMs / 1000} s exceeded; retry after ${seedHeaders['anthropic-ratelimit-requests-reset']}.`,
          { ...headers, ...seedHeaders, 'retry-after': retryAfterSeconds(take.resetAt, now) },
        );
      }
    }
    return headers;
  }

  /**
   * count_tokens calls have a window of their own at the key's requests per minute: counting is cheap
   * for clients to repeat (Claude Code calls it before compaction), so it must neither be free nor eat
   * into the key's Messages requests.
   */
  async admitCountTokens(keyId: string, limits: KeyLimits): Promise<LimitHeaders> {
    const rpm = limits.requestsPerMinute;
    if (rpm === undefined) return {};
    return this.#perMinute(
      {
        counter: `count:${keyId}`,
        amount: 1,
        limit: rpm,
        kind: 'requests',
        name: 'count_tokens',
        now: this.#now(),
      },
      (reset) =>
        `This API key's rate limit of ${rpm} token-counting requests per minute is used up; retry after ${reset}.`,
    );
  }

  /** Admits the request's estimated input tokens against tokens-per-minute. */
  async admitTokens(
    keyId: string,
    limits: KeyLimits,
    estimate: number,
  ): Promise<{ headers: LimitHeaders; admission?: TokenAdmission }> {
    const tpm = limits.tokensPerMinute;
    if (tpm === undefined) return { headers: {} };
    const now = this.#now();
    const counter = `tpm:${keyId}`;
    const amount = Math.min(Math.max(1, estimate), tpm);
    const headers = await this.#perMinute(
      { counter, amount, limit: tpm, kind: 'tokens', name: 'tokens', now },
      (reset) =>
        `This API key's limit of ${tpm} tokens per minute is used up (this request needs about ${estimate}); retry after ${reset}.`,
    );
    return {
      headers,
      admission: { counter, limit: tpm, windowStart: windowStart(now, MINUTE_MS), estimate: amount },
    };
  }

  /**
   * Takes `amount` from one of the key's per-minute counters: the answer's headers for it, or a
   * RateLimitError (with retry-after) saying `refusal` of the time the window resets.
   */
  async #perMinute(
    take: {
      counter: string;
      amount: number;
      limit: number;
      kind: 'requests' | 'tokens';
      name: LimitName;
      now: number;
    },
    refusal: (reset: string | undefined) => string,
  ): Promise<LimitHeaders> {
    const { counter, amount, limit, kind, name, now } = take;
    const taken = await this.#limiter.take(counter, amount, limit, MINUTE_MS, now);
    const headers = limitHeaders(kind, limit, taken);
    if (!taken.ok) {
      throw new RateLimitError(name, refusal(headers[`anthropic-ratelimit-${kind}-reset`]), {
        ...headers,
        'retry-after': retryAfterSeconds(taken.resetAt, now),
      });
    }
    return headers;
  }

  /** Replaces the estimate with the tokens really used (input + cache writes + output). */
  settle(admission: TokenAdmission, actual: number): void {
    const delta = actual - admission.estimate;
    if (delta !== 0)
      this.#limiter.adjust(admission.counter, delta, admission.limit, MINUTE_MS, admission.windowStart);
  }
}
