/**
 * OpenTelemetry traces, switched on by the standard OTEL_* settings and LOADED LAZILY: with tracing off
 * (the default) nothing of the SDK is imported, the middleware chain has no tracing step, the upstream
 * runtime is not wrapped, and the request path only meets `ctx.span?.…` (undefined). With it on,
 * startTelemetry imports the SDK (otel.ts) and returns the hooks the server wires in.
 */

import type { MessagesRequest, Usage } from '../anthropic/types.ts';
import { type Config, ConfigError } from '../config/config.ts';
import type { ResolvedModel } from '../models/types.ts';
import type { Middleware } from '../server/http/context.ts';
import type { Logger } from '../server/http/logger.ts';
import type { OutgoingEvent } from '../translate/stream-translator.ts';
import type { BedrockRuntime } from '../upstream/runtime.ts';

/**
 * What the request path tells the request's span (present on the Ctx only when tracing is on and the
 * request is traced). Every method is cheap and never throws.
 */
export interface RequestSpan {
  /** The model the client named and what it resolved to (the door's calls, count_tokens). */
  model(requested: string, resolved: ModelNames): void;
  /** The validated request and its model (GenAI request attributes, prompt text). */
  request(request: MessagesRequest, resolved: ModelNames): void;
  /** The usage the request is billed (the answering attempt's gen_ai.usage.*). */
  usage(usage: Usage): void;
  /**
   * One model call of several (a web tools loop's round) ended with this usage: its own attempt span
   * carries it, so each call's span has its own tokens and their sum is the request's.
   */
  roundUsage(usage: Usage): void;
  /** A non-streamed answer: its id and stop reason (and text, with ABPROXY_TRACE_CONTENT). */
  response(answer: { id?: string; stop_reason?: string | null; content?: readonly unknown[] }): void;
  /** The SSE stream to the client opened: starts the stream span. */
  streamOpened(): void;
  /** One event sent to the client (stop reason, completion text). */
  streamEvent(event: OutgoingEvent): void;
  /** The stream ended: `err` when it failed, `cut` when the client left. */
  streamEnded(outcome?: { err?: unknown; cut?: boolean }): void;
}

/** A resolved model as spans name it: the id called, and the catalogue's bounded name (span names). */
export type ModelNames = Pick<ResolvedModel, 'modelId' | 'metricsLabel'>;

/** Which upstream a wrapped runtime calls (attempt span attributes). */
export interface UpstreamInfo {
  name: string;
  region: string;
}

export interface Telemetry {
  /** Opens the SERVER span of a client request (right after the error handler). */
  request: Middleware;
  /** Before auth: opens the auth/limits span; `authEnd` (just before the router) closes it. */
  authStart: Middleware;
  authEnd: Middleware;
  /** One CLIENT span per upstream attempt (several with a pool). */
  wrapRuntime(runtime: BedrockRuntime, upstream: UpstreamInfo): BedrockRuntime;
  /** Flushes the spans still queued and stops the exporter (on drain). */
  shutdown(): Promise<void>;
}

export type TelemetrySettings = Pick<
  Config,
  | 'otelSdkDisabled'
  | 'otelTracesExporter'
  | 'otelEndpoint'
  | 'otelTracesEndpoint'
  | 'otelProtocol'
  | 'otelHeaders'
  | 'otelServiceName'
  | 'otelResourceAttributes'
  | 'otelTracesSampler'
  | 'otelTracesSamplerArg'
  | 'otelBspScheduleDelayMs'
  | 'traceContent'
>;

/** Where spans go: the traces endpoint as is, else the base endpoint + `/v1/traces`; undefined: off. */
export function tracesUrl(settings: TelemetrySettings): string | undefined {
  if (settings.otelSdkDisabled || settings.otelTracesExporter === 'none') return undefined;
  if (settings.otelTracesEndpoint) return settings.otelTracesEndpoint;
  return settings.otelEndpoint ? `${settings.otelEndpoint}/v1/traces` : undefined;
}

/** Tracing's hooks when it is on (the SDK imported now), else undefined at no cost. */
export async function startTelemetry(
  settings: TelemetrySettings,
  log: Logger,
): Promise<Telemetry | undefined> {
  const url = tracesUrl(settings);
  if (url === undefined) return undefined;
  // Only refused when traces are on: a shell may set it for other programs.
  if (settings.otelProtocol === 'grpc') {
    throw new ConfigError(
      'OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported by abproxy; use http/protobuf (port 4318 on a collector) or http/json',
    );
  }
  const { createTelemetry } = await import('./otel.ts');
  return createTelemetry(settings, url, log);
}
