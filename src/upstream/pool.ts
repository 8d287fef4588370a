/**
 * Several upstreams (regions, accounts) behind the one BedrockRuntime the handlers call. Each call goes
 * to the first eligible upstream (list order for `failover`, least loaded by weight for `weighted`);
 * a retryable fault before the answer — throttling, quota, overloaded, 5xx, a connection fault — moves
 * it to the next one, within `maxAttempts` and a total deadline. Calls resolve when Bedrock answered
 * with headers (a decoded stream: with its first events), so a stream that breaks later is never
 * replayed: bytes may have reached the client.
 * A client fault (validation, access, unknown model) is the same everywhere and goes straight back.
 */
import { ApiError } from '../anthropic/errors.ts';
import { classifyBedrockError, fromBedrockError, MAX_RETRY_AFTER_S } from './aws-errors.ts';
import { Breaker, type BreakerOptions, type BreakerState } from './breaker.ts';
import { type StreamFailure, untilDone } from './event-stream.ts';
import { primed } from './primed.ts';
import type { BedrockRuntime } from './runtime.ts';
import {
  firstByteBound,
  SLOWEST_TOKENS_PER_SECOND,
  StreamStartTimeout,
  sizeOf,
  startedWithin,
} from './stream-start.ts';
import { upstreamTraceOf } from './trace.ts';
import { baseModelId, globMatcher, modelIdFor, type ProfilePrefix, type Strategy } from './upstreams.ts';

export interface PoolMember {
  name: string;
  runtime: BedrockRuntime;
  weight?: number;
  /** Model-id globs it may serve; absent: all. */
  models?: string[];
  profilePrefix?: ProfilePrefix;
  /** The id this upstream calls for a requested id (wins over `profilePrefix`). */
  profileFor?: (modelId: string) => string;
  /**
   * Whether this upstream's own catalogue has the id it would call (`undefined`: cannot tell yet). An
   * upstream that lacks a model is not tried for it, unless none of them has it.
   */
  has?: (calledId: string) => boolean | undefined;
}

/** What a fault was, for metrics and for the breaker. */
export type FaultClass =
  | 'throttled'
  | 'overloaded'
  | 'server'
  | 'network'
  | 'credentials'
  | 'timeout'
  /** Refused or unknown model at this upstream (403, 404): its account's model access or its region's catalogue. */
  | 'access'
  | 'client';

export interface PoolObserver {
  attempt(upstream: string, outcome: 'ok' | FaultClass, ms: number): void;
  /** An attempt failed by a fault of the upstream's (not the client's): what it said, for the logs. */
  fault?(upstream: string, fault: Exclude<FaultClass, 'client'>, err: unknown): void;
}

export interface PoolOptions {
  /** Default strategy. */
  strategy?: Strategy;
  /** Per model: model-id glob → strategy; the first glob matching the id (or its base id) wins. */
  strategies?: Record<string, Strategy>;
  /** Attempts per call across upstreams (each upstream at most once). */
  maxAttempts?: number;
  /** No new attempt starts after this long. */
  deadlineMs?: number;
  /**
   * Streams: an upstream that has not answered (headers) within this long is left for the next; 0: never.
   * Non-stream calls whose max_tokens is known: within this long plus the time the longest answer takes
   * at SLOWEST_TOKENS_PER_SECOND.
   */
  firstByteTimeoutMs?: number;
  /**
   * Streams: an attempt the first-byte timer does not cover (the last one) that has not answered within
   * this long fails the call as a timeout; 0: only the transport's answer timeout.
   */
  streamStartTimeoutMs?: number;
  breaker?: Partial<BreakerOptions>;
  observer?: PoolObserver;
  now?: () => number;
}

const DEFAULT_BREAKER: BreakerOptions = { threshold: 3, openMs: 5_000, maxOpenMs: 120_000 };

interface Member {
  name: string;
  runtime: BedrockRuntime;
  weight: number;
  accepts: (modelId: string) => boolean;
  profileFor: (modelId: string) => string;
  has: (calledId: string) => boolean | undefined;
  inFlight: number;
  /** Its circuit breakers, by the model id the pool was asked for. */
  breakers: Map<string, Breaker>;
  /** Recent faults (newest last, at most RECENT_FAULTS), for the dashboard and the admin API. */
  faults: { at: number; fault: FaultClass }[];
}

