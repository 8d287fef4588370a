/** The serve dashboard's upstream rows, from the stats a real pool feeds (breakers, recent faults). */
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { describe, expect, it } from 'vitest';
import { ServerStats } from '../../src/metrics/stats.ts';
import { Dashboard } from '../../src/ui/ink/dashboard-view.ts';
import { awsError, scriptedInvoke } from '../../src/upstream/pool.fixture.ts';
import { UpstreamPool } from '../../src/upstream/pool.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal colour codes
const plain = (frame: string | undefined) => (frame ?? '').replace(/\x1b\[[0-9;]*m/g, '');

describe('Dashboard upstreams', () => {
  it('shows each upstream’s breaker state and its recent faults', async () => {
    const pool = new UpstreamPool(
      [
        { name: 'us-primary', runtime: scriptedInvoke([awsError('ThrottlingException', 429)]).runtime },
        { name: 'eu-backup', runtime: scriptedInvoke(['']).runtime },
      ],
      { breaker: { threshold: 2, openMs: 60_000 } },
    );
    const stats = new ServerStats();
    stats.watchUpstreams(() => pool.health());
    for (let i = 0; i < 2; i++) await pool.invokeModel({ modelId: 'anthropic.claude-x', body: '{}' });

    const snapshot = stats.snapshot();
    expect(snapshot.upstreams?.map((u) => [u.name, u.state])).toEqual([
      ['us-primary', 'open'],
      ['eu-backup', 'closed'],
    ]);
    const frame = plain(render(h(Dashboard, { url: 'http://127.0.0.1:8080', snapshot })).lastFrame());
    expect(frame).toContain('upstreams');
    expect(frame).toMatch(/us-primary\s+open\s+0 in flight\s+1\/1 models tripped\s+faults\/min throttled 2/);
    expect(frame).toMatch(/eu-backup\s+closed\s+0 in flight\s+no faults in the last minute/);
  });

  it('has no upstream section with a single upstream', () => {
    const frame = plain(
      render(
        h(Dashboard, { url: 'http://127.0.0.1:8080', snapshot: new ServerStats().snapshot() }),
      ).lastFrame(),
    );
    expect(frame).not.toContain('upstreams');
  });
});
