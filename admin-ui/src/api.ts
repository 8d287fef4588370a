/** The admin JSON API (/admin/api/*), as the page calls it: same origin, cookie session, CSRF header. */

export interface KeyRow {
  id: string;
  prefix: string;
  name: string | null;
  user: string | null;
  service_tier: string | null;
  models: string[] | null;
  rate_limit_rpm: number | null;
  tokens_per_minute: number | null;
  budget_usd: number | null;
  concurrent_requests: number | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  status: 'active' | 'revoked' | 'expired';
  spent_this_month_usd?: number;
}

export interface UsageRow {
  group: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Run by the gateway's server-tools loop. */
  web_search_requests: number;
  web_fetch_requests: number;
  cost_usd: number;
}

export interface UsageReport {
  groups: UsageRow[];
  total: UsageRow;
}

export interface DailySeries {
  days: string[];
  groups: Record<string, number[]>;
}

export interface UsageView {
  since: string;
  by_key: UsageReport;
  by_model: UsageReport;
  cost_by_key_per_day: DailySeries;
  tokens_by_model_per_day: DailySeries;
  /** Asked for with `&by=session`: spend per Claude Code session (`(none)`: other clients). */
  report?: UsageReport;
  spend: {
    key_id: string;
    name: string | null;
    month: string;
    spent_usd: number;
    budget_usd: number | null;
  }[];
}

export interface RecentRequest {
  at: number;
  method: string;
  path: string;
  model: string;
  status: number;
  error: boolean;
  stream: boolean;
  ms: number;
  inputTokens: number;
  outputTokens: number;
  keyId: string;
}

export interface LiveStats {
  uptimeMs: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  inputTokens: number;
  outputTokens: number;
  ttftP50Ms?: number;
  activeStreams: number;
  /** With several upstreams: each one's breaker state and recent faults (GET /admin/api/upstreams too). */
  upstreams?: UpstreamHealth[];
}

export interface UpstreamHealth {
  name: string;
  state: 'closed' | 'half-open' | 'open';
  inFlight: number;
  recentFaults: Record<string, number>;
  lastFault?: { fault: string; at: string };
  breakers: { model: string; state: string; openUntil?: string }[];
}

export interface ModelsView {
  region: string;
  source: 'live' | 'builtin';
  fetched_at: string;
  models: { id: string; name: string | null; provider: string | null; active: boolean; on_demand: boolean }[];
  profiles: number;
  last_24h: UsageRow[];
  upstreams: unknown[];
}

export interface SettingView {
  key: string;
  value: unknown;
  source: string;
  env?: string;
}

export interface SessionState {
  signed_in: boolean;
  csrf: string | null;
  master_key_login: boolean;
}

export class ApiFailure extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

let csrf: string | null = null;

export function setCsrf(token: string | null): void {
  csrf = token;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-abproxy-csrf'] = csrf;
  const res = await fetch(`/admin/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = {};
  }
  if (!res.ok) {
    const message =
      (data as { error?: { message?: string } }).error?.message ?? `${res.status} ${res.statusText}`;
    throw new ApiFailure(res.status, message);
  }
  return data as T;
}
