/**
 * Per-request accounting of POST /v1/messages (and the door's calls): budget and rate checks before the
 * handler runs (and the budget hold the handler takes once it knows the call's worst case), then the
 * token settlement, the hold given back and the metrics when it ends — on every path (answer, error,
 * client gone) — and, for a call that began (reached or may have reached Bedrock), one usage record and
 * the budget charge. The handler reports what only it knows through `ctx.meter`.
 */

import { toApiError } from '../../anthropic/errors.ts';
import type { Usage } from '../../anthropic/types.ts';
import type { BudgetGuard, BudgetHold } from '../../limits/budget.ts';
import type { InFlightCounter } from '../../limits/concurrency.ts';
import { RateLimitError, type RateLimits, type TokenAdmission } from '../../limits/rate-limits.ts';
import type { GatewayMetrics } from '../../metrics/metrics.ts';
import type { ServiceTier } from '../../models/types.ts';
import type { KeyLimits } from '../../store/types.ts';
import { toBedrockFault } from '../../upstream/bedrock-faults.ts';
import { attributionOf } from '../../usage/attribution.ts';
import { boundText } from '../../usage/bounds.ts';
import { uuidv7 } from '../../usage/ids.ts';
import { costUsd, type PriceTable, type TokenCounts } from '../../usage/prices.ts';
import type { UsageSpool } from '../../usage/spool.ts';
import type { UsageRecord } from '../../usage/types.ts';
import { doorOperation } from '../bedrock/paths.ts';
import { ClientLeftError, responseGone } from '../http/client-abort.ts';
import { nextPromise } from '../http/compose.ts';
import type { Ctx, Middleware, Next } from '../http/context.ts';
import { routePath } from '../http/router.ts';
import type { RefusalReason } from './refusal-log.ts';

/** Who is calling, as far as limits and usage care. */
export interface Caller {
  keyId: string;
  limits: KeyLimits;
}

export interface MeteringDeps {
  metrics: GatewayMetrics;
  prices: PriceTable;
  rateLimits: RateLimits;
  /** Keys' caps on calls in flight (`concurrentRequests`). */
  inFlight: InFlightCounter;
  budget?: BudgetGuard;
  /** Undefined when usage recording is off. */
  spool?: UsageSpool;
  defaultTier: ServiceTier;
  /** USD per web search the gateway ran (web_search server tool), added to the request's cost. */
  webSearchCostUsd?: number;
  /** The caller of a request (the auth middleware put the key on the context). */
  caller: (ctx: Ctx) => Caller;
  /** A request refused by its key's limits or budget (after its metric was counted): the log's part. */
  onRefused?: (reason: RefusalReason, keyId: string) => void;
}

export interface CallInfo {
  model: string;
  resolvedModel: string;
  /**
   * The foundation model behind resolvedModel, which prices the call: an application inference profile's
   * ARN names none (priced `*`, a fifth of Opus). Absent: resolvedModel.
   */
  pricedModel?: string;
  /** The model's label in metrics, from a bounded set (ResolvedModel.metricsLabel). */
  metricsLabel: string;
  /** Read at the end: a tier Bedrock refused falls back to default during the call. */
  tier: () => ServiceTier | undefined;
  stream: boolean;
  /** The request's `metadata.user_id`, as the client sent it (cleaned when recorded). */
  userId?: unknown;
  /** Set for calls through the Bedrock-format door (recorded on the usage record). */
  door?: 'bedrock';
  /** The gateway's estimate of the prompt's tokens: what the `open` record bills if the gateway dies mid-call. */
  inputTokensEstimate?: number;
}

/** What the messages handler tells the meter. */
export interface Meter {
  /** Admits the request's estimated input tokens (tokens per minute); throws the 429. */
  admitTokens(estimate: number): Promise<void>;
  /**
   * Holds the call's worst case (prompt estimate at the input rate, max_tokens at the output rate, plus
   * `spent`: what earlier rounds of a web tools loop cost) against the key's budget until the call ends;
   * throws the 402 when it would pass what is left. Nothing to do for a key without a budget.
   */
  holdBudget(pricedModel: string, inputTokens: number, maxTokens: number, spent?: Usage): void;
  /** The Bedrock call is about to start: spools an `open` record so even a kill -9 leaves a trace. */
  begin(info: CallInfo): void;
  /** Bedrock answered (a stream began or a whole response arrived). */
  answered(): void;
  /** Tokens used (a stream cut short reports what it saw); `estimated` when not Bedrock's own counts. */
  usage(usage: Usage, estimated?: boolean): void;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

const NO_TOKENS = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };

