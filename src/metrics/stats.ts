/**
 * In-process counters for the live `serve` dashboard: requests, tokens, time to first token, errors,
 * active streams and the last few requests. Cheap on the hot path: plain number fields, fixed rings
 * reused in place (no allocation per request); all the arithmetic happens in snapshot(), which the
 * dashboard calls a few times a second. Knows nothing of how it is displayed.
 */
import { boundText } from '../usage/bounds.ts';

/** What a finished API request leaves behind, as the dashboard shows it. */
export interface RecentRequest {
  /** Wall-clock end time (epoch ms). */
  at: number;
  method: string;
  path: string;
  /** The model the client asked for ('' when the request never got that far). */
  model: string;
  status: number;
  /** An error answered with a status, or sent in-band after a stream began. */
  error: boolean;
  stream: boolean;
  ms: number;
  inputTokens: number;
  outputTokens: number;
  /** The stored key that made the call ('' for the master key or an open gateway). */
  keyId: string;
}

/** One upstream of the pool as the dashboard shows it (the pool's `health()` rows). */
export interface UpstreamHealthView {
  name: string;
  /** The worst breaker state across its models. */
  state: 'closed' | 'half-open' | 'open';
  inFlight: number;
  /** Faults in the last minute by class (throttled, overloaded, server, network, timeout). */
  recentFaults: Partial<Record<string, number>>;
  lastFault?: { fault: string; at: string };
  breakers: { model: string; state: 'closed' | 'half-open' | 'open'; openUntil?: string }[];
}

export interface StatsSnapshot {
  uptimeMs: number;
  /** API requests finished (health and readiness probes are not counted). */
  requests: number;
  errors: number;
  /** Requests finished per second over the last RATE_WINDOW_S seconds. */
  requestsPerSecond: number;
  inputTokens: number;
  outputTokens: number;
  /** Median time to the first content of a stream over the last TTFT_SAMPLES streams. */
  ttftP50Ms: number | undefined;
  activeStreams: number;
  /** Newest first. */
  recent: RecentRequest[];
  /** With several upstreams (`ABPROXY_UPSTREAMS`): each one's health, in list order. */
  upstreams?: UpstreamHealthView[];
}

/** What a request handler tells the stats about its request (set on the request's Ctx). */
export interface RequestMeter {
  model?: string;
  stream?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  /** performance.now() when the first content went to the client. */
  firstTokenAt?: number;
  /** An error was sent inside a stream that had already answered 200. */
  streamFailed?: boolean;
  /** The SSE headers went out and the stream is counted as active. */
  streamOpen?: boolean;
}

export const RATE_WINDOW_S = 10;
export const TTFT_SAMPLES = 256;
export const RECENT_REQUESTS = 10;

function emptyRecent(): RecentRequest {
  return {
    at: 0,
    method: '',
    path: '',
    model: '',
    status: 0,
    error: false,
    stream: false,
    ms: 0,
    inputTokens: 0,
    outputTokens: 0,
    keyId: '',
  };
}

export class ServerStats {
  readonly #now: () => number;
  readonly #clock: () => number;
  readonly #startedAt: number;
  #requests = 0;
  #errors = 0;
  #inputTokens = 0;
  #outputTokens = 0;
  #activeStreams = 0;
  // Requests per whole second, in a ring indexed by second; #bucketSecond says which second a slot holds.
  readonly #buckets = new Uint32Array(RATE_WINDOW_S + 1);
  readonly #bucketSecond = new Float64Array(RATE_WINDOW_S + 1).fill(-1);
  readonly #ttft = new Float64Array(TTFT_SAMPLES);
  #ttftCount = 0;
  readonly #recent: RecentRequest[] = Array.from({ length: RECENT_REQUESTS }, emptyRecent);
  #recentCount = 0;
  readonly #listeners = new Set<(request: RecentRequest) => void>();
  #upstreams: (() => UpstreamHealthView[]) | undefined;

  /**
   * @param now monotonic ms (performance.now) — durations and the rate window.
   * @param clock wall-clock ms (Date.now) — the time shown for recent requests.
   */
  constructor(now: () => number = () => performance.now(), clock: () => number = Date.now) {
    this.#now = now;
    this.#clock = clock;
    this.#startedAt = now();
  }

