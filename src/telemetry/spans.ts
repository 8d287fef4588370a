/**
 * The gateway's spans (loaded only with tracing on): a SERVER span per client request (child of the
 * client's W3C `traceparent`), an INTERNAL span for auth + limits, a CLIENT span per upstream attempt,
 * and an INTERNAL span for the stream to the client with the time to first token. The OTel context is
 * carried in an AsyncLocalStorage of our own, so no global context manager or provider is registered
 * (several gateways in one process stay apart).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ApiError } from '../anthropic/errors.ts';
import type { MessagesRequest, Usage } from '../anthropic/types.ts';
import { isStreamOperation } from '../server/bedrock/paths.ts';
import type { Ctx, Middleware } from '../server/http/context.ts';
import { adoptTraceId } from '../server/middleware/request-id.ts';
import type { OutgoingEvent } from '../translate/stream-translator.ts';
import { type StreamFailure, untilDone } from '../upstream/event-stream.ts';
import type { BedrockRuntime, ForwardOperation } from '../upstream/runtime.ts';
import { cleanLabel, SESSION_HEADER } from '../usage/attribution.ts';
import {
  type Attributes,
  CONTENT_LIMIT,
  completionText,
  deltaText,
  GEN_AI_PROVIDER,
  isTracedPath,
  messageIdOf,
  promptText,
  requestAttributes,
  responseAttributes,
  routeOf,
  stopReasonOf,
  systemText,
} from './genai.ts';
import type { ModelNames, RequestSpan, Telemetry, UpstreamInfo } from './tracing.ts';

function errorType(err: unknown): string {
  if (err instanceof ApiError) return err.type;
  const e = err as { name?: unknown } | undefined;
  return typeof e?.name === 'string' && e.name !== '' ? e.name : 'Error';
}

function recordFault(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setAttribute('error.type', errorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The attempt that answered: ended once the request has the answer's facts (usage, finish reason). */
interface Answering {
  span: Span;
  /** When Bedrock's answer ended (the span's end time), in epoch ms. */
  endTime: number;
  /** performance.now() when the attempt started (time to first chunk). */
  startedAt: number;
  stream: boolean;
  /** This call's own usage when it was one round of several (roundUsage). */
  usage?: Usage;
}

const epochNow = () => performance.timeOrigin + performance.now();

/** A call's usage as the GenAI attributes count it (input tokens include the cached ones). */
function usageFacts(usage: Usage) {
  const cacheReadTokens = usage.cache_read_input_tokens ?? 0;
  const cacheWriteTokens = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: usage.input_tokens + cacheReadTokens + cacheWriteTokens,
    outputTokens: usage.output_tokens,
    cacheReadTokens,
    cacheWriteTokens,
  };
}

class TracedRequest implements RequestSpan {
  readonly span: Span;
  readonly context: Context;
  readonly #ctx: Ctx;
  readonly #tracer: Tracer;
  readonly #content: boolean;
  readonly #startedAt = performance.now();
  #auth: Span | undefined;
  #stream: Span | undefined;
  /** The model as the client named it (gen_ai.request.model), and the catalogue's name for span names. */
  #requested: string | undefined;
  #label: string | undefined;
  #resolvedModel: string | undefined;
  /** The request's GenAI attributes, given to every attempt span. */
  #attempt: Attributes = {};
  #answering: Answering | undefined;
  #usage: Usage | undefined;
  #responseId: string | undefined;
  #stopReason: string | undefined;
  /** The answer (ABPROXY_TRACE_CONTENT): its blocks, or a stream's text as it came. */
  #answerBlocks: readonly unknown[] | undefined;
  #completion: string[] | undefined;
  #completionChars = 0;
  #ended = false;

  constructor(ctx: Ctx, tracer: Tracer, span: Span, context: Context, content: boolean) {
    this.#ctx = ctx;
    this.#tracer = tracer;
    this.span = span;
    this.context = context;
    this.#content = content && span.isRecording();
  }

