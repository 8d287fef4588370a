/**
 * The gateway's Prometheus metrics. Each server owns its own registry (tests run several servers in
 * one process; prom-client's global registry would mix them).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'model' | 'status' | 'tier'>;
  tokens: Counter<'model' | 'kind'>;
  costUsd: Counter<'model'>;
  webToolRequests: Counter<'tool'>;
  requestDuration: Histogram<'model' | 'stream'>;
  timeToFirstToken: Histogram<'model'>;
  upstreamLatency: Histogram<'model'>;
  activeStreams: Gauge;
  rateLimited: Counter<'limit'>;
  budgetRefused: Counter;
  usageStoreErrors: Counter;
  upstreamConnectionWaits: Counter;
  usageDeadLettered: Counter;
}

/** Seconds, from a cache hit on a small prompt to a long agentic turn. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32];

export interface MetricsOptions {
  /** Read at scrape time: usage records not yet in the store. */
  spoolDepth?: () => number;
  /** Process metrics (CPU, memory, event loop); off in unit tests to keep scrapes small. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'abproxy_' });
  const registers = [registry];
  const spoolDepth = options.spoolDepth;
  new Gauge({
    name: 'abproxy_usage_spool_depth',
    help: 'Usage records spooled locally and not yet written to the store',
    registers,
    collect() {
      this.set(spoolDepth ? spoolDepth() : 0);
    },
  });
  return {
    registry,
    requests: new Counter({
      name: 'abproxy_requests_total',
      help: 'Messages requests by model (catalogue name, or unknown), HTTP status and service tier used',
      labelNames: ['model', 'status', 'tier'],
      registers,
    }),
    tokens: new Counter({
      name: 'abproxy_tokens_total',
      help: 'Tokens by client model and kind (input, output, cache_read, cache_creation)',
      labelNames: ['model', 'kind'],
      registers,
    }),
    costUsd: new Counter({
      name: 'abproxy_cost_usd_total',
      help: 'Estimated cost in USD from the price table',
      labelNames: ['model'],
      registers,
    }),
    webToolRequests: new Counter({
      name: 'abproxy_web_tool_requests_total',
      help: 'Web searches and page fetches the gateway made for the web_search / web_fetch server tools',
      labelNames: ['tool'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'abproxy_request_duration_seconds',
      help: 'Messages request duration, first byte in to last byte out',
      labelNames: ['model', 'stream'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: 'abproxy_time_to_first_token_seconds',
      help: 'Streams: request start to the first content event sent',
      labelNames: ['model'],
      buckets: TTFT_BUCKETS,
      registers,
    }),
    upstreamLatency: new Histogram({
      name: 'abproxy_upstream_latency_seconds',
      help: 'Bedrock call start until its response (or stream) began',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    activeStreams: new Gauge({
      name: 'abproxy_active_streams',
      help: 'Streaming responses in progress',
      registers,
    }),
    rateLimited: new Counter({
      name: 'abproxy_rate_limited_total',
      help: 'Requests refused with 429 by our own limits, by the limit hit',
      labelNames: ['limit'],
      registers,
    }),
    budgetRefused: new Counter({
      name: 'abproxy_budget_refused_total',
      help: 'Requests refused because the key spent its monthly budget',
      registers,
    }),
    usageStoreErrors: new Counter({
      name: 'abproxy_usage_store_errors_total',
      help: 'Failed attempts to move spooled usage records into the store (retried)',
      registers,
    }),
    upstreamConnectionWaits: new Counter({
      name: 'abproxy_upstream_connection_waits_total',
      help: 'Bedrock calls that waited for a free upstream connection (ABPROXY_UPSTREAM_MAX_CONNECTIONS reached)',
      registers,
    }),
    usageDeadLettered: new Counter({
      name: 'abproxy_usage_dead_lettered_total',
      help: 'Usage records the store refused for good, set aside in the spool dead-letter file',
      registers,
    }),
  };
}
