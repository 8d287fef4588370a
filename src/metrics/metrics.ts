/**
 * The gateway's Prometheus metrics. Each server owns its own registry (tests run several servers in
 * one process; prom-client's global registry would mix them).
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { TallyCounter, TallyHistogram } from './tallies.ts';

export interface GatewayMetrics {
  registry: Registry;
  // Counted on every request: tallies (plain numbers, written out at scrape time).
  requests: TallyCounter<'model' | 'status' | 'tier'>;
  tokens: TallyCounter<'model' | 'kind'>;
  costUsd: TallyCounter<'model'>;
  streamFailures: TallyCounter<'model'>;
  webToolRequests: Counter<'tool'>;
  requestDuration: TallyHistogram<'model' | 'stream'>;
  timeToFirstToken: TallyHistogram<'model'>;
  upstreamLatency: TallyHistogram<'model'>;
  activeStreams: Gauge;
  rateLimited: Counter<'limit'>;
  budgetRefused: Counter;
  usageStoreErrors: Counter;
  upstreamConnectionWaits: Counter;
  bodyBudgetRefusals: Counter;
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
    requests: new TallyCounter(registry, {
      name: 'abproxy_requests_total',
      help: 'Messages requests by model (catalogue name, or unknown), HTTP status and service tier used',
      labelNames: ['model', 'status', 'tier'],
    }),
    tokens: new TallyCounter(registry, {
      name: 'abproxy_tokens_total',
      help: 'Tokens by client model and kind (input, output, cache_read, cache_creation)',
      labelNames: ['model', 'kind'],
    }),
    costUsd: new TallyCounter(registry, {
      name: 'abproxy_cost_usd_total',
      help: 'Estimated cost in USD from the price table',
      labelNames: ['model'],
    }),
    streamFailures: new TallyCounter(registry, {
      name: 'abproxy_stream_failures_total',
      help: 'Streams that broke after their 200 went out (Bedrock failed mid-way), by model; abproxy_requests_total counts them as 200',
      labelNames: ['model'],
    }),
    webToolRequests: new Counter({
      name: 'abproxy_web_tool_requests_total',
      help: 'Web searches and page fetches the gateway made for the web_search / web_fetch server tools',
      labelNames: ['tool'],
      registers,
    }),
    requestDuration: new TallyHistogram(registry, {
      name: 'abproxy_request_duration_seconds',
      help: 'Messages request duration, first byte in to last byte out',
      labelNames: ['model', 'stream'],
      buckets: LATENCY_BUCKETS,
    }),
    timeToFirstToken: new TallyHistogram(registry, {
      name: 'abproxy_time_to_first_token_seconds',
      help: 'Streams: request start to the first content event sent',
      labelNames: ['model'],
      buckets: TTFT_BUCKETS,
    }),
    upstreamLatency: new TallyHistogram(registry, {
      name: 'abproxy_upstream_latency_seconds',
      help: 'Bedrock call start until its response (or stream) began',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
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
    bodyBudgetRefusals: new Counter({
      name: 'abproxy_body_budget_refusals_total',
      help: 'Requests refused because the request bodies held at once reached ABPROXY_MAX_BODY_BYTES_IN_FLIGHT (529) or one key held half of it (429)',
      registers,
    }),
    usageDeadLettered: new Counter({
      name: 'abproxy_usage_dead_lettered_total',
      help: 'Usage records the store refused for good, set aside in the spool dead-letter file',
      registers,
    }),
  };
}
