/**
 * The MessageCall the handler decides once per POST /v1/messages, as a class: its methods live on the
 * prototype and its fields in the object, where an object literal with a getter and closures cost a
 * dictionary-mode object (~0.8 KB) and four closures per call, kept for a stream's whole life.
 */
import { ApiError } from '../../anthropic/errors.ts';
import type { MessagesRequest } from '../../anthropic/types.ts';
import type { ResolvedModel, ServiceTier } from '../../models/types.ts';
import { fromBedrockError } from '../../upstream/aws-errors.ts';
import type { AppDeps } from '../deps.ts';
import type { Ctx } from '../http/context.ts';
import { headerSafe } from '../http/respond.ts';
import { type MessageCall, warningsHeader } from './message-call.ts';
import { type TierState, withTierFallback } from './service-tier.ts';
import type { ThreadTurn } from './threads.ts';

export interface ServedCallInit {
  ctx: Ctx;
  deps: AppDeps;
  request: MessagesRequest;
  model: ResolvedModel;
  betas: string[];
  tierState: TierState;
  warnings: string[];
  abort: AbortController;
  inputTokensEstimate: number;
  thread: ThreadTurn | undefined;
}

export class ServedCall implements MessageCall {
  ctx: Ctx;
  deps: AppDeps;
  request: MessagesRequest;
  model: ResolvedModel;
  betas: string[];
  warnings: string[];
  abort: AbortController;
  inputTokensEstimate: number;
  thread: ThreadTurn | undefined;
  /**
   * A field, not a method: it holds the two sizes it needs and not the call, so the stream pump keeps it
   * without keeping the request (pump-stream.ts).
   */
  readonly upstreamError: (err: unknown) => ApiError;
  /** Shared with the tier fallback, which resets it; `tier` reads it, so later rounds see the fallback. */
  readonly #tierState: TierState;

  constructor(init: ServedCallInit) {
    this.ctx = init.ctx;
    this.deps = init.deps;
    this.request = init.request;
    this.model = init.model;
    this.betas = init.betas;
    this.warnings = init.warnings;
    this.abort = init.abort;
    this.inputTokensEstimate = init.inputTokensEstimate;
    this.thread = init.thread;
    this.#tierState = init.tierState;
    this.upstreamError = upstreamErrorFor(init.inputTokensEstimate, init.model.caps.contextWindow);
  }

  get tier(): ServiceTier | undefined {
    return this.#tierState.tier;
  }

  async send<T>(send: (tier: ServiceTier | undefined) => Promise<T>): Promise<T | undefined> {
    const { ctx } = this;
    const tierState = this.#tierState;
    let answer: T;
    try {
      answer = await withTierFallback(tierState, ctx.res, send, (err) =>
        ctx.log.info(
          { requestId: ctx.requestId, tier: tierState.tier, err: (err as Error).message },
          'Bedrock rejected the service tier; retrying on default',
        ),
      );
    } catch (err) {
      if (this.abort.signal.aborted) return undefined; // the client is gone; nobody to answer
      throw this.upstreamError(err);
    }
    ctx.meter?.answered();
    return answer;
  }

  headers(extraWarnings: readonly string[]): Record<string, string> {
    const all = [...this.warnings, ...extraWarnings];
    // With several upstreams, the id the serving one called (its region's profile), not the one resolved.
    const called = this.ctx.upstream?.called ?? this.model.modelId;
    const headers: Record<string, string> = { 'x-abproxy-model': headerSafe(called) };
    if (all.length > 0) {
      headers['x-abproxy-warnings'] = warningsHeader(all);
      this.ctx.log.debug({ requestId: this.ctx.requestId, warnings: all }, 'lossy translation');
    }
    return headers;
  }
}

/** A Bedrock failure as the client's error (a context overflow is told with the request's sizes). */
function upstreamErrorFor(estimatedInputTokens: number, contextWindow: number | undefined) {
  return (err: unknown): ApiError =>
    err instanceof ApiError ? err : fromBedrockError(err, { estimatedInputTokens, contextWindow });
}
