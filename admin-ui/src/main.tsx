/** The abproxy admin page: sign-in, then live requests, keys, usage, model health and settings. */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  ApiFailure,
  call,
  type KeyRow,
  type LiveStats,
  type ModelsView,
  type RecentRequest,
  type SessionState,
  type SettingView,
  setCsrf,
  type UsageView,
} from './api.ts';
import { DailyChart } from './chart.tsx';
import { int, text, time, usd } from './format.ts';
import { KeysSection } from './keys.tsx';

const LIVE_ROWS = 20;
/** Shortest time between two reloads of usage, keys and models that the live feed causes. */
const REFRESH_MS = 3_000;

function SignIn({ session, onSignedIn }: { session: SessionState; onSignedIn: (csrf: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const out = await call<{ csrf: string }>('POST', 'login', { master_key: key });
      onSignedIn(out.csrf);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <main class="signin">
      <h1>abproxy admin</h1>
      {session.master_key_login ? (
        <form onSubmit={submit}>
          <label for="master-key">Master key</label>
          <input
            id="master-key"
            type="password"
            autocomplete="current-password"
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
            required
          />
          {error ? (
            <p class="error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit">Sign in</button>
        </form>
      ) : (
        <p>
          This gateway has no master key: run <code>abproxy admin</code> on its machine for a sign-in link.
        </p>
      )}
      <p class="hint">
        Or run <code>abproxy admin</code>: it opens this page signed in, or prints a one-time link.
      </p>
    </main>
  );
}

function LiveSection({
  stats,
  recent,
  keyName,
}: {
  stats: LiveStats | null;
  recent: RecentRequest[];
  keyName: (id: string) => string;
}) {
  return (
    <section id="live" aria-labelledby="live-title">
      <h2 id="live-title">Live</h2>
      <dl class="counters">
        <div>
          <dt>Requests</dt>
          <dd>{int(stats?.requests)}</dd>
        </div>
        <div>
          <dt>Per second</dt>
          <dd>{stats ? stats.requestsPerSecond.toFixed(1) : '—'}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd>{int(stats?.errors)}</dd>
        </div>
        <div>
          <dt>Active streams</dt>
          <dd>{int(stats?.activeStreams)}</dd>
        </div>
        <div>
          <dt>TTFT p50</dt>
          <dd>{stats?.ttftP50Ms == null ? '—' : `${Math.round(stats.ttftP50Ms)} ms`}</dd>
        </div>
        <div>
          <dt>Tokens in / out</dt>
          <dd>
            {int(stats?.inputTokens)} / {int(stats?.outputTokens)}
          </dd>
        </div>
      </dl>
      {stats?.upstreams && stats.upstreams.length > 0 ? (
        <div class="table-wrap">
          <table id="live-upstreams">
            <caption>Upstreams (breaker: the worst state across models)</caption>
            <thead>
              <tr>
                <th scope="col">Upstream</th>
                <th scope="col">Breaker</th>
                <th scope="col">In flight</th>
                <th scope="col">Faults, last minute</th>
                <th scope="col">Last fault</th>
              </tr>
            </thead>
            <tbody>
              {stats.upstreams.map((u) => (
                <tr key={u.name} class={u.state === 'closed' ? '' : 'failed'}>
                  <td>{u.name}</td>
                  <td>
                    <span class={`badge ${u.state === 'closed' ? 'active' : 'revoked'}`}>{u.state}</span>
                  </td>
                  <td>{u.inFlight}</td>
                  <td>
                    {Object.entries(u.recentFaults)
                      .map(([fault, n]) => `${fault} ${n}`)
                      .join(', ') || 'none'}
                  </td>
                  <td>{u.lastFault ? `${u.lastFault.fault} at ${time(Date.parse(u.lastFault.at))}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div class="table-wrap">
        <table id="live-requests">
          <caption>Latest requests (newest first)</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Key</th>
              <th scope="col">Model</th>
              <th scope="col">Status</th>
              <th scope="col">Latency</th>
              <th scope="col">Tokens in / out</th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {recent.length === 0 ? (
              <tr>
                <td colSpan={6} class="empty">
                  Waiting for requests…
                </td>
              </tr>
            ) : null}
            {recent.map((r) => (
              <tr key={`${r.at}-${r.ms}-${r.model}`} class={r.error ? 'failed' : ''}>
                <td>{time(r.at)}</td>
                <td>{r.keyId ? keyName(r.keyId) : 'master / open'}</td>
                <td>{r.model || '—'}</td>
                <td>
                  <span class={`badge ${r.error ? 'revoked' : 'active'}`}>{r.status}</span>
                  {r.stream ? ' stream' : ''}
                </td>
                <td>{Math.round(r.ms)} ms</td>
                <td>
                  {int(r.inputTokens)} / {int(r.outputTokens)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function UsageSection({
  usage,
  since,
  setSince,
  keyName,
}: {
  usage: UsageView | null;
  since: string;
  setSince: (s: string) => void;
  keyName: (id: string) => string;
}) {
  const cost = useCallback((v: number) => usd(v), []);
  const tokens = useCallback((v: number) => int(v), []);
  const table = (title: string, rows: UsageView['by_key'], label: (g: string) => string) => {
    // Only when the period had any, as in `abproxy usage`: most gateways never run the web tools.
    const web = rows.total.web_search_requests > 0 || rows.total.web_fetch_requests > 0;
    return (
      <div class="table-wrap">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">{title.split(' ').at(-1)}</th>
              <th scope="col">Requests</th>
              <th scope="col">Errors</th>
              <th scope="col">Input</th>
              <th scope="col">Output</th>
              <th scope="col">Cache read</th>
              <th scope="col">Cache write</th>
              {web ? (
                <>
                  <th scope="col">Web searches</th>
                  <th scope="col">Web fetches</th>
                </>
              ) : null}
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {[...rows.groups, rows.total].map((row) => (
              <tr key={row.group} class={row.group === 'total' ? 'total' : ''}>
                <th scope="row">{row.group === 'total' ? 'Total' : label(row.group)}</th>
                <td>{int(row.requests)}</td>
                <td>{int(row.errors)}</td>
                <td>{int(row.input_tokens)}</td>
                <td>{int(row.output_tokens)}</td>
                <td>{int(row.cache_read_input_tokens)}</td>
                <td>{int(row.cache_creation_input_tokens)}</td>
                {web ? (
                  <>
                    <td>{int(row.web_search_requests)}</td>
                    <td>{int(row.web_fetch_requests)}</td>
                  </>
                ) : null}
                <td>{usd(row.cost_usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  };
  return (
    <section id="usage" aria-labelledby="usage-title">
      <div class="section-head">
        <h2 id="usage-title">Usage and cost</h2>
        <label for="since">Window</label>
        <select id="since" value={since} onChange={(e) => setSince((e.target as HTMLSelectElement).value)}>
          <option value="7d">7 days</option>
          <option value="30d">30 days</option>
          <option value="90d">90 days</option>
        </select>
      </div>
      {usage ? (
        <>
          <div class="charts">
            <DailyChart
              title="Cost per day by key"
              series={usage.cost_by_key_per_day}
              format={cost}
              label={keyName}
            />
            <DailyChart
              title="Tokens per day by model"
              series={usage.tokens_by_model_per_day}
              format={tokens}
            />
          </div>
          <div class="tables">
            {table('Usage by key', usage.by_key, keyName)}
            {table('Usage by model', usage.by_model, (g) => g)}
            {usage.report
              ? table('Usage by session', usage.report, (g) => (g === '(none)' ? 'not Claude Code' : g))
              : null}
          </div>
          <h3>Spend against budget ({usage.spend[0]?.month ?? 'this month'})</h3>
          <ul class="spend">
            {usage.spend.map((s) => (
              <li key={s.key_id}>
                <span>{s.name ?? s.key_id}</span>
                <span>
                  {usd(s.spent_usd)} of {s.budget_usd == null ? 'no budget' : usd(s.budget_usd)}
                </span>
                {s.budget_usd ? (
                  <meter
                    min={0}
                    max={s.budget_usd}
                    high={s.budget_usd * 0.8}
                    value={s.spent_usd}
                    aria-label={`spend of ${s.name ?? s.key_id}`}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>Loading usage…</p>
      )}
    </section>
  );
}

function ModelsSection({ models }: { models: ModelsView | null }) {
  if (!models) return null;
  return (
    <section id="models" aria-labelledby="models-title">
      <h2 id="models-title">Model health</h2>
      <p>
        Catalogue for <strong>{models.region}</strong>:{' '}
        {models.source === 'live' ? 'live from Bedrock' : 'built-in table (Bedrock unreachable)'},{' '}
        {models.models.length} models and {models.profiles} inference profiles, fetched{' '}
        {new Date(models.fetched_at).toLocaleString('en-GB')}.
      </p>
      <p class="hint">
        Upstreams:{' '}
        {models.upstreams.length === 0 ? `one, Bedrock in ${models.region}` : models.upstreams.length}.
      </p>
      <div class="table-wrap">
        <table>
          <caption>Last 24 hours by model</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Requests</th>
              <th scope="col">Errors</th>
              <th scope="col">Error rate</th>
            </tr>
          </thead>
          <tbody>
            {models.last_24h.length === 0 ? (
              <tr>
                <td colSpan={4} class="empty">
                  No requests in the last 24 hours.
                </td>
              </tr>
            ) : null}
            {models.last_24h.map((row) => (
              <tr key={row.group}>
                <th scope="row">{row.group}</th>
                <td>{int(row.requests)}</td>
                <td>{int(row.errors)}</td>
                <td>
                  <span class={`badge ${row.errors / row.requests > 0.1 ? 'revoked' : 'active'}`}>
                    {((100 * row.errors) / Math.max(row.requests, 1)).toFixed(0)}%
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <details>
        <summary>All {models.models.length} catalogue models</summary>
        <ul class="model-list">
          {models.models.map((m) => (
            <li key={m.id}>
              <code>{m.id}</code> {m.active ? '' : '(legacy)'} {m.on_demand ? '' : '(profile only)'}
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}

function SettingsSection({ settings }: { settings: SettingView[] | null }) {
  if (!settings) return null;
  return (
    <section id="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings in force</h2>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Settings, their values and where each came from</caption>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Value</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {settings.map((s) => (
              <tr key={s.key}>
                <th scope="row">
                  <code>{s.key}</code>
                </th>
                <td class="value">{text(s.value)}</td>
                <td>{s.env ? `env ${s.env}` : s.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Dashboard({ onSignedOut }: { onSignedOut: () => void }) {
  const [keys, setKeys] = useState<KeyRow[]>([]);
  const [usage, setUsage] = useState<UsageView | null>(null);
  const [models, setModels] = useState<ModelsView | null>(null);
  const [settings, setSettings] = useState<SettingView[] | null>(null);
  const [stats, setStats] = useState<LiveStats | null>(null);
  const [recent, setRecent] = useState<RecentRequest[]>([]);
  const [since, setSince] = useState('30d');
  const [problem, setProblem] = useState('');
  const [connected, setConnected] = useState(false);
  const refreshTimer = useRef<number | undefined>(undefined);
  const lastRefresh = useRef(0);

  const failed = useCallback(
    (err: unknown) => {
      if (err instanceof ApiFailure && err.status === 401) onSignedOut();
      else setProblem((err as Error).message);
    },
    [onSignedOut],
  );
  const loadKeys = useCallback(
    () => call<{ keys: KeyRow[] }>('GET', 'keys').then((o) => setKeys(o.keys), failed),
    [failed],
  );
  const loadUsage = useCallback(
    () => call<UsageView>('GET', `usage?since=${since}&by=session`).then(setUsage, failed),
    [since, failed],
  );
  const loadModels = useCallback(() => call<ModelsView>('GET', 'models').then(setModels, failed), [failed]);

  useEffect(() => {
    void loadKeys();
    void loadModels();
    call<{ settings: SettingView[] }>('GET', 'settings').then((o) => setSettings(o.settings), failed);
  }, [loadKeys, loadModels, failed]);
  useEffect(() => {
    void loadUsage();
  }, [loadUsage]);

  // Live feed: each finished request lands at the top; usage, spend and health follow a moment later.
  useEffect(() => {
    const source = new EventSource('/admin/api/live');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('recent', (e) =>
      setRecent((JSON.parse(e.data) as RecentRequest[]).slice(0, LIVE_ROWS)),
    );
    source.addEventListener('stats', (e) => setStats(JSON.parse(e.data) as LiveStats));
    source.addEventListener('request', (e) => {
      const request = JSON.parse(e.data) as RecentRequest;
      setRecent((rows) => [request, ...rows].slice(0, LIVE_ROWS));
      // At most one reload per REFRESH_MS, the first a moment after a burst starts: steady traffic still
      // refreshes the page, and a flood of requests does not reload it for each one.
      if (refreshTimer.current !== undefined) return;
      const wait = Math.max(700, lastRefresh.current + REFRESH_MS - Date.now());
      refreshTimer.current = window.setTimeout(() => {
        refreshTimer.current = undefined;
        lastRefresh.current = Date.now();
        void loadUsage();
        void loadKeys();
        void loadModels();
      }, wait);
    });
    return () => {
      source.close();
      // A reload still pending would fetch the old period's usage, or run after sign-out.
      window.clearTimeout(refreshTimer.current);
      refreshTimer.current = undefined;
    };
  }, [loadUsage, loadKeys, loadModels]);

  const names = useMemo(() => new Map(keys.map((k) => [k.id, k.name ?? k.prefix])), [keys]);
  const keyName = useCallback((id: string) => names.get(id) ?? id, [names]);

  const signOut = async () => {
    await call('POST', 'logout').catch(() => undefined);
    onSignedOut();
  };

  return (
    <>
      <header>
        <h1>abproxy admin</h1>
        <nav aria-label="Sections">
          <a href="#live">Live</a>
          <a href="#keys">Keys</a>
          <a href="#usage">Usage</a>
          <a href="#models">Models</a>
          <a href="#settings">Settings</a>
        </nav>
        <span class={`dot ${connected ? 'on' : 'off'}`} role="status">
          {connected ? 'live' : 'reconnecting'}
        </span>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {problem ? (
          <p class="error" role="alert">
            {problem}
          </p>
        ) : null}
        <LiveSection stats={stats} recent={recent} keyName={keyName} />
        <KeysSection keys={keys} onChange={() => void Promise.all([loadKeys(), loadUsage()])} />
        <UsageSection usage={usage} since={since} setSince={setSince} keyName={keyName} />
        <ModelsSection models={models} />
        <SettingsSection settings={settings} />
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<SessionState | null>(null);
  const [error, setError] = useState('');
  const load = useCallback(() => {
    // An `abproxy admin` link carries a one-time token in the fragment (never sent to the server by itself).
    const token = /^#token=(.+)$/.exec(window.location.hash)?.[1];
    if (token) history.replaceState(null, '', window.location.pathname);
    const signIn = token
      ? call<{ csrf: string }>('POST', 'login', { token }).then(
          () => undefined,
          (err) => setError((err as Error).message),
        )
      : Promise.resolve();
    void signIn.then(() =>
      call<SessionState>('GET', 'session').then(
        (s) => {
          setCsrf(s.csrf);
          setSession(s);
        },
        (err) => setError((err as Error).message),
      ),
    );
  }, []);
  useEffect(load, [load]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!session) return <p class="boot">Loading…</p>;
  if (!session.signed_in) {
    return (
      <SignIn
        session={session}
        onSignedIn={(csrf) => {
          setCsrf(csrf);
          setSession({ ...session, signed_in: true, csrf });
        }}
      />
    );
  }
  return (
    <Dashboard
      onSignedOut={() => {
        setCsrf(null);
        setSession({ ...session, signed_in: false, csrf: null });
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
