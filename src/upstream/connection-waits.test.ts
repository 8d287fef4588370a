import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../server/http/logger.ts';
import { connectionWaitReporter } from './connection-waits.ts';

describe('connectionWaitReporter', () => {
  it('counts every wait and logs at most once a minute, with the waits in between', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    const registry = new Registry();
    const upstreamConnectionWaits = new Counter({ name: 'waits', help: 'waits', registers: [registry] });
    let clock = 0;
    const report = connectionWaitReporter(
      log,
      () => ({ upstreamConnectionWaits }),
      () => clock,
    );
    report({ waitedMs: 100, maxConnections: 4 });
    clock = 30_000;
    report({ waitedMs: 200, maxConnections: 4 });
    report({ waitedMs: 300, maxConnections: 4 });
    clock = 61_000;
    report({ waitedMs: 100, maxConnections: 4 });
    expect((await registry.getSingleMetric('waits')?.get())?.values[0]?.value).toBe(4);
    expect(warnings).toEqual([
      { waitedMs: 100, maxConnections: 4, waitsSinceLastLog: 1 },
      { waitedMs: 100, maxConnections: 4, waitsSinceLastLog: 3 },
    ]);
  });
});
