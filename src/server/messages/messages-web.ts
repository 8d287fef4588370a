/**
 * POST /v1/messages with Anthropic's web server tools (web_search_*, web_fetch_*): the web tools loop
 * (src/tools/web-loop.ts) around the model calls of the chosen path. Streaming sends each block as it
 * happens (headers only once the first model call answered, so its refusal is still a real HTTP status);
 * non-streaming is the same loop folded into one message.
 */
import { ApiError } from '../../anthropic/errors.ts';
import type { MessagesRequest, StreamEvent } from '../../anthropic/types.ts';
import type { ContextUrls } from '../../tools/web/context-urls.ts';
import { missingProviderMessage } from '../../tools/web/index.ts';
import { quotaRefusalMessage, type WebToolCaller } from '../../tools/web/quota.ts';
import type { WebFetchRequest } from '../../tools/web/types.ts';
import { WebLoop } from '../../tools/web-loop.ts';
import { isWebFetchTool, isWebSearchTool, type WebToolSpec, webToolsOf } from '../../tools/web-request.ts';
import { foldStream } from '../../translate/fold-stream.ts';
import { estimateInputTokens } from '../../translate/token-estimate.ts';
import type { AppDeps } from '../deps.ts';
import { stallDeadline } from '../http/client-abort.ts';
import { sendJson } from '../http/respond.ts';
import { SseWriter } from '../http/sse.ts';
import { callerOf } from '../middleware/accounting.ts';
import type { MessageCall } from './message-call.ts';
import { messagePath } from './message-path.ts';
import { openModelRound } from './model-round.ts';
import { reportUsage } from './report-usage.ts';
import { recordStreamedReply } from './threads.ts';

export interface WebToolsPlan {
  /** The request, without a web_search tool that was removed (no provider, `remove` configured). */
  request: MessagesRequest;
  /** The web tools the loop serves; undefined when none is left. */
  spec: WebToolSpec | undefined;
  warnings: string[];
}

/**
 * The request's web tools, checked before any model call: web_search without a search provider is
 * refused (400 naming ABPROXY_WEB_SEARCH_PROVIDER) or removed with a warning, as configured.
 */
export function planWebTools(
  deps: Pick<AppDeps, 'webTools' | 'webQuota' | 'config'>,
  request: MessagesRequest,
  caller: WebToolCaller,
): WebToolsPlan {
  const spec = webToolsOf(request);
  if (!spec) return { request, spec, warnings: [] };
  if (deps.webQuota && !deps.webQuota.allowed(caller)) {
    throw new ApiError(
      'permission_error',
      `${quotaRefusalMessage}: its web search setting is off (\`abproxy keys create --web-search\` allows them)`,
    );
  }
  const warnings: string[] = [];
  if (spec.search && !deps.webTools?.search) {
    if (deps.config.webSearchWithoutProvider !== 'remove') throw ApiError.invalid(missingProviderMessage);
    const name = spec.search.name;
    request = {
      ...request,
      tools: (request.tools ?? []).filter((tool) => !isWebSearchTool(tool)),
      ...(request.tool_choice?.type === 'tool' && request.tool_choice.name === name
        ? { tool_choice: { type: 'auto' } }
        : {}),
    };
    warnings.push(
      `server tool "${name}" removed: no search provider configured (ABPROXY_WEB_SEARCH_PROVIDER)`,
    );
    spec.search = undefined;
  }
  if (spec.fetch && !deps.webTools)
    throw ApiError.invalid(`tools: ${spec.fetch.name}: web fetch is not enabled on this gateway`);
  return { request, spec: spec.search || spec.fetch ? spec : undefined, warnings };
}

/** Whether the request forces a web tool in a way the model cannot be forced natively (Converse, most open models). */
function forcedByInstruction(call: MessageCall): boolean {
  const { request, model, deps } = call;
  const choice = request.tool_choice;
  if (!choice || messagePath(deps.config, model) === 'invoke') return false;
  if (choice.type === 'tool') {
    const tool = request.tools?.find((t) => t.name === choice.name);
    return (
      tool !== undefined && (isWebSearchTool(tool) || isWebFetchTool(tool)) && !model.caps.toolChoiceTool
    );
  }
  return choice.type === 'any' && !model.caps.toolChoiceAny;
}

