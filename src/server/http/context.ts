import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestMeter } from '../../metrics/stats.ts';
import type { KeyRecord } from '../../store/types.ts';
import type { RequestSpan } from '../../telemetry/tracing.ts';
import type { UpstreamTrace } from '../../upstream/trace.ts';
import type { Meter } from '../middleware/metering.ts';
import type { Logger } from './logger.ts';

/**
 * Per-request state shared by the middlewares and the route handler. The RequestMeter fields (model,
 * tokens, first token) are what the handler reports to ServerStats, kept on the Ctx to avoid an object.
 */
export interface Ctx extends RequestMeter {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** `req_…`, sent back as `request-id` and `x-request-id`. */
  requestId: string;
  log: Logger;
  /** Path parameters of the matched route. */
  params: Record<string, string>;
  /** The stored key that authenticated the call (absent for the master key and open gateways). */
  key?: KeyRecord;
  /** Usage and limit accounting of a Messages request (set by the metering middleware). */
  meter?: Meter;
  /** With several upstreams: which one served and how many attempts failed before. */
  upstream?: UpstreamTrace;
  /**
   * W3C trace id (32 hex) of this request: the client's `traceparent` when it sent one, else the span's
   * when tracing is on. Returned in a header, written in the log line and the usage record.
   */
  traceId?: string;
  /** The request's span, only when tracing is on and the path is traced (src/telemetry/). */
  span?: RequestSpan;
}

export type Next = () => Promise<void>;
export type Middleware = (ctx: Ctx, next: Next) => Promise<void>;
export type Handler = (ctx: Ctx) => Promise<void>;
