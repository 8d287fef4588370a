/**
 * The OpenTelemetry SDK set up from the OTEL_* settings (imported only when tracing is on): a tracer
 * provider with the configured sampler and resource, a batch processor and the OTLP/HTTP exporter for
 * the protocol asked (http/protobuf or http/json). Nothing is registered globally.
 */

import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { OtelSampler } from '../config/settings.ts';
import type { Logger } from '../server/http/logger.ts';
import { Spans } from './spans.ts';
import type { Telemetry, TelemetrySettings } from './tracing.ts';

function samplerFor(name: OtelSampler | undefined, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

async function exporterFor(settings: TelemetrySettings, url: string) {
  const config = { url, headers: { ...settings.otelHeaders } };
  if (settings.otelProtocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(config);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(config);
}

/** The URL without user info or query (either may hold a credential), for the log. */
function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

type Exporter = ConstructorParameters<typeof BatchSpanProcessor>[0]['exporter'];

/** The exporter, warning (at most once a minute) when the collector refuses or cannot be reached. */
function warnOnFailure(exporter: Exporter, url: string, log: Logger): Exporter {
  let lastWarning = 0;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0 && Date.now() - lastWarning > 60_000) {
          lastWarning = Date.now();
          log.warn({ url, err: result.error, spans: spans.length }, 'OpenTelemetry export failed');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush!() } : {}),
  };
}

export async function createTelemetry(
  settings: TelemetrySettings,
  url: string,
  log: Logger,
): Promise<Telemetry> {
  const shown = shownUrl(url);
  // The exporter packages bring their own copy of the SDK types; the span shapes are the same.
  const exporter = warnOnFailure((await exporterFor(settings, url)) as unknown as Exporter, shown, log);
  const provider = new TracerProvider({
    sampler: samplerFor(settings.otelTracesSampler, settings.otelTracesSamplerArg),
    resource: defaultResource().merge(
      resourceFromAttributes({
        ...settings.otelResourceAttributes,
        'service.name': settings.otelServiceName,
      }),
    ),
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: settings.otelBspScheduleDelayMs }),
    ],
  });
  const spans = new Spans(provider.getTracer('abproxy'), { content: settings.traceContent });
  log.info(
    {
      url: shown,
      protocol: settings.otelProtocol,
      sampler: settings.otelTracesSampler,
      content: settings.traceContent,
    },
    'OpenTelemetry traces on',
  );
  return {
    request: spans.request,
    authStart: spans.authStart,
    authEnd: spans.authEnd,
    wrapRuntime: (runtime, upstream) => spans.wrapRuntime(runtime, upstream),
    shutdown: () => provider.shutdown(),
  };
}