  startAuth(): Context {
    this.#auth = this.#tracer.startSpan('auth and limits', { kind: SpanKind.INTERNAL }, this.context);
    return trace.setSpan(this.context, this.#auth);
  }

  /** Ends the auth span once; `err` only counts while it is still open (a refusal by auth or limits). */
  endAuth(err?: unknown): void {
    const auth = this.#auth;
    if (!auth) return;
    this.#auth = undefined;
    if (err !== undefined) recordFault(auth, err);
    if (this.#ctx.key) auth.setAttribute('abproxy.key_id', this.#ctx.key.id);
    auth.end();
  }

  model(requested: string, resolved: ModelNames): void {
    this.#requested = requested;
    this.#label = resolved.metricsLabel;
    this.#resolvedModel = resolved.modelId;
    // Claude Code's session: the GenAI conventions' conversation (required when known). On the server
    // span too, which groups a session's requests without being a GenAI call itself.
    const session = cleanLabel(this.#ctx.req.headers[SESSION_HEADER]);
    if (session) {
      this.#attempt['gen_ai.conversation.id'] = session;
      this.span.setAttribute('gen_ai.conversation.id', session);
    }
  }

  request(request: MessagesRequest, resolved: ModelNames): void {
    this.model(request.model, resolved);
    if (!this.span.isRecording()) return;
    Object.assign(this.#attempt, requestAttributes(request));
    if (this.#content) {
      const system = systemText(request);
      if (system !== undefined) this.#attempt['gen_ai.system_instructions'] = system;
      this.#attempt['gen_ai.input.messages'] = promptText(request);
    }
  }

  usage(usage: Usage): void {
    this.#usage = usage;
  }

  roundUsage(usage: Usage): void {
    if (this.#answering) this.#answering.usage = usage;
  }

  /** An attempt's span name: the catalogue's name of the model, never the client's own string. */
  attemptName(operation: string): string {
    return `${operation} ${this.#label ?? 'unknown'}`;
  }

  /** The request's attributes every attempt span carries. */
  attemptAttributes(): Attributes {
    return this.#requested === undefined
      ? this.#attempt
      : { ...this.#attempt, 'gen_ai.request.model': this.#requested };
  }

  /**
   * An attempt got its answer (a stream: to its end, or cut). Its span ends with the request, when the
   * usage and finish reason are known; an earlier one (a web search round) ends now.
   */
  answered(answering: Answering): void {
    if (this.#ended) {
      this.#finish(answering);
      return;
    }
    const earlier = this.#answering;
    this.#answering = answering;
    if (earlier) {
      if (earlier.usage) earlier.span.setAttributes(responseAttributes(usageFacts(earlier.usage)));
      earlier.span.end(earlier.endTime);
    }
  }

  #finish(answering: Answering): void {
    const { span } = answering;
    // The last round of several carries its own tokens (the earlier ones carry theirs); a single call
    // the request's.
    const usage = answering.usage ?? this.#usage;
    span.setAttributes(
      responseAttributes({
        id: this.#responseId,
        // With several upstreams, the id the serving one called (its region's profile).
        model:
          this.#resolvedModel === undefined ? undefined : (this.#ctx.upstream?.called ?? this.#resolvedModel),
        ...(usage ? usageFacts(usage) : {}),
        stopReason: this.#stopReason,
      }),
    );
    const first = this.#ctx.firstTokenAt;
    if (answering.stream && first !== undefined && first > answering.startedAt) {
      span.setAttribute('gen_ai.response.time_to_first_chunk', (first - answering.startedAt) / 1000);
    }
    const answer = this.#answerBlocks ?? this.#completion?.join('');
    if (answer !== undefined)
      span.setAttribute('gen_ai.output.messages', completionText(answer, this.#stopReason));
    span.end(answering.endTime);
  }

  response(answer: { id?: string; stop_reason?: string | null; content?: readonly unknown[] }): void {
    if (answer.id) this.#responseId = answer.id;
    if (answer.stop_reason) this.#stopReason = answer.stop_reason;
    if (this.#content && answer.content) this.#answerBlocks = answer.content;
  }

  streamOpened(): void {
    this.#stream = this.#tracer.startSpan('stream', { kind: SpanKind.INTERNAL }, this.context);
  }

  streamEvent(event: OutgoingEvent): void {
    if (event.type === 'message_delta') {
      this.#stopReason = stopReasonOf(event) ?? this.#stopReason;
    } else if (event.type === 'message_start') {
      this.#responseId = messageIdOf(event) ?? this.#responseId;
    } else if (
      this.#content &&
      event.type === 'content_block_delta' &&
      this.#completionChars <= CONTENT_LIMIT
    ) {
      const text = deltaText(event);
      if (text) {
        this.#completion ??= [];
        this.#completion.push(text);
        this.#completionChars += text.length;
      }
    }
  }

  streamEnded(outcome: { err?: unknown; cut?: boolean } = {}): void {
    const stream = this.#stream;
    if (!stream) return;
    this.#stream = undefined;
    const first = this.#ctx.firstTokenAt;
    if (first !== undefined) {
      const seconds = Math.max(0, first - this.#startedAt) / 1000;
      stream.addEvent('abproxy.first_token', performance.timeOrigin + first);
      stream.setAttribute('abproxy.time_to_first_token', seconds);
      this.span.setAttribute('abproxy.time_to_first_token', seconds);
    }
    if (outcome.cut) stream.setAttribute('abproxy.client_disconnected', true);
    if (outcome.err !== undefined) {
      recordFault(stream, outcome.err);
      recordFault(this.span, outcome.err);
    }
    stream.end();
  }

  /** A failure thrown through the chain (answered by the error handler). */
  fail(err: unknown): void {
    this.endAuth(err);
    this.span.recordException(err instanceof Error ? err : String(err));
    this.span.setAttribute('error.type', errorType(err));
  }

  /**
   * The response is finished (or the connection closed): the server span's HTTP status, and the
   * answering attempt's usage and answer. The server span is the HTTP server's: its only gen_ai.* is
   * the conversation id, so a GenAI backend counts one call per attempt, not two per request.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.endAuth();
    this.streamEnded({ cut: true });
    const ctx = this.#ctx;
    const span = this.span;
    const status = ctx.res.statusCode;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500 || ctx.streamFailed) span.setStatus({ code: SpanStatusCode.ERROR });
    if (span.isRecording()) {
      if (ctx.key) span.setAttribute('abproxy.key_id', ctx.key.id);
      if (ctx.upstream?.served) span.setAttribute('abproxy.upstream', ctx.upstream.served);
      if (ctx.upstream?.failedAttempts)
        span.setAttribute('abproxy.failed_attempts', ctx.upstream.failedAttempts);
    }
    const answering = this.#answering;
    this.#answering = undefined;
    if (answering) this.#finish(answering);
    span.end();
  }
}

/** The request being served: its OTel context (the parent of attempt spans) and its span. */
interface Scope {
  context: Context;
  traced: TracedRequest;
}

export class Spans implements Omit<Telemetry, 'shutdown'> {
  readonly #tracer: Tracer;
  readonly #content: boolean;
  readonly #propagator = new W3CTraceContextPropagator();
  /** The OTel context of the request being served (the parent of attempt spans). */
  readonly #current = new AsyncLocalStorage<Scope>();

  constructor(tracer: Tracer, options: { content: boolean }) {
    this.#tracer = tracer;
    this.#content = options.content;
  }

  request: Middleware = async (ctx, next) => {
    const path = ctx.url.pathname;
    if (!isTracedPath(path)) return next();
    const parent = this.#propagator.extract(ROOT_CONTEXT, ctx.req.headers, defaultTextMapGetter);
    const method = ctx.req.method ?? 'GET';
    const route = routeOf(path);
    const span = this.#tracer.startSpan(
      `${method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'http.route': route,
          'url.path': path,
          'url.scheme': 'http',
          'abproxy.request_id': ctx.requestId,
          ...(ctx.req.headers['user-agent'] ? { 'user_agent.original': ctx.req.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    const context = trace.setSpan(parent, span);
    // The attribution side parses the client's traceparent into ctx.traceId even with tracing off; the
    // span then has that same trace id. A request without one gets our new root trace's id here.
    adoptTraceId(ctx, span.spanContext().traceId);
    const traced = new TracedRequest(ctx, this.#tracer, span, context, this.#content);
    ctx.span = traced;
    // The span ends once the response is closed and the handler has returned, whichever comes last: a
    // client that leaves mid-stream closes the response before the handler has counted the tokens.
    let pending = 2;
    const settle = () => {
      if (--pending === 0) traced.end();
    };
    ctx.res.once('close', settle);
    try {
      await this.#current.run({ context, traced }, next);
    } catch (err) {
      traced.fail(err);
      throw err;
    } finally {
      settle();
    }
  };

  authStart: Middleware = async (ctx, next) => {
    const traced = ctx.span as TracedRequest | undefined;
    if (!traced) return next();
    try {
      await this.#current.run({ context: traced.startAuth(), traced }, next);
    } catch (err) {
      traced.endAuth(err);
      throw err;
    }
  };

  authEnd: Middleware = (ctx, next) => {
    const traced = ctx.span as TracedRequest | undefined;
    if (!traced) return next();
    traced.endAuth();
    return this.#current.run({ context: traced.context, traced }, next);
  };

  wrapRuntime(runtime: BedrockRuntime, upstream: UpstreamInfo): BedrockRuntime {
    const attempt = <T>(
      method: string,
      stream: boolean,
      run: () => Promise<T>,
      requestIdOf: (answer: T) => string | undefined,
      signal?: AbortSignal,
    ): Promise<T> => {
      const scope = this.#current.getStore();
      if (!scope) return run();
      const { traced } = scope;
      const operation = method === 'CountTokens' ? 'count_tokens' : 'chat';
      const startedAt = performance.now();
      // The GenAI span of the call (one per attempt): named after the catalogue's model, never the
      // client's string; the client's string is its gen_ai.request.model.
      const span = this.#tracer.startSpan(
        traced.attemptName(operation),
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': operation,
            'gen_ai.provider.name': GEN_AI_PROVIDER,
            ...traced.attemptAttributes(),
            ...(operation === 'chat' ? { 'gen_ai.request.stream': stream } : {}),
            'rpc.system': 'aws-api',
            'rpc.service': 'BedrockRuntime',
            'rpc.method': method,
            'cloud.region': upstream.region,
            'abproxy.upstream': upstream.name,
          },
        },
        scope.context,
      );
      const answered = () =>
        operation === 'chat' ? traced.answered({ span, endTime: epochNow(), startedAt, stream }) : span.end();
      return run().then(
        (answer) => {
          const requestId = requestIdOf(answer);
          if (requestId) span.setAttribute('aws.request_id', requestId);
          const { stream: events } = answer as { stream?: AsyncIterable<unknown> };
          if (events === undefined) {
            answered();
            return answer;
          }
          // The answer arrives through its stream: the attempt lasts until that ends, and fails when it
          // fails mid-way (a modelStreamErrorException is this call's fault, not only the client's).
          let ended = false;
          const end = (failure?: StreamFailure) => {
            if (ended) return;
            ended = true;
            signal?.removeEventListener('abort', abandoned);
            if (failure) recordFault(span, failure.err);
            answered();
          };
          // A stream nobody reads to its end (the client left, the call was cancelled) ends with it.
          const abandoned = () => end();
          signal?.addEventListener('abort', abandoned, { once: true });
          return { ...answer, stream: untilDone(events, end) } as T;
        },
        (err: unknown) => {
          const meta = (err as { $metadata?: { requestId?: string; httpStatusCode?: number } } | undefined)
            ?.$metadata;
          if (meta?.requestId) span.setAttribute('aws.request_id', meta.requestId);
          if (meta?.httpStatusCode) span.setAttribute('http.response.status_code', meta.httpStatusCode);
          recordFault(span, err);
          span.end();
          throw err;
        },
      );
    };
    return {
      converse: (input, signal) =>
        attempt(
          'Converse',
          false,
          () => runtime.converse(input, signal),
          (a) => a.$metadata?.requestId,
          signal,
        ),
      converseStream: (input, signal) =>
        attempt(
          'ConverseStream',
          true,
          () => runtime.converseStream(input, signal),
          (a) => a.requestId,
          signal,
        ),
      invokeModel: (input, signal) =>
        attempt(
          'InvokeModel',
          false,
          () => runtime.invokeModel(input, signal),
          () => undefined,
          signal,
        ),
      invokeModelStream: (input, signal) =>
        attempt(
          'InvokeModelWithResponseStream',
          true,
          () => runtime.invokeModelStream(input, signal),
          (a) => a.requestId,
          signal,
        ),
      countTokens: (input, signal) =>
        attempt(
          'CountTokens',
          false,
          () => runtime.countTokens(input, signal),
          () => undefined,
          signal,
        ),
      messagesApi: (input, signal) =>
        attempt(
          input.host === 'mantle' ? 'MantleMessages' : 'Messages',
          input.stream,
          () => runtime.messagesApi(input, signal),
          (a) => a.requestId,
          signal,
        ),
      forward: (input, signal) =>
        attempt(
          FORWARD_METHODS[input.operation],
          isStreamOperation(input.operation),
          () => runtime.forward(input, signal),
          (a) => a.requestId,
          signal,
        ),
    };
  }
}

/** The Bedrock-format door's operations under their API names (the attempt span's rpc.method). */
const FORWARD_METHODS: Record<ForwardOperation, string> = {
  invoke: 'InvokeModel',
  'invoke-with-response-stream': 'InvokeModelWithResponseStream',
  converse: 'Converse',
  'converse-stream': 'ConverseStream',
  'count-tokens': 'CountTokens',
};
