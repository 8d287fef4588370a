/** `abproxy doctor` checks the configured web search provider with one query (the fake provider here). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/cli/doctor.ts';
import { DOCTOR_QUERY } from '../../src/cli/doctor-web.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { type FakeSearch, startFakeSearch } from '../fakes/search-provider.ts';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

let emulator: Emulator;
let fake: FakeSearch;

beforeAll(async () => {
  [emulator, fake] = await Promise.all([startEmulator({ port: 0 }), startFakeSearch()]);
});
afterAll(async () => {
  await Promise.all([emulator?.close(), fake?.close()]);
});

const webCheck = (stdout: string) =>
  (JSON.parse(stdout) as DoctorReport).checks.find((c) => c.name === 'web search');

describe('abproxy doctor: web search', () => {
  it('says nothing of web search when no provider is configured', async () => {
    const run = await runCli(['doctor', '--json', '--port', '0'], cliEnv(tempHome(), emulator.url));
    expect(webCheck(run.stdout)).toBeUndefined();
  });

  it('warns when the test-only loopback switch of web fetch is on', async () => {
    const env = cliEnv(tempHome(), emulator.url, { ABPROXY_WEB_FETCH_ALLOW_LOOPBACK_FOR_TESTS: 'true' });
    const run = await runCli(['doctor', '--json', '--port', '0'], env);
    const check = (JSON.parse(run.stdout) as DoctorReport).checks.find((c) => c.name === 'web fetch');
    expect(check).toMatchObject({ status: 'warn', hint: 'unset it outside test suites' });
  });

  it('is ok when the provider answers one query, and sends that query', async () => {
    fake.reset();
    const env = cliEnv(tempHome(), emulator.url, {
      ABPROXY_WEB_SEARCH_PROVIDER: 'brave',
      ABPROXY_WEB_SEARCH_API_KEY: fake.apiKey,
      ABPROXY_WEB_SEARCH_URL: fake.url,
    });
    const run = await runCli(['doctor', '--json', '--port', '0'], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(webCheck(run.stdout)).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^brave at .* answered \(1 result/),
    });
    expect(fake.queries.map((q) => [q.provider, q.query])).toEqual([['brave', DOCTOR_QUERY]]);
  });

  it('fails with the reason and exit 1 on an outage or a refused key, never printing the key', async () => {
    fake.reset();
    fake.script(DOCTOR_QUERY, { status: 503 });
    const base = { ABPROXY_WEB_SEARCH_PROVIDER: 'searxng', ABPROXY_WEB_SEARCH_URL: fake.url };
    const outage = await runCli(['doctor', '--json', '--port', '0'], cliEnv(tempHome(), emulator.url, base));
    expect(outage.code).toBe(1);
    expect(webCheck(outage.stdout)).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('HTTP 503'),
    });

    const wrongKey = 'tvly-wrong-secret-123';
    const refused = await runCli(
      ['doctor', '--port', '0'],
      cliEnv(tempHome(), emulator.url, {
        ABPROXY_WEB_SEARCH_PROVIDER: 'tavily',
        ABPROXY_WEB_SEARCH_API_KEY: wrongKey,
        ABPROXY_WEB_SEARCH_URL: fake.url,
      }),
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^FAIL\s+web search\s+tavily at .*refused the gateway's API key/m);
    expect(refused.stdout).toMatch(/fix: check ABPROXY_WEB_SEARCH_API_KEY/);
    expect(refused.stdout + refused.stderr).not.toContain(wrongKey);
  });
});
