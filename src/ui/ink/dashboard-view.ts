/** The live `serve` dashboard: headline numbers, upstream health, the last requests and recent log lines. */
import { Box, Text } from 'ink';
import { createElement as h, type ReactElement, useEffect, useState } from 'react';
import type { RecentRequest, StatsSnapshot, UpstreamHealthView } from '../../metrics/stats.ts';
import { terminalLine } from '../../text/terminal-text.ts';
import { formatClock, formatCount, formatMs, formatRate } from '../format.ts';
import { pad } from '../table-format.ts';

export interface DashboardProps {
  url: string;
  snapshot: StatsSnapshot;
  /** Newest last; warnings and errors the gateway logged while the dashboard owns the terminal. */
  logs?: readonly string[];
}

function Metric({ label, value, color }: { label: string; value: string; color?: string }): ReactElement {
  return h(
    Box,
    { flexDirection: 'column', marginRight: 3 },
    h(Text, { dimColor: true }, label),
    h(Text, { bold: true, color }, value),
  );
}

function requestLine(r: RecentRequest): string {
  const tokens =
    r.inputTokens + r.outputTokens > 0 ? `${formatCount(r.inputTokens)}→${formatCount(r.outputTokens)}` : '';
  return [
    formatClock(r.at),
    pad(String(r.status), 3),
    pad(r.stream ? 'stream' : '', 6),
    pad(formatMs(r.ms), 8, 'right'),
    pad(tokens, 12),
    // Client-chosen: the model name and the path.
    terminalLine(r.model || `${r.method} ${r.path}`),
  ].join('  ');
}

const STATE_COLOR = { closed: 'green', 'half-open': 'yellow', open: 'red' } as const;

/** `eu-west  open       2 in flight  faults/min throttled 3, network 1  last throttled 12:03:04` */
function upstreamLine(u: UpstreamHealthView): string {
  const faults = Object.entries(u.recentFaults)
    .map(([fault, n]) => `${fault} ${n}`)
    .join(', ');
  const open = u.breakers.filter((b) => b.state !== 'closed').length;
  return [
    pad(terminalLine(u.name), 16),
    pad(u.state, 9),
    pad(`${u.inFlight} in flight`, 12),
    pad(open > 0 ? `${open}/${u.breakers.length} models tripped` : '', 20),
    faults ? `faults/min ${faults}` : 'no faults in the last minute',
    u.lastFault ? `  last ${u.lastFault.fault} ${formatClock(Date.parse(u.lastFault.at))}` : '',
  ].join('  ');
}

export function Dashboard({ url, snapshot: s, logs = [] }: DashboardProps): ReactElement {
  const errorShare = s.requests === 0 ? '' : ` (${((100 * s.errors) / s.requests).toFixed(1)}%)`;
  return h(
    Box,
    { flexDirection: 'column' },
    h(
      Box,
      null,
      h(Text, { bold: true, color: 'cyan' }, 'abproxy '),
      h(Text, null, terminalLine(url)),
      h(Text, { dimColor: true }, `  up ${formatMs(s.uptimeMs)}  ·  Ctrl-C to stop`),
    ),
    h(
      Box,
      { marginTop: 1 },
      h(Metric, { label: 'requests/s', value: formatRate(s.requestsPerSecond) }),
      h(Metric, { label: 'requests', value: formatCount(s.requests) }),
      h(Metric, { label: 'tokens in', value: formatCount(s.inputTokens) }),
      h(Metric, { label: 'tokens out', value: formatCount(s.outputTokens) }),
      h(Metric, { label: 'TTFT p50', value: formatMs(s.ttftP50Ms) }),
      h(Metric, {
        label: 'errors',
        value: `${formatCount(s.errors)}${errorShare}`,
        color: s.errors > 0 ? 'red' : undefined,
      }),
      h(Metric, { label: 'active streams', value: String(s.activeStreams) }),
    ),
    s.upstreams && s.upstreams.length > 0
      ? h(
          Box,
          { flexDirection: 'column', marginTop: 1 },
          h(Text, { dimColor: true }, 'upstreams'),
          ...s.upstreams.map((u, i) =>
            h(Text, { key: `u${i}`, color: STATE_COLOR[u.state] }, `  ${upstreamLine(u)}`),
          ),
        )
      : null,
    h(
      Box,
      { flexDirection: 'column', marginTop: 1 },
      h(Text, { dimColor: true }, 'last requests'),
      s.recent.length === 0
        ? h(Text, { dimColor: true }, '  (none yet)')
        : s.recent.map((r, i) =>
            h(Text, { key: i, color: r.error ? 'red' : undefined }, `  ${requestLine(r)}`),
          ),
    ),
    logs.length === 0
      ? null
      : h(
          Box,
          { flexDirection: 'column', marginTop: 1 },
          h(Text, { dimColor: true }, 'log'),
          ...logs.map((line, i) =>
            h(Text, { key: i, color: 'yellow', wrap: 'truncate-end' }, `  ${terminalLine(line)}`),
          ),
        ),
  );
}

export interface LiveDashboardProps {
  url: string;
  read: () => StatsSnapshot;
  readLogs?: () => readonly string[];
  intervalMs: number;
}

/** Re-reads the counters every intervalMs; nothing is pushed from the request path. */
export function LiveDashboard({ url, read, readLogs, intervalMs }: LiveDashboardProps): ReactElement {
  const [state, setState] = useState(() => ({ snapshot: read(), logs: readLogs?.() ?? [] }));
  useEffect(() => {
    const timer = setInterval(() => setState({ snapshot: read(), logs: readLogs?.() ?? [] }), intervalMs);
    return () => clearInterval(timer);
  }, [read, readLogs, intervalMs]);
  return h(Dashboard, { url, snapshot: state.snapshot, logs: state.logs });
}