function tokenCounts(tokens: Usage | undefined) {
  return {
    inputTokens: tokens?.input_tokens ?? 0,
    outputTokens: tokens?.output_tokens ?? 0,
    cacheReadTokens: tokens?.cache_read_input_tokens ?? 0,
    cacheCreationTokens: tokens?.cache_creation_input_tokens ?? 0,
    // reportUsage bounded it; costUsd bounds it by the whole.
    cacheCreation1hTokens: tokens?.cache_creation?.ephemeral_1h_input_tokens ?? 0,
  };
}

/** USD of a call's tokens (none without a model) and of the web searches the gateway ran for it. */
function usageCost(
  deps: MeteringDeps,
  pricedModel: string | undefined,
  counts: TokenCounts,
  tokens: Usage | undefined,
): number {
  return (
    (pricedModel ? costUsd(pricedModel, counts, deps.prices) : 0) +
    (tokens?.server_tool_use?.web_search_requests ?? 0) * (deps.webSearchCostUsd ?? 0)
  );
}

/** Tokens that count against tokens-per-minute: cache reads are not (as at Anthropic). */
function limitedTokens(usage: Usage): number {
  return usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + usage.output_tokens;
}

class UsageMeter implements Meter {
  readonly #deps: MeteringDeps;
  readonly #ctx: Ctx;
  readonly caller: Caller;
  readonly started = performance.now();
  readonly at = new Date().toISOString();
  readonly id = uuidv7();
  info: CallInfo | undefined;
  tokens: Usage | undefined;
  estimated = false;
  answeredAt: number | undefined;
  begunAt: number | undefined;
  admission: TokenAdmission | undefined;
  budgetHold: BudgetHold | undefined;
  streaming = false;

  constructor(deps: MeteringDeps, ctx: Ctx, caller: Caller) {
    this.#deps = deps;
    this.#ctx = ctx;
    this.caller = caller;
  }

  async admitTokens(estimate: number): Promise<void> {
    if (this.caller.limits.tokensPerMinute === undefined) return;
    const { headers, admission } = await countRefusal(this.#deps, this.caller, () =>
      this.#deps.rateLimits.admitTokens(this.caller.keyId, this.caller.limits, estimate),
    );
    for (const [name, value] of Object.entries(headers)) this.#ctx.res.setHeader(name, value);
    this.admission = admission;
  }