const RECENT_FAULTS = 50;

// Where the first-byte timer is sized (the single upstream's too); named here as before.
export { PROMPT_BYTES_PER_SECOND, SLOWEST_TOKENS_PER_SECOND } from './stream-start.ts';

/**
 * Breakers kept per upstream. Model ids are the client's words: without a bound, calls with made-up ids
 * (each a client fault, which leaves its breaker blank) grew the map, and the breaker-state metric's
 * label set, for ever.
 */
export const MAX_BREAKERS = 256;

/** Makes room: forgets the blank breakers (a new one is the same), else the oldest half. */
function forgetBreakers(breakers: Map<string, Breaker>): void {
  for (const [model, breaker] of breakers) if (breaker.blank) breakers.delete(model);
  if (breakers.size < MAX_BREAKERS) return;
  let drop = Math.ceil(breakers.size / 2);
  for (const model of breakers.keys()) {
    if (drop-- <= 0) break;
    breakers.delete(model);
  }
}

/** One upstream's health as the dashboard and the admin API show it. */
export interface UpstreamHealth {
  name: string;
  /** The worst breaker state across its models: open > half-open > closed. */
  state: BreakerState;
  /** Calls it is serving now (streams until they end). */
  inFlight: number;
  /** Faults in the last minute, by class. */
  recentFaults: Partial<Record<FaultClass, number>>;
  lastFault?: { fault: FaultClass; at: string };
  breakers: { model: string; state: BreakerState; openUntil?: string }[];
}

function faultClass(err: unknown): FaultClass {
  const { status, type, credentials } = classifyBedrockError(err);
  // A 502 like a network fault, but the fix is the upstream's identity (an expired or refused role).
  if (credentials) return 'credentials';
  if (status === 429) return 'throttled';
  if (status === 529 || type === 'overloaded_error') return 'overloaded';
  // No answer within the answer or idle timeout, or the model's own: a silent region, not a 5xx.
  if (type === 'timeout_error') return 'timeout';
  if (status === 502 && type === 'api_error') return 'network';
  if (status >= 500) return 'server';
  // A model the upstream's account may not call, or its region does not know: the client never holds
  // the AWS identity, so this is the upstream's, and another account or region may serve it.
  if (status === 403 || type === 'not_found_error') return 'access';
  return 'client';
}

/** The input as is when the upstream calls the id it names (the common case), else a copy naming its own. */
function withId<I extends { modelId?: string }>(input: I, modelId: string): I {
  return input.modelId === modelId ? input : { ...input, modelId };
}

/**
 * A decoded stream's answer once its first events came: an exception in Bedrock's first frame fails
 * the attempt (and moves the call on) instead of the client's stream. Byte streams passed on as they
 * are (the door, the Messages API) carry their errors in-band and are not held.
 */
async function withFirstEvents<A extends { stream: AsyncIterable<unknown> }>(answer: A): Promise<A> {
  return { ...answer, stream: await primed(answer.stream) };
}

/** The fault, as answered, tells clients not to retry it. */
function saysNoRetry(err: unknown): boolean {
  return fromBedrockError(err).headers['x-should-retry'] === 'false';
}

function retryAfterSeconds(err: unknown): number | undefined {
  const value = fromBedrockError(err).headers['retry-after'];
  return value === undefined ? undefined : Number(value);
}

export class UpstreamPool implements BedrockRuntime {
  readonly #members: Member[];
  readonly #strategy: Strategy;
  readonly #strategies: { matches: (id: string) => boolean; strategy: Strategy }[];
  readonly #maxAttempts: number;
  readonly #deadlineMs: number;
  readonly #firstByteTimeoutMs: number;
  readonly #streamStartTimeoutMs: number;
  readonly #breakerOptions: BreakerOptions;
  readonly #observer: PoolObserver | undefined;
  readonly #now: () => number;

