/** The ink views, rendered with fixed data through ink-testing-library. */
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { describe, expect, it } from 'vitest';
import type { StatsSnapshot } from '../../src/metrics/stats.ts';
import { Dashboard, LiveDashboard } from '../../src/ui/ink/dashboard-view.ts';
import { ProgressLine } from '../../src/ui/ink/progress-view.ts';
import { TableView } from '../../src/ui/ink/table-view.ts';
import type { Column } from '../../src/ui/table-format.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal colour codes
const plain = (frame: string | undefined) => (frame ?? '').replace(/\x1b\[[0-9;]*m/g, '');

const columns: Column[] = [
  { key: 'id', header: 'MODEL' },
  { key: 'context', header: 'CONTEXT', align: 'right' },
  { key: 'tools', header: 'TOOLS' },
];

describe('TableView', () => {
  it('lays out the header, a rule and aligned rows', () => {
    const { lastFrame } = render(
      h(TableView, {
        columns,
        rows: [
          { id: 'anthropic.claude-sonnet-4-5', context: 200000, tools: true },
          { id: 'amazon.nova-pro', context: 300000, tools: false },
        ],
      }),
    );
    const lines = plain(lastFrame()).split('\n');
    expect(lines[0]).toMatch(/^MODEL\s+CONTEXT\s+TOOLS/);
    expect(lines[1]).toMatch(/^─+ +─+ +─+/);
    expect(lines[2]).toMatch(/^anthropic\.claude-sonnet-4-5\s+200000\s+yes/);
    expect(lines[3]).toMatch(/^amazon\.nova-pro\s+300000\s+no/);
    // Right-aligned numbers end in the same column.
    expect(lines[2]!.indexOf('200000') + 6).toBe(lines[3]!.indexOf('300000') + 6);
    expect(lines[0]!.indexOf('CONTEXT') + 7).toBe(lines[2]!.indexOf('200000') + 6);
  });

  it('says so when there are no rows', () => {
    const { lastFrame } = render(h(TableView, { columns, rows: [] }));
    expect(plain(lastFrame())).toContain('(none)');
  });
});

const snapshot: StatsSnapshot = {
  uptimeMs: 185_000,
  requests: 40,
  errors: 2,
  requestsPerSecond: 1.5,
  inputTokens: 123_456,
  outputTokens: 7_890,
  ttftP50Ms: 420,
  activeStreams: 3,
  recent: [
    {
      at: new Date(2026, 0, 1, 12, 30, 5).getTime(),
      method: 'POST',
      path: '/v1/messages',
      model: 'claude-sonnet-4-5',
      status: 200,
      error: false,
      stream: true,
      ms: 1250,
      inputTokens: 1200,
      outputTokens: 340,
      keyId: '',
    },
    {
      at: new Date(2026, 0, 1, 12, 30, 1).getTime(),
      method: 'POST',
      path: '/v1/messages',
      model: 'qwen.qwen3-coder',
      status: 429,
      error: true,
      stream: false,
      ms: 80,
      inputTokens: 0,
      outputTokens: 0,
      keyId: '',
    },
  ],
};

describe('Dashboard', () => {
  it('shows the headline numbers, the last requests and the log', () => {
    const { lastFrame } = render(
      h(Dashboard, { url: 'http://127.0.0.1:8080', snapshot, logs: ['12:30:01 WARN stream failed'] }),
    );
    const frame = plain(lastFrame());
    expect(frame).toContain('abproxy http://127.0.0.1:8080');
    expect(frame).toContain('up 3m05s');
    for (const [label, value] of [
      ['requests/s', '1.5'],
      ['tokens in', '123k'],
      ['tokens out', '7.89k'],
      ['TTFT p50', '420 ms'],
      ['errors', '2 (5.0%)'],
      ['active streams', '3'],
    ]) {
      const lines = frame.split('\n');
      const row = lines.findIndex((l) => l.includes(label!));
      expect(row, label).toBeGreaterThanOrEqual(0);
      // The value sits under its label.
      const column = lines[row]!.indexOf(label!);
      expect(lines[row + 1]!.slice(column).startsWith(value!), `${label}: ${lines[row + 1]}`).toBe(true);
    }
    expect(frame).toMatch(/12:30:05\s+200\s+stream\s+1\.3 s\s+1\.20k→340\s+claude-sonnet-4-5/);
    expect(frame).toMatch(/12:30:01\s+429\s+80 ms\s+qwen\.qwen3-coder/);
    expect(frame).toContain('12:30:01 WARN stream failed');
  });

  it('prints client-chosen model names, paths and log lines without their control characters', () => {
    const hostile = '\x1b[41mRED\x1b]52;c;aGk=\x07\x9b2J\u202eevil';
    const first = snapshot.recent[0]!;
    const recent = [
      { ...first, model: `claude${hostile}` },
      { ...first, model: '', path: `/v1/${hostile}` },
    ];
    const frame =
      render(
        h(Dashboard, { url: 'http://x', snapshot: { ...snapshot, recent }, logs: [`log ${hostile}`] }),
      ).lastFrame() ?? '';
    // ink's own colours are SGR sequences; none of the client's escapes may get through.
    expect(frame).not.toContain('\x1b[41m');
    expect(frame).not.toContain('\x1b]52');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
    expect(frame).not.toMatch(/[\x07\x80-\x9f\u202e]/);
    expect(plain(frame)).toContain('claude [41mRED');
    expect(plain(frame)).toContain('POST /v1/ [41mRED');
  });

  it('an idle gateway shows zeros and no requests yet', () => {
    const idle: StatsSnapshot = { ...snapshot, requests: 0, errors: 0, ttftP50Ms: undefined, recent: [] };
    const frame = plain(render(h(Dashboard, { url: 'http://x', snapshot: idle })).lastFrame());
    expect(frame).toContain('(none yet)');
    expect(frame).not.toContain('%');
    expect(frame).not.toContain('log');
  });

  it('the live dashboard redraws from its source', async () => {
    let requests = 1;
    const read = () => ({ ...snapshot, requests, recent: [] });
    const { lastFrame, unmount } = render(h(LiveDashboard, { url: 'http://x', read, intervalMs: 10 }));
    expect(plain(lastFrame())).toMatch(/requests\s[^\n]*\n[^\n]*\b1\b/);
    requests = 977;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(plain(lastFrame())).toContain('977');
    unmount();
  });
});

describe('ProgressLine', () => {
  it('spins while running and marks the end', () => {
    const running = plain(
      render(h(ProgressLine, { state: { phase: 'running', text: 'creating tables' }, frame: 1 })).lastFrame(),
    );
    expect(running).toBe('⠙ creating tables');
    const done = plain(
      render(h(ProgressLine, { state: { phase: 'done', text: '3 tables ready' }, frame: 0 })).lastFrame(),
    );
    expect(done).toBe('✔ 3 tables ready');
    const failed = plain(
      render(h(ProgressLine, { state: { phase: 'failed', text: 'tables' }, frame: 0 })).lastFrame(),
    );
    expect(failed).toBe('✖ tables');
  });
});
