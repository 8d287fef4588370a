/** Who may scrape GET /metrics: public on loopback by default, a key when ABPROXY_METRICS_AUTH=true. */
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { metricsArePublic } from '../../src/server/routes/metrics-route.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

describe('GET /metrics access', () => {
  it('defaults: public on loopback binds, key required on other binds; explicit setting wins', () => {
    expect(metricsArePublic(undefined, true)).toBe(true);
    expect(metricsArePublic(undefined, false)).toBe(false);
    expect(metricsArePublic(true, true)).toBe(false);
    expect(metricsArePublic(false, false)).toBe(true);
  });

  it('with ABPROXY_METRICS_AUTH=true a scraper needs a key, and then reads valid Prometheus text', async () => {
    const server: RunningServer = await startServer(testConfig({}, { ABPROXY_METRICS_AUTH: 'true' }));
    try {
      const anonymous = await fetch(`${server.url}/metrics`);
      expect(anonymous.status).toBe(401);
      const scraped = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${MASTER_KEY}` },
      });
      expect(scraped.status).toBe(200);
      const names = parsePrometheus(await scraped.text()).map((family) => family.name);
      expect(names).toEqual(expect.arrayContaining(['abproxy_requests_total', 'abproxy_usage_spool_depth']));
      expect(names.some((name) => name.startsWith('abproxy_process_'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
