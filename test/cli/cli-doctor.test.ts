/** `abproxy doctor` against the emulator (everything fine) and against an endpoint that is not there. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/cli/doctor.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});

afterAll(async () => {
  await emulator.close();
});

const byName = (report: DoctorReport, name: string) => report.checks.find((c) => c.name === name);

describe('abproxy doctor', () => {
  it('passes against a reachable Bedrock, and --deep proves a model answers', async () => {
    const run = await runCli(['doctor', '--json', '--deep', '--port', '0'], cliEnv(tempHome(), emulator.url));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.ok).toBe(true);
    for (const name of ['node', 'region', 'credentials', 'bedrock', 'models', 'invoke', 'home', 'port']) {
      expect(byName(report, name)?.status, name).toBe('ok');
    }
    expect(byName(report, 'invoke')?.detail).toContain('haiku');
    expect(emulator.requests.some((r) => r.operation === 'Converse')).toBe(true);
    // Without claude on this PATH: a warning with the install hint, not a failure.
    expect(byName(report, 'claude')).toBeDefined();
  });

  it('warns when the signing secret comes from a short master key, and tells how to set one', async () => {
    const short = await runCli(
      ['doctor', '--json', '--port', '0'],
      cliEnv(tempHome(), emulator.url, { MASTER_API_KEY: 'sk-master-redteam-0123456789' }),
    );
    const report = JSON.parse(short.stdout) as DoctorReport;
    expect(byName(report, 'signing secret')).toMatchObject({ status: 'warn' });
    expect(byName(report, 'signing secret')?.detail).toContain('28 characters');
    expect(byName(report, 'signing secret')?.hint).toContain('ABPROXY_SIGNING_SECRET');
    // The key itself is never printed.
    expect(short.stdout).not.toContain('sk-master-redteam');
    const strong = await runCli(
      ['doctor', '--json', '--port', '0'],
      cliEnv(tempHome(), emulator.url, { MASTER_API_KEY: 'k'.repeat(40) }),
    );
    expect(byName(JSON.parse(strong.stdout) as DoctorReport, 'signing secret')).toBeUndefined();
  });

  it("reads bedrock-mantle's model list: the Claude models only there, or a warning when unreadable", async () => {
    const withMantle = cliEnv(tempHome(), emulator.url, {
      AWS_ENDPOINT_URL_BEDROCK_MANTLE: emulator.mantleUrl,
    });
    const run = await runCli(['doctor', '--json', '--port', '0'], withMantle);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'mantle')).toMatchObject({ status: 'ok' });
    expect(byName(report, 'mantle')?.detail).toContain('Claude only there: claude-opus-5-5');

    const gone = cliEnv(tempHome(), emulator.url, { AWS_ENDPOINT_URL_BEDROCK_MANTLE: 'http://127.0.0.1:9' });
    const warned = JSON.parse(
      (await runCli(['doctor', '--json', '--port', '0'], gone)).stdout,
    ) as DoctorReport;
    expect(byName(warned, 'mantle')).toMatchObject({ status: 'warn' });
    expect(byName(warned, 'mantle')?.detail).toContain('404');
    // A warning: the rest of the gateway works without mantle.
    expect(byName(warned, 'bedrock')?.status).toBe('ok');
  });

  it('checks every upstream of ABPROXY_UPSTREAMS through its own endpoint and credentials', async () => {
    const upstreams = [
      { name: 'good', region: 'us-east-1', endpoint: emulator.url, controlEndpoint: emulator.url },
      {
        name: 'bad-key',
        region: 'us-west-2',
        controlEndpoint: emulator.url,
        credentials: { accessKeyId: 'AKIDWRONG', secretAccessKey: 'nope' },
      },
      { name: 'gone', region: 'eu-west-1', controlEndpoint: 'http://127.0.0.1:9' },
    ];
    const env = cliEnv(tempHome(), emulator.url, { ABPROXY_UPSTREAMS: JSON.stringify(upstreams) });
    const run = await runCli(['doctor', '--json', '--port', '0'], env);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'upstream good')?.status).toBe('ok');
    expect(byName(report, 'upstream bad-key')).toMatchObject({ status: 'fail' });
    expect(byName(report, 'upstream gone')).toMatchObject({ status: 'fail' });
    // The fix names the endpoint that upstream calls, not the gateway's default one.
    expect(byName(report, 'upstream gone')?.hint).toContain('cannot reach http://127.0.0.1:9');
    expect(byName(report, 'upstream gone')?.hint).toContain('ABPROXY_UPSTREAMS (gone).controlEndpoint');
    expect(JSON.stringify(report)).not.toContain('nope');
    expect(run.code).toBe(1);
  });

  it('does not fail on the default credential chain when every upstream brings its own credentials', async () => {
    const upstreams = [
      {
        name: 'keys',
        region: 'us-east-1',
        endpoint: emulator.url,
        controlEndpoint: emulator.url,
        credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
      },
    ];
    const env = cliEnv(tempHome(), emulator.url, { ABPROXY_UPSTREAMS: JSON.stringify(upstreams) });
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const run = await runCli(['doctor', '--json', '--port', '0'], env);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'upstream keys')?.status).toBe('ok');
    expect(byName(report, 'credentials')?.status).toBe('skip');
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("with ABPROXY_UPSTREAMS checks Bedrock where serve reads it: the first upstream's own endpoint", async () => {
    const upstreams = [
      { name: 'vpce', region: 'us-west-2', endpoint: emulator.url, controlEndpoint: emulator.url },
    ];
    // The default endpoints lead nowhere (only the upstream's endpoint is reachable, as behind PrivateLink).
    const env = cliEnv(tempHome(), 'http://127.0.0.1:9', { ABPROXY_UPSTREAMS: JSON.stringify(upstreams) });
    const run = await runCli(['doctor', '--json', '--deep', '--port', '0'], env);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'bedrock')).toMatchObject({ status: 'ok' });
    expect(byName(report, 'bedrock')?.detail).toContain('us-west-2 (upstream vpce)');
    expect(byName(report, 'models')?.status).toBe('ok');
    // --deep calls a model through the pool, as serve would.
    expect(byName(report, 'invoke')).toMatchObject({ status: 'ok' });
    expect(byName(report, 'invoke')?.detail).toContain('(upstream vpce)');
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('reports a bad setting and keeps the others for the remaining checks (home, region)', async () => {
    const home = tempHome();
    const run = await runCli(
      ['doctor', '--json', '--port', '0'],
      cliEnv(home, emulator.url, { LOG_LEVEL: 'verbose', AWS_REGION: 'eu-west-1' }),
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'config')).toMatchObject({ status: 'fail' });
    expect(byName(report, 'config')?.detail).toContain('LOG_LEVEL');
    expect(byName(report, 'region')?.detail).toContain('eu-west-1');
    expect(byName(report, 'home')?.detail).toContain(home);
  });

  it('fails with exit 1 and a fix hint when Bedrock cannot be reached', async () => {
    const run = await runCli(['doctor', '--port', '0'], cliEnv(tempHome(), 'http://127.0.0.1:9'));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL\s+bedrock\s+/m);
    expect(run.stdout).toMatch(/fix: cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(run.stdout).toMatch(/1 check failed\./);
  });

  it('warns about an ANTHROPIC_API_KEY Claude Code refused, for people who run claude by hand', async () => {
    const home = tempHome();
    const key = 'abp_doctor_test_key_0123456789abcdefghij';
    writeFileSync(
      join(home, '.claude.json'),
      JSON.stringify({ hasCompletedOnboarding: true, customApiKeyResponses: { rejected: [key.slice(-20)] } }),
    );
    const run = await runCli(
      ['doctor', '--json', '--port', '0'],
      cliEnv(home, emulator.url, { ANTHROPIC_API_KEY: key }),
    );
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'claude-api-key')).toMatchObject({ status: 'warn' });
    expect(byName(report, 'claude-api-key')?.hint).toContain('ANTHROPIC_AUTH_TOKEN');
    expect(byName(report, 'claude-onboarding')?.status).toBe('ok');
    expect(run.stdout).not.toContain(key);
  });

  it('fails on missing credentials and says how to get some', async () => {
    const env = cliEnv(tempHome(), emulator.url);
    delete (env as Record<string, string | undefined>).AWS_ACCESS_KEY_ID;
    delete (env as Record<string, string | undefined>).AWS_SECRET_ACCESS_KEY;
    const run = await runCli(['doctor', '--json', '--port', '0'], {
      ...env,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(byName(report, 'credentials')).toMatchObject({ status: 'fail' });
    expect(byName(report, 'credentials')?.hint).toContain('aws sso login');
    expect(byName(report, 'bedrock')?.status).toBe('skip');
  });
});