export async function webMessages(
  call: MessageCall,
  spec: WebToolSpec,
  hold: WebFetchRequest['hold'],
  contextUrls?: ContextUrls,
): Promise<void> {
  const { ctx, deps, request, model, abort } = call;
  if (!model.caps.tools) {
    throw ApiError.invalid(
      `tools: ${model.modelId} does not support tool use, so it cannot use web search or fetch`,
    );
  }
  const warnings: string[] = [];
  let rounds = 0;
  const holdsBudget = callerOf(ctx).limits.budgetUsd !== undefined;
  const loop = new WebLoop({
    request,
    spec,
    tools: deps.webTools!,
    secret: deps.signingSecret,
    forceByInstruction: forcedByInstruction(call),
    timeBudgetMs: deps.config.webToolsTimeBudgetMs,
    signal: abort.signal,
    ...(hold ? { hold } : {}),
    caller: callerOf(ctx).keyId,
    ...(contextUrls ? { contextUrls } : {}),
    admit: async (tool) => {
      const quota = deps.webQuota;
      return quota ? quota.tryUse(callerOf(ctx), tool === 'web_search' ? 'search' : 'fetch') : true;
    },
    release: (tool) => deps.webQuota?.giveBack(callerOf(ctx), tool === 'web_search' ? 'search' : 'fetch'),
    openRound: async (roundRequest) => {
      // The first round was held at admission; each later one holds what the loop spent so far and
      // its own worst case (a 402 when the budget has no room for it).
      if (rounds++ > 0 && holdsBudget) {
        ctx.meter?.holdBudget(
          model.baseModelId,
          estimateInputTokens(roundRequest),
          Math.min(roundRequest.max_tokens, model.caps.maxOutputTokens),
          loop.usage(),
        );
      }
      const round = await openModelRound(call, roundRequest);
      if (round) warnings.push(...round.warnings.filter((w) => !warnings.includes(w)));
      return round;
    },
  });
  const events = loop.events();

  if (!request.stream) {
    const all: StreamEvent[] = [];
    try {
      for await (const event of events) all.push(event);
    } finally {
      reportUsage(ctx, loop.usage(), { estimated: loop.usageIsEstimated });
    }
    if (!loop.finished) return; // the client left
    const message = foldStream(all);
    ctx.span?.response(message);
    call.thread?.record(message);
    sendJson(ctx.res, 200, message, call.headers(warnings));
    return;
  }

  let first: IteratorResult<StreamEvent>;
  try {
    first = await events.next();
  } catch (err) {
    reportUsage(ctx, loop.usage(), { estimated: loop.usageIsEstimated });
    throw err;
  }
  if (first.done) {
    reportUsage(ctx, loop.usage(), { estimated: loop.usageIsEstimated });
    return;
  }
  const sse = new SseWriter(ctx.res, {
    pingIntervalMs: deps.config.pingIntervalMs,
    abort,
    stall: stallDeadline(ctx, deps.config.clientStallTimeoutMs),
  });
  sse.open(call.headers(warnings));
  deps.stats?.streamOpened(ctx);
  const span = ctx.span;
  span?.streamOpened();
  let failure: unknown;
  try {
    let next: IteratorResult<StreamEvent> = first;
    const sent: StreamEvent[] | undefined = call.thread ? [] : undefined;
    while (!next.done) {
      if (sse.closed) throw new Error('client disconnected');
      const event = next.value;
      sent?.push(event);
      await sse.send(event);
      span?.streamEvent(event);
      if (event.type === 'message_start') await sse.ping();
      else if (event.type === 'content_block_start' || event.type === 'content_block_delta')
        deps.stats?.firstToken(ctx);
      next = await events.next();
    }
    if (sent && call.thread) recordStreamedReply(call.thread, sent);
    sse.end();
  } catch (err) {
    if (abort.signal.aborted || sse.closed) {
      ctx.log.debug({ requestId: ctx.requestId, usage: loop.usage() }, 'client disconnected mid-stream');
      span?.streamEnded({ cut: true });
      return;
    }
    ctx.log.warn({ requestId: ctx.requestId, err }, 'web tools stream failed');
    ctx.streamFailed = true;
    failure = err;
    abort.abort(new Error('stream failed'));
    await sse.fail(call.upstreamError(err));
  } finally {
    reportUsage(ctx, loop.usage(), { estimated: loop.usageIsEstimated });
    span?.streamEnded(failure === undefined ? {} : { err: failure });
    if (warnings.length) ctx.log.debug({ requestId: ctx.requestId, warnings }, 'lossy translation');
  }
}