  constructor(members: readonly PoolMember[], options: PoolOptions = {}) {
    if (members.length === 0) throw new Error('an upstream pool needs at least one upstream');
    this.#members = members.map((m) => {
      const globs = m.models?.map(globMatcher);
      return {
        name: m.name,
        runtime: m.runtime,
        weight: m.weight ?? 1,
        accepts: globs ? (id) => globs.some((g) => g(id)) : () => true,
        profileFor: m.profileFor ?? ((id) => modelIdFor(id, m.profilePrefix)),
        has: m.has ?? (() => undefined),
        inFlight: 0,
        breakers: new Map(),
        faults: [],
      };
    });
    this.#strategy = options.strategy ?? 'failover';
    this.#strategies = Object.entries(options.strategies ?? {}).map(([glob, strategy]) => {
      const matches = globMatcher(glob);
      return { matches: (id: string) => matches(id) || matches(baseModelId(id)), strategy };
    });
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#deadlineMs = options.deadlineMs ?? 60_000;
    this.#firstByteTimeoutMs = options.firstByteTimeoutMs ?? 0;
    this.#streamStartTimeoutMs = options.streamStartTimeoutMs ?? 0;
    this.#now = options.now ?? Date.now;
    this.#breakerOptions = { ...DEFAULT_BREAKER, ...options.breaker, now: this.#now };
    this.#observer = options.observer;
  }

  converse: BedrockRuntime['converse'] = (input, signal) =>
    this.#call(
      input.modelId ?? '',
      signal,
      false,
      (r, modelId, s) => r.converse(withId(input, modelId), s),
      false,
      () => sizeOf(input.messages) + sizeOf(input.system),
      input.inferenceConfig?.maxTokens,
    );
  converseStream: BedrockRuntime['converseStream'] = (input, signal) =>
    this.#call(
      input.modelId ?? '',
      signal,
      true,
      (r, modelId, s) => r.converseStream(withId(input, modelId), s).then(withFirstEvents),
      false,
      () => sizeOf(input.messages) + sizeOf(input.system),
    );
  invokeModel: BedrockRuntime['invokeModel'] = (input, signal) =>
    this.#call(
      input.modelId,
      signal,
      false,
      (r, modelId, s) => r.invokeModel(withId(input, modelId), s),
      false,
      () => input.body.length,
      input.maxTokens,
    );
  invokeModelStream: BedrockRuntime['invokeModelStream'] = (input, signal) =>
    this.#call(
      input.modelId,
      signal,
      true,
      (r, modelId, s) => r.invokeModelStream(withId(input, modelId), s).then(withFirstEvents),
      false,
      () => input.body.length,
    );
  /** CountTokens takes a foundation model id: an upstream's profile prefix does not apply. */
  countTokens: BedrockRuntime['countTokens'] = (input, signal) =>
    this.#call(
      input.modelId ?? '',
      signal,
      false,
      (r, modelId, s) => r.countTokens(withId(input, modelId), s),
      true,
    );

  // ---- Bedrock's Anthropic Messages API ----
  /** mantle takes bare ids: an upstream's profile prefix does not apply there. */
  messagesApi: BedrockRuntime['messagesApi'] = (input, signal) =>
    this.#call(
      input.modelId,
      signal,
      // A non-stream answer has been read whole by the time it resolves: its bound is max_tokens'.
      input.stream,
      (r, modelId, s) => r.messagesApi(withId(input, modelId), s),
      input.host === 'mantle',
      () => input.body.length,
      input.maxTokens,
    );

  forward: BedrockRuntime['forward'] = (input, signal) =>
    this.#call(
      input.modelId,
      signal,
      input.operation.endsWith('stream'),
      (r, modelId, s) => r.forward(withId(input, modelId), s),
      input.operation === 'count-tokens',
      () => input.body.length,
      input.maxTokens,
    );

  /**
   * Breaker state per upstream × model that has seen calls (for metrics and `doctor`); `blank`: it
   * holds no fault, as a new breaker would not.
   */
  breakerStates(): { upstream: string; model: string; state: BreakerState; blank: boolean }[] {
    return this.#members.flatMap((m) =>
      [...m.breakers].map(([model, breaker]) => ({
        upstream: m.name,
        model,
        state: breaker.state,
        blank: breaker.blank,
      })),
    );
  }

  /** Names of the upstreams that may serve `modelId` (globs and catalogues), in list order. */
  servers(modelId: string): string[] {
    return this.#eligible(modelId).map((m) => m.name);
  }

  /** The strategy that orders the upstreams for `modelId`. */
  strategyFor(modelId: string): Strategy {
    return this.#strategies.find((s) => s.matches(modelId))?.strategy ?? this.#strategy;
  }

  /** Each upstream's breakers and recent faults, in list order. */
  health(): UpstreamHealth[] {
    const now = this.#now();
    const rank = { closed: 0, 'half-open': 1, open: 2 } as const;
    return this.#members.map((m) => {
      const breakers = [...m.breakers].map(([model, b]) => {
        const state = b.state;
        const row: UpstreamHealth['breakers'][number] = { model, state };
        if (state === 'open') row.openUntil = new Date(b.openUntil).toISOString();
        return row;
      });
      const state = breakers.reduce<BreakerState>(
        (worst, b) => (rank[b.state] > rank[worst] ? b.state : worst),
        'closed',
      );
      const recentFaults: UpstreamHealth['recentFaults'] = {};
      for (const f of m.faults)
        if (now - f.at < 60_000) recentFaults[f.fault] = (recentFaults[f.fault] ?? 0) + 1;
      const last = m.faults.at(-1);
      return {
        name: m.name,
        state,
        inFlight: m.inFlight,
        recentFaults,
        ...(last ? { lastFault: { fault: last.fault, at: new Date(last.at).toISOString() } } : {}),
        breakers,
      };
    });
  }

  /** Upstreams whose globs admit `modelId` and whose catalogue does not say it lacks it. */
  #eligible(modelId: string): Member[] {
    // One pass, one array: this runs on every call.
    const having: Member[] = [];
    let lacking = false;
    for (const m of this.#members) {
      if (!m.accepts(modelId)) continue;
      if (m.has(m.profileFor(modelId)) === false) lacking = true;
      else having.push(m);
    }
    // No catalogue has it (or they are out of date): try them all; Bedrock answers with its own error.
    if (having.length > 0 || !lacking) return having;
    return this.#members.filter((m) => m.accepts(modelId));
  }

  #breaker(member: Member, modelId: string): Breaker {
    let breaker = member.breakers.get(modelId);
    if (!breaker) {
      if (member.breakers.size >= MAX_BREAKERS) forgetBreakers(member.breakers);
      breaker = new Breaker(this.#breakerOptions);
      member.breakers.set(modelId, breaker);
    }
    return breaker;
  }

  /**
   * A stream keeps its upstream loaded until it ends, fails or the client leaves (the weighted strategy
   * counts it), not just until its headers. Its breaker learns how it ended: a region that breaks
   * every stream after its first events is a failing region, not a healthy one, and must not keep
   * taking every call.
   */
  #loadedUntilDone<T>(member: Member, breaker: Breaker, answer: T, signal: AbortSignal | undefined): T {
    member.inFlight++;
    let released = false;
    const release = (failure?: StreamFailure) => {
      if (released) return;
      released = true;
      member.inFlight--;
      signal?.removeEventListener('abort', clientLeft);
      const fault = failure && !signal?.aborted ? faultClass(failure.err) : undefined;
      if (signal?.aborted || fault === 'client') breaker.release();
      else if (fault === undefined) breaker.success();
      else {
        breaker.failure(undefined, fault === 'throttled');
        this.#noteFault(member, fault);
        this.#observer?.fault?.(member.name, fault, failure!.err);
      }
    };
    const clientLeft = () => release();
    signal?.addEventListener('abort', clientLeft, { once: true });
    const { stream } = answer as { stream: AsyncIterable<unknown> };
    return { ...answer, stream: untilDone(stream, release) };
  }

  #noteFault(member: Member, fault: FaultClass): void {
    member.faults.push({ at: this.#now(), fault });
    if (member.faults.length > RECENT_FAULTS) member.faults.shift();
  }

  /** Eligible upstreams in the order to try them. */
  #order(modelId: string): Member[] {
    const eligible = this.#eligible(modelId);
    if (this.strategyFor(modelId) === 'weighted') {
      // Least loaded relative to its weight first; list order breaks ties.
      return eligible
        .map((m, index) => ({ m, index }))
        .sort((a, b) => a.m.inFlight / a.m.weight - b.m.inFlight / b.m.weight || a.index - b.index)
        .map(({ m }) => m);
    }
    return eligible;
  }

  async #call<T>(
    modelId: string,
    signal: AbortSignal | undefined,
    stream: boolean,
    send: (runtime: BedrockRuntime, modelId: string, signal: AbortSignal | undefined) => Promise<T>,
    keepModelId = false,
    requestSize?: () => number,
    maxTokens?: number,
  ): Promise<T> {
    const order = this.#order(modelId);
    if (order.length === 0) {
      throw new ApiError('not_found_error', `No configured upstream serves the model ${modelId}`, {
        headers: { 'x-should-retry': 'false' },
      });
    }
    const trace = upstreamTraceOf(signal);
    let deadline = this.#now() + this.#deadlineMs;
    /** The first-byte timer, sized once an attempt could move on (the prompt's size is a walk). */
    let firstByteMs: number | undefined;
    const firstByteBound = () => {
      firstByteMs ??= this.#firstByteTimeoutFor(stream, requestSize, maxTokens);
      return firstByteMs;
    };
    /** Soonest retry-after (s) of every upstream that throttled or was skipped as throttled. */
    let soonestThrottle: number | undefined;
    let onlyThrottled = true;
    /**
     * An upstream failed (or was skipped) this call in a way a retry may cure: throttled, overloaded, cut
     * off, or behind a breaker that lets calls through again by itself.
     */
    let mayRecover = false;
    /** The fault of an upstream skipped because it failed in a way no retry cures (its AWS keys refused). */
    let permanentSkip: unknown;
    let lastError: unknown;
    /** The last attempt was given up by the first-byte timer (no error of the upstream's own to pass on). */
    let lastFirstByteTimeout = false;
    let attempts = 0;
    const noteThrottle = (seconds: number) => {
      soonestThrottle = Math.min(soonestThrottle ?? seconds, seconds, MAX_RETRY_AFTER_S);
    };
    /**
     * Breakers of the attempts the first-byte timer cut, judged when the call ends: a cut upstream was
     * slower to start than the timer, which a prompt slow to start is on every upstream. It counts as a
     * fault unless another upstream then served the call but took as long to start (the prompt, not the
     * upstream) or the client left; so a healthy region is not shut out by long prompts.
     */
    const cut: Breaker[] = [];
    const judgeCuts = (forgiven: boolean) => {
      for (const breaker of cut.splice(0)) {
        if (forgiven) breaker.release();
        else breaker.failure(undefined, false, this.#firstByteTimeoutError(firstByteBound()));
      }
    };

    for (const member of order) {
      if (attempts >= this.#maxAttempts || (attempts > 0 && this.#now() >= deadline)) break;
      const breaker = this.#breaker(member, modelId);
      if (!breaker.admit()) {
        const waitS = Math.max(1, Math.ceil((breaker.openUntil - this.#now()) / 1000));
        if (breaker.throttled) noteThrottle(waitS);
        else onlyThrottled = false;
        if (breaker.permanentFault === undefined) mayRecover = true;
        else permanentSkip = breaker.permanentFault;
        continue;
      }
      attempts++;
      member.inFlight++;
      const started = this.#now();
      // A stream whose answer does not start in time is given up and tried elsewhere — while there is an
      // elsewhere: the last attempt the order, the attempt count and the deadline allow is never cut by
      // the first-byte timer (a prompt slow to start would fail on every upstream). It is given the
      // longer stream-start bound, past which a silent region fails the call as a 504 (and counts against
      // its breaker) instead of holding it to the 10-minute answer timeout, which many clients do not
      // wait for (Node's fetch gives up on headers after 5 minutes): they left, and no breaker learnt.
      // A non-stream call is given up the same way once it waited longer than any answer of its
      // max_tokens takes (SLOWEST_TOKENS_PER_SECOND); unknown max_tokens, never.
      // The bound without the prompt's share, which is a walk of the whole request: that is measured
      // only if this bound runs out (`more`), as the common call, answered in time, never needs it.
      const baseBound = this.#firstByteTimeoutFor(stream, undefined, maxTokens);
      let failover =
        (stream || maxTokens !== undefined) &&
        this.#firstByteTimeoutMs > 0 &&
        attempts < this.#maxAttempts &&
        // An upstream after it that its breaker would let through (one skipped is no elsewhere).
        order.slice(order.indexOf(member) + 1).some((m) => this.#breaker(m, modelId).admits) &&
        // A non-stream cut gives its wait back to the deadline (below): its bound is minutes, not seconds.
        (!stream || started + baseBound < deadline);
      // The last attempt of a non-stream call of known max_tokens keeps that bound too, as a single
      // upstream's calls do: past it the upstream is silent (a 504), not the 10-minute answer timeout.
      const lastWholeBound = !stream && maxTokens !== undefined && this.#firstByteTimeoutMs > 0;
      const startWithin = failover || lastWholeBound ? baseBound : stream ? this.#streamStartTimeoutMs : 0;
      const more =
        (failover || lastWholeBound) && requestSize
          ? () => {
              const full = firstByteBound();
              // A stream whose prompt-sized bound passes the deadline is the last attempt after all:
              // it gets the stream-start bound, not a cut the next upstream could not follow.
              if (stream && started + full >= deadline) {
                failover = false;
                return Math.max(0, this.#streamStartTimeoutMs - baseBound);
              }
              return full - baseBound;
            }
          : undefined;
      const calledId = keepModelId ? modelId : member.profileFor(modelId);
      try {
        const answer = await startedWithin(
          startWithin,
          signal,
          (s) => send(member.runtime, calledId, s),
          undefined,
          '',
          '',
          more,
        );
        if (cut.length > 0) judgeCuts(this.#now() - started >= firstByteBound());
        // A stream's breaker hears how it ended (#loadedUntilDone), not just that it began; but a probe
        // that began answering closes it at once (the region is back), so no stream left unread can
        // hold the probe slot.
        if (!stream || breaker.state !== 'closed') breaker.success();
        const result = stream ? this.#loadedUntilDone(member, breaker, answer, signal) : answer;
        this.#observer?.attempt(member.name, 'ok', this.#now() - started);
        if (trace) {
          trace.served = member.name;
          trace.called = calledId;
          trace.onServed?.(member.name);
        }
        return result;
      } catch (err) {
        if (signal?.aborted) {
          breaker.release();
          judgeCuts(true);
          throw err;
        }
        const notStarted = err instanceof StreamStartTimeout;
        const firstByteTimeout = notStarted && failover;
        const fault = notStarted ? 'timeout' : faultClass(err);
        this.#observer?.attempt(member.name, fault, this.#now() - started);
        this.#noteFault(member, fault);
        if (fault === 'client') {
          breaker.release();
          judgeCuts(false);
          throw err;
        }
        this.#observer?.fault?.(
          member.name,
          fault,
          firstByteTimeout
            ? new Error(
                `no answer within ${firstByteBound()} ms (ABPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS, longer for a larger prompt${stream ? '' : `, plus max_tokens ${maxTokens} at ${SLOWEST_TOKENS_PER_SECOND} tokens/s`}): the call went on to the next upstream`,
              )
            : err,
        );
        if (fault === 'access') {
          // Tried elsewhere, but no breaker opens on it: a model no upstream serves (a typo) must stay
          // the client's 404 on every call, never become 'every upstream is failing' (529, retried).
          breaker.release();
          if (trace) trace.failedAttempts++;
          onlyThrottled = false;
          lastError = err;
          lastFirstByteTimeout = false;
          continue;
        }
        const retryAfter =
          fault === 'throttled' || fault === 'overloaded' ? retryAfterSeconds(err) : undefined;
        if (firstByteTimeout) {
          // Judged when the call ends (judgeCuts); meanwhile the probe slot it may hold is free.
          breaker.release();
          cut.push(breaker);
          // The silence waited is not time spent retrying: the next upstream is still tried.
          if (!stream) deadline += this.#now() - started;
        } else {
          breaker.failure(
            retryAfter === undefined ? undefined : retryAfter * 1000,
            fault === 'throttled',
            err,
            fault === 'credentials',
          );
        }
        if (trace) trace.failedAttempts++;
        if (fault === 'throttled') noteThrottle(retryAfter ?? 1);
        else onlyThrottled = false;
        if (fault !== 'credentials') mayRecover = true;
        lastError = err;
        lastFirstByteTimeout = firstByteTimeout;
      } finally {
        member.inFlight--;
      }
    }
    judgeCuts(false);

    if (onlyThrottled && soonestThrottle !== undefined) {
      throw new ApiError(
        'rate_limit_error',
        lastError === undefined
          ? `Every upstream serving ${modelId} is throttled; retry later`
          : `Every upstream serving ${modelId} is throttled: ${fromBedrockError(lastError).message}`,
        { status: 429, headers: { 'retry-after': String(soonestThrottle) } },
      );
    }
    if (lastFirstByteTimeout) throw this.#firstByteTimeoutError(firstByteBound());
    // The last upstream's fault is one no retry cures there (its AWS keys, its access to the model), but
    // another's is one a retry may: said as that one (retryable, with retry-after), or the client gives up
    // on a call another upstream serves in a moment.
    if (lastError !== undefined && !(mayRecover && saysNoRetry(lastError))) throw lastError;
    if (lastError !== undefined && soonestThrottle !== undefined) {
      throw new ApiError(
        'rate_limit_error',
        `An upstream serving ${modelId} is throttled; another refused the call: ${fromBedrockError(lastError).message}`,
        { status: 429, headers: { 'retry-after': String(soonestThrottle) } },
      );
    }
    // Every upstream skipped, none of them coming back without the operator (each refused the gateway's
    // AWS keys): that fault again (502, x-should-retry: false), not a 529 every client retries for minutes.
    if (permanentSkip !== undefined && !mayRecover) throw permanentSkip;
    // Every upstream skipped by an open breaker after faults a retry may cure (or the last one refused for
    // good while another may recover). The client hears what opened them, as the calls that opened them
    // did, and when to retry: unreachable regions gave 502s (silent ones 504s) until three calls had
    // opened their breakers, then 529s saying the model was overloaded.
    const breakers = order.map((m) => this.#breaker(m, modelId));
    const reopen = Math.min(...breakers.map((b) => b.openUntil).filter((t) => t > 0));
    // Bounded like an upstream's own retry-after: clients sleep for whatever it says, and a long cooldown
    // (ABPROXY_UPSTREAM_COOLDOWN_MS, doubled after failed probes) would hold each of their retries as long.
    const waitS = Number.isFinite(reopen)
      ? Math.min(Math.max(1, Math.ceil((reopen - this.#now()) / 1000)), MAX_RETRY_AFTER_S)
      : 1;
    const cause = breakers.findLast(
      (b) => !b.throttled && b.cause !== undefined && b.permanentFault === undefined,
    )?.cause;
    const like = cause === undefined ? undefined : fromBedrockError(cause);
    const why = like ?? (lastError === undefined ? undefined : fromBedrockError(lastError));
    throw new ApiError(
      like?.type ?? 'overloaded_error',
      `Every upstream serving ${modelId} is failing; retry later${why ? ` (${why.message})` : ''}`,
      { status: like?.status ?? 529, headers: { 'retry-after': String(waitS) } },
    );
  }

  #firstByteTimeoutError(ms: number): ApiError {
    return new ApiError('timeout_error', `No upstream started answering within ${ms} ms`, { status: 504 });
  }

  /** The first-byte timer of one call (firstByteBound). */
  #firstByteTimeoutFor(
    stream: boolean,
    requestSize: (() => number) | undefined,
    maxTokens: number | undefined,
  ): number {
    return firstByteBound(this.#firstByteTimeoutMs, stream, requestSize, maxTokens);
  }
}