  /** `pricedModel`: the foundation model the call runs on (an application profile's ARN names none). */
  holdBudget(pricedModel: string, inputTokens: number, maxTokens: number, spent?: Usage): void {
    const { budgetUsd } = this.caller.limits;
    const { budget, prices } = this.#deps;
    if (budgetUsd === undefined || !budget) return;
    const worst =
      costUsd(pricedModel, { ...NO_TOKENS, inputTokens, outputTokens: maxTokens }, prices) +
      (spent ? usageCost(this.#deps, pricedModel, tokenCounts(spent), spent) : 0);
    try {
      this.budgetHold = budget.hold(this.caller.keyId, budgetUsd, worst, this.budgetHold);
    } catch (err) {
      this.#deps.metrics.budgetRefused.inc();
      this.#deps.onRefused?.('budget', this.caller.keyId);
      throw err;
    }
  }

  begin(info: CallInfo): void {
    this.info = info;
    this.begunAt = performance.now();
    try {
      this.#deps.spool?.begin(this.record(0));
    } catch (err) {
      this.#ctx.log.error({ err, requestId: this.#ctx.requestId }, 'usage record could not be spooled');
    }
  }

  answered(): void {
    if (this.answeredAt !== undefined) return;
    this.answeredAt = performance.now();
    if (this.info?.stream) {
      this.streaming = true;
      this.#deps.metrics.activeStreams.inc();
    }
  }

  usage(usage: Usage, estimated = false): void {
    this.tokens = usage;
    this.estimated = estimated;
  }

  record(status: number): UsageRecord {
    const info = this.info;
    // The `open` record (status 0) is what a kill -9 leaves of a call Bedrock may have served, and a call
    // the client left (499) before Bedrock's first byte was sent whole to Bedrock: both bill the
    // estimated prompt, marked estimated, rather than nothing (as the door bills a stream cut that early).
    const opening =
      (status === 0 || status === 499) &&
      this.tokens === undefined &&
      info?.inputTokensEstimate !== undefined;
    const tokens: Usage | undefined = opening
      ? {
          input_tokens: info.inputTokensEstimate!,
          output_tokens: 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        }
      : this.tokens;
    const counts = tokenCounts(tokens);
    const record: UsageRecord = {
      id: this.id,
      keyId: this.caller.keyId,
      at: this.at,
      model: boundText(info?.model ?? ''),
      serviceTier: info?.tier() ?? this.#deps.defaultTier,
      inputTokens: counts.inputTokens,
      outputTokens: counts.outputTokens,
      cacheReadInputTokens: counts.cacheReadTokens,
      cacheWriteInputTokens: counts.cacheCreationTokens,
      latencyMs: Math.round(performance.now() - this.started),
      status,
      requestId: this.#ctx.requestId,
      stream: info?.stream ?? false,
      costUsd: usageCost(this.#deps, info && (info.pricedModel ?? info.resolvedModel), counts, tokens),
    };
    // With several upstreams: the id the serving upstream called (its own region's profile).
    if (info) record.resolvedModel = boundText(this.#ctx.upstream?.called ?? info.resolvedModel);
    if (info?.door) record.door = info.door;
    const web = tokens?.server_tool_use;
    if (web?.web_search_requests) record.webSearchRequests = web.web_search_requests;
    if (web?.web_fetch_requests) record.webFetchRequests = web.web_fetch_requests;
    if (this.estimated || opening) record.estimated = true;
    // A stream that did not reach its end (the client hung up, or it failed mid-way): billed for what
    // Bedrock made until then, which the translators count or estimate.
    if (this.streaming && (status === 499 || this.#ctx.streamFailed === true)) record.interrupted = true;
    // Who spent it (Claude Code's session and agent, metadata.user_id) and the request's trace.
    Object.assign(record, attributionOf(this.#ctx.req.headers, info?.userId));
    if (this.#ctx.traceId && TRACE_ID.test(this.#ctx.traceId)) record.traceId = this.#ctx.traceId;
    const upstream = this.#ctx.upstream;
    if (upstream?.served !== undefined) record.upstream = upstream.served;
    if (upstream) record.failedAttempts = upstream.failedAttempts;
    // First content sent (what the dashboard measures), else the moment the stream opened.
    const firstAt = this.#ctx.firstTokenAt ?? this.answeredAt;
    if (info?.stream && firstAt !== undefined) record.ttftMs = Math.round(firstAt - this.started);
    return record;
  }
}

/** Counts our own 429s by the limit that refused (and has the log say so). */
async function countRefusal<T>(deps: MeteringDeps, caller: Caller, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RateLimitError) {
      deps.metrics.rateLimited.inc({ limit: err.limit });
      deps.onRefused?.(err.limit, caller.keyId);
    }
    throw err;
  }
}

/** The status the client gets for `err`: the door answers in Bedrock's shape, with Bedrock's statuses. */
function errorStatus(err: unknown, door: boolean): number {
  return door ? toBedrockFault(err).status : toApiError(err).status;
}

/** The status a usage record keeps: what the client got, 499 when it left before the end. */
function finalStatus(ctx: Ctx, thrown: unknown, door: boolean): number {
  if (thrown instanceof ClientLeftError) return 499;
  if (thrown !== undefined) return errorStatus(thrown, door);
  if (!ctx.res.writableEnded && (ctx.req.destroyed || responseGone(ctx.res))) return 499;
  return ctx.res.statusCode;
}

export function metering(deps: MeteringDeps): Middleware {
  const { metrics } = deps;
  return async function meteringMiddleware(ctx, next) {
    if (ctx.req.method !== 'POST') return next();
    const path = routePath(ctx.url.pathname);
    // The Bedrock-format door's calls are metered as Messages calls are (count-tokens as count_tokens).
    const door = doorOperation(ctx.url.pathname);
    if (path === '/v1/messages/count_tokens' || door === 'count-tokens') {
      // The same key checks as Messages (budget, a rate), but no usage record: nothing is billed.
      const caller = deps.caller(ctx);
      await checkBudget(deps, caller);
      const headers = await countRefusal(deps, caller, () =>
        deps.rateLimits.admitCountTokens(caller.keyId, caller.limits),
      );
      for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
      return next();
    }
    if (path !== '/v1/messages' && door === undefined) return next();
    const caller = deps.caller(ctx);
    let leave: (() => void) | undefined;
    try {
      // Awaited only when there is something to check: most keys have no budget or request limit.
      if (caller.limits.budgetUsd !== undefined) await checkBudget(deps, caller);
      // The slot before the per-minute count, so a call the cap refuses spends none of the minute; a
      // call the minute refuses gives its slot back below. Else given back when the call ends.
      const cap = caller.limits.concurrentRequests;
      if (cap !== undefined)
        leave = await countRefusal(deps, caller, async () => deps.inFlight.enter(caller.keyId, cap));
      if (deps.rateLimits.limitsRequests(caller.limits)) {
        const headers = await countRefusal(deps, caller, () =>
          deps.rateLimits.admitRequest(caller.keyId, caller.limits),
        );
        for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
      }
    } catch (err) {
      leave?.();
      // Refused before the body was read: no model is known yet.
      metrics.requests.inc({
        model: 'unknown',
        status: String(errorStatus(err, door !== undefined)),
        tier: '',
      });
      throw err;
    }

    const meter = new UsageMeter(deps, ctx, caller);
    ctx.meter = meter;
    return metered(deps, ctx, next, meter, leave, door !== undefined);
  };
}

/**
 * Runs the rest of the chain, then settles the call however it ended (the slot given back, the record
 * finished): handlers on next()'s promise, not an async frame suspended for a stream's whole life.
 */
function metered(
  deps: MeteringDeps,
  ctx: Ctx,
  next: Next,
  meter: UsageMeter,
  leave: (() => void) | undefined,
  door: boolean,
): Promise<void> {
  const settle = (thrown: unknown) => {
    leave?.();
    finish(deps, ctx, meter, finalStatus(ctx, thrown, door));
  };
  return nextPromise(next).then(
    () => settle(undefined),
    (err: unknown) => {
      settle(err);
      throw err;
    },
  );
}

/** Refuses a key whose month spend reached its budget (402). */
async function checkBudget(deps: MeteringDeps, caller: Caller): Promise<void> {
  const { budgetUsd } = caller.limits;
  if (budgetUsd === undefined || !deps.budget) return;
  try {
    await deps.budget.check(caller.keyId, budgetUsd);
  } catch (err) {
    deps.metrics.budgetRefused.inc();
    deps.onRefused?.('budget', caller.keyId);
    throw err;
  }
}

function finish(deps: MeteringDeps, ctx: Ctx, meter: UsageMeter, status: number): void {
  const { metrics } = deps;
  if (meter.streaming) metrics.activeStreams.dec();
  const record = meter.record(status);
  // The hold given back as the real cost is charged (below), in one step: no moment counts neither.
  if (meter.budgetHold) deps.budget?.release(meter.budgetHold);
  if (meter.admission)
    deps.rateLimits.settle(meter.admission, meter.tokens ? limitedTokens(meter.tokens) : 0);
  // A usage record is a call that reached, or may have reached, Bedrock: begin() spooled its `open`
  // line. What the gateway refused or failed before that (a tokens-per-minute limit as much as the
  // request limits and the budget checked before the handler, a bad body, a model the key may not
  // use) is in the metrics below, not the usage store: a flood of refusals is no flood of store writes.
  if (meter.begunAt !== undefined) {
    if (record.costUsd && deps.budget) deps.budget.charge(record.keyId, record.costUsd);
    try {
      deps.spool?.finish(record);
    } catch (err) {
      ctx.log.error({ err, requestId: ctx.requestId, usage: record }, 'usage record could not be spooled');
    }
    // Counts and ids only: never prompts or keys. Checked first so an off level costs nothing.
    if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ requestId: ctx.requestId, usage: record }, 'usage');
  }
  // Never the client's string (unbounded): the catalogue's id, or 'unknown' before or without one.
  const model = meter.info?.metricsLabel ?? 'unknown';
  metrics.requests.inc({ model, status: String(status), tier: record.serviceTier });
  // Its status stays the 200 the client got: without this, a stream that broke is a success here.
  if (ctx.streamFailed && status < 400) metrics.streamFailures.inc({ model });
  metrics.requestDuration.observe({ model, stream: String(record.stream ?? false) }, record.latencyMs / 1000);
  if (record.ttftMs !== undefined) metrics.timeToFirstToken.observe({ model }, record.ttftMs / 1000);
  if (meter.begunAt !== undefined && meter.answeredAt !== undefined) {
    metrics.upstreamLatency.observe({ model }, (meter.answeredAt - meter.begunAt) / 1000);
  }
  if (record.inputTokens) metrics.tokens.inc({ model, kind: 'input' }, record.inputTokens);
  if (record.outputTokens) metrics.tokens.inc({ model, kind: 'output' }, record.outputTokens);
  if (record.cacheReadInputTokens)
    metrics.tokens.inc({ model, kind: 'cache_read' }, record.cacheReadInputTokens);
  if (record.cacheWriteInputTokens)
    metrics.tokens.inc({ model, kind: 'cache_creation' }, record.cacheWriteInputTokens);
  if (record.costUsd) metrics.costUsd.inc({ model }, record.costUsd);
  const web = meter.tokens?.server_tool_use;
  if (web?.web_search_requests) metrics.webToolRequests.inc({ tool: 'web_search' }, web.web_search_requests);
  if (web?.web_fetch_requests) metrics.webToolRequests.inc({ tool: 'web_fetch' }, web.web_fetch_requests);
}