  /** Where snapshots read the upstream pool's health (read only when a snapshot is taken). */
  watchUpstreams(read: () => UpstreamHealthView[]): void {
    this.#upstreams = read;
  }

  /** A stream sent its headers: it counts as active until its request closes. */
  streamOpened(meter: RequestMeter): void {
    if (meter.streamOpen) return;
    meter.streamOpen = true;
    this.#activeStreams++;
  }

  /** The first content of a stream went out (only the first call per request counts). */
  firstToken(meter: RequestMeter): void {
    meter.firstTokenAt ??= this.#now();
  }

  /** Tells `listener` about each finished API request (the admin page's live feed); returns the unsubscribe. */
  onRequest(listener: (request: RecentRequest) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called once per request when its response closed. */
  finished(
    meter: RequestMeter,
    method: string,
    path: string,
    status: number,
    startedAt: number,
    keyId = '',
  ): void {
    if (meter.streamOpen) this.#activeStreams--;
    if (!path.startsWith('/v1/')) return;
    const now = this.#now();
    const error = status >= 400 || meter.streamFailed === true;
    const inputTokens = meter.inputTokens ?? 0;
    const outputTokens = meter.outputTokens ?? 0;
    this.#requests++;
    if (error) this.#errors++;
    this.#inputTokens += inputTokens;
    this.#outputTokens += outputTokens;
    if (meter.firstTokenAt !== undefined) {
      this.#ttft[this.#ttftCount % TTFT_SAMPLES] = meter.firstTokenAt - startedAt;
      this.#ttftCount++;
    }
    const second = Math.floor(now / 1000);
    const slot = second % this.#buckets.length;
    if (this.#bucketSecond[slot] !== second) {
      this.#bucketSecond[slot] = second;
      this.#buckets[slot] = 0;
    }
    this.#buckets[slot]!++;

    const entry = this.#recent[this.#recentCount % RECENT_REQUESTS]!;
    this.#recentCount++;
    entry.at = this.#clock();
    entry.method = method;
    // Client-chosen and unbounded: kept short for the dashboard (which also strips control characters).
    entry.path = boundText(path);
    entry.model = boundText(meter.model ?? '');
    entry.status = status;
    entry.error = error;
    entry.stream = meter.stream === true;
    entry.ms = now - startedAt;
    entry.inputTokens = inputTokens;
    entry.outputTokens = outputTokens;
    entry.keyId = keyId;
    if (this.#listeners.size > 0) {
      const copy = { ...entry };
      for (const listener of this.#listeners) listener(copy);
    }
  }

  snapshot(): StatsSnapshot {
    const now = this.#now();
    const second = Math.floor(now / 1000);
    // The current second is still filling up: rate over the RATE_WINDOW_S whole seconds before it.
    let windowed = 0;
    for (let slot = 0; slot < this.#buckets.length; slot++) {
      const age = second - this.#bucketSecond[slot]!;
      if (age >= 1 && age <= RATE_WINDOW_S) windowed += this.#buckets[slot]!;
    }
    const samples = Math.min(this.#ttftCount, TTFT_SAMPLES);
    const recentCount = Math.min(this.#recentCount, RECENT_REQUESTS);
    const recent: RecentRequest[] = [];
    for (let i = 1; i <= recentCount; i++) {
      recent.push({ ...this.#recent[(this.#recentCount - i) % RECENT_REQUESTS]! });
    }
    return {
      uptimeMs: now - this.#startedAt,
      requests: this.#requests,
      errors: this.#errors,
      requestsPerSecond: windowed / RATE_WINDOW_S,
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      ttftP50Ms: samples === 0 ? undefined : median(this.#ttft.slice(0, samples)),
      activeStreams: this.#activeStreams,
      recent,
      ...(this.#upstreams ? { upstreams: this.#upstreams() } : {}),
    };
  }
}

function median(values: Float64Array): number {
  values.sort();
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** Anthropic usage as both paths report it; cache reads and writes count as input. */
export interface MeteredUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export function meterUsage(meter: RequestMeter, usage: MeteredUsage): void {
  meter.inputTokens =
    usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  meter.outputTokens = usage.output_tokens;
}
