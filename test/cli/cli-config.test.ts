/** `abproxy config` round trips through the same file `serve` reads, with precedence and validation. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configGet, configPath, configSet, configUnset } from '../../src/cli/config.ts';
import { CliError } from '../../src/cli/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

/** The command functions with an env of our choosing, output captured. */
function session(env: Record<string, string | undefined>) {
  const out = { stdout: '', stderr: '' };
  const io = {
    env,
    stdout: (t: string) => {
      out.stdout += t;
    },
    stderr: (t: string) => {
      out.stderr += t;
    },
  };
  return {
    out,
    async get(key?: string, flags: { json?: boolean; showSecrets?: boolean } = {}) {
      out.stdout = '';
      await configGet(key, flags, io);
      return out.stdout;
    },
    set: (key: string, value: string) => configSet(key, value, io),
    unset: (key: string) => configUnset(key, io),
  };
}

async function exitCodeOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof CliError ? err.exitCode : -1;
  }
}

describe('abproxy config', () => {
  it('set and get from the command line use the file serve reads', async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    expect((await runCli(['config', 'path'], env)).stdout).toBe(`${join(home, 'config.json')}\n`);
    const set = await runCli(['config', 'set', 'port', '9123'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))).toEqual({ port: 9123 });
    expect(loadConfig({ env: { ABPROXY_HOME: home } })).toMatchObject({ port: 9123 });
    expect((await runCli(['config', 'get', 'port'], env)).stdout).toBe('9123\n');
  });

  it('stores values typed, reports each source with precedence env > file > default, and unsets', async () => {
    const home = tempHome();
    const s = session({ ABPROXY_HOME: home });
    expect(configPath({ ABPROXY_HOME: home })).toBe(join(home, 'config.json'));
    await s.set('AWS_REGION', 'eu-west-3');
    await s.set('model-map', '{"sonnet":"qwen.qwen3-32b-v1:0"}');
    await s.set('enableToolUse', 'off');
    const file = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
    expect(file).toEqual({
      region: 'eu-west-3',
      modelMap: { sonnet: 'qwen.qwen3-32b-v1:0' },
      enableToolUse: false,
    });
    expect(JSON.parse(await s.get('region', { json: true }))).toEqual({
      key: 'region',
      value: 'eu-west-3',
      source: 'file',
    });

    const shadowed = session({ ABPROXY_HOME: home, AWS_REGION: 'ap-south-1' });
    const all = JSON.parse(await shadowed.get(undefined, { json: true }));
    expect(all.file).toBe(join(home, 'config.json'));
    const region = all.settings.find((v: { key: string }) => v.key === 'region');
    expect(region).toEqual({ key: 'region', value: 'ap-south-1', source: 'env', env: 'AWS_REGION' });
    expect(all.settings.find((v: { key: string }) => v.key === 'maxBodyBytes').source).toBe('default');
    await shadowed.set('region', 'eu-north-1');
    expect(shadowed.out.stderr).toContain('AWS_REGION is set in the environment');
    expect(await shadowed.get()).toMatch(/^region\s+ap-south-1\s+env AWS_REGION$/m);

    await s.unset('region');
    expect(JSON.parse(await s.get('region', { json: true })).source).toBe('default');
  });

  it('refuses values serve would refuse, and unknown keys, as usage errors', async () => {
    const s = session({ ABPROXY_HOME: tempHome() });
    expect(await exitCodeOf(s.set('port', 'eighty'))).toBe(2);
    expect(await exitCodeOf(s.set('colour', 'blue'))).toBe(2);
    expect(await exitCodeOf(s.set('defaultServiceTier', 'gold'))).toBe(2);
    expect(await exitCodeOf(s.set('home', '/tmp'))).toBe(2);
    expect(await exitCodeOf(s.set('defaultServiceTier', 'Flex'))).toBeUndefined();
    expect(await s.get('defaultServiceTier')).toBe('flex\n');
  });

  it('keeps the master key private: file mode 0600 and masked output', async () => {
    const home = tempHome();
    const s = session({ ABPROXY_HOME: home });
    await s.set('MASTER_API_KEY', 'sk-very-secret-value');
    expect(statSync(join(home, 'config.json')).mode & 0o777).toBe(0o600);
    const shown = await s.get();
    expect(shown).not.toContain('sk-very-secret-value');
    expect(shown).toMatch(/^masterApiKey\s+<redacted>\s+file$/m);
    expect(await s.get('masterApiKey', { showSecrets: true })).toBe('sk-very-secret-value\n');
  });

  it('masks the Bedrock API key taken from AWS_BEARER_TOKEN_BEDROCK', async () => {
    const s = session({ ABPROXY_HOME: tempHome(), AWS_BEARER_TOKEN_BEDROCK: 'bedrock-key-secret' });
    const shown = await s.get();
    expect(shown).not.toContain('bedrock-key-secret');
    expect(shown).toMatch(/^bedrockApiKey\s+<redacted>\s+env AWS_BEARER_TOKEN_BEDROCK$/m);
  });

  it('masks credentials in URL settings (the OTLP endpoint): user:pass@ and query values', async () => {
    const endpoint = 'https://tracer:hunter2@otel.example.com:4318/base?token=otlp-secret';
    const s = session({ ABPROXY_HOME: tempHome(), OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    const masked = 'https://<redacted>@otel.example.com:4318/base?token=<redacted>';
    const shown = await s.get();
    for (const secret of ['hunter2', 'tracer', 'otlp-secret']) expect(shown).not.toContain(secret);
    expect(shown).toContain(`otelEndpoint`);
    expect(shown).toMatch(/^otelEndpoint\s+\S+\s+env OTEL_EXPORTER_OTLP_ENDPOINT$/m);
    expect(shown).toContain(masked);
    expect(await s.get('otelEndpoint')).toBe(`${masked}\n`);
    expect(JSON.parse(await s.get('OTEL_EXPORTER_OTLP_ENDPOINT', { json: true })).value).toBe(masked);
    expect(await s.get('otelEndpoint', { showSecrets: true })).toBe(`${endpoint}\n`);
    // A URL with nothing to hide is shown as it is.
    const plain = session({
      ABPROXY_HOME: tempHome(),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
    });
    expect(await plain.get('otelTracesEndpoint')).toBe('http://127.0.0.1:4318/v1/traces\n');
  });
});

describe('set-up mistakes and usage errors, as a script and a person read them', () => {
  it('an invalid setting in the environment or the file: exit 2 from config get, as from every command', async () => {
    const home = tempHome();
    const badEnv = cliEnv(home, 'http://127.0.0.1:9', { ABPROXY_MODE: 'cluster' });
    const badFileHome = tempHome();
    writeFileSync(join(badFileHome, 'config.json'), '{"port": "eighty"}');
    const badFile = cliEnv(badFileHome, 'http://127.0.0.1:9');
    for (const [args, env] of [
      [['config', 'get'], badEnv],
      [['config', 'get', 'region', '--json'], badEnv],
      [['keys', 'list'], badEnv],
      [['config', 'get'], badFile],
      [['keys', 'list'], badFile],
    ] as const) {
      const run = await runCli([...args], env);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
    }
  });

  it('a config file that is not JSON: one line naming the file and the fix, no stack trace', async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    writeFileSync(join(home, 'config.json'), '{bad');
    for (const args of [
      ['config', 'set', 'port', '9000'],
      ['config', 'get'],
    ]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stderr).toContain('config.json');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--json: a usage error (a missing argument, an unknown option) is JSON on stdout too', async () => {
    const env = cliEnv(tempHome(), 'http://127.0.0.1:9');
    for (const args of [
      ['keys', 'show', '--json'],
      ['keys', 'list', '--json', '--bogus'],
    ]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(' ')).toBe(2);
      expect(JSON.parse(run.stdout)).toMatchObject({ error: { exitCode: 2 } });
    }
  });
});

describe('abproxy config set/unset/path --json', () => {
  it('print the setting (as config get KEY --json does) and the path as one JSON document', async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    const set = await runCli(['config', 'set', 'masterApiKey', 'a-master-key-0123456789', '--json'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ key: 'masterApiKey', value: '<redacted>', source: 'file' });
    const unset = await runCli(['config', 'unset', 'MASTER_API_KEY', '--json'], env);
    expect(JSON.parse(unset.stdout)).toEqual({ key: 'masterApiKey', value: null, source: 'default' });
    const path = await runCli(['config', 'path', '--json'], env);
    expect(JSON.parse(path.stdout)).toEqual({ file: join(home, 'config.json') });
  });
});

describe('command groups given no subcommand', () => {
  it('keys, config and principals alone run their listing (scripts call `abproxy keys --json`)', async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    const created = await runCli(['keys', 'create', '--name', 'ci', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const [keys, keysList, config, configGet, principals] = await Promise.all([
      runCli(['keys', '--json'], env),
      runCli(['keys', 'list', '--json'], env),
      runCli(['config', '--json'], env),
      runCli(['config', 'get', '--json'], env),
      runCli(['principals', '--json'], env),
    ]);
    for (const run of [keys, config, principals]) expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(keys.stdout)).toEqual(JSON.parse(keysList.stdout));
    expect(JSON.parse(keys.stdout).map((key: { name: string }) => key.name)).toEqual(['ci']);
    expect(JSON.parse(config.stdout)).toEqual(JSON.parse(configGet.stdout));
    expect(JSON.parse(principals.stdout)).toEqual([]);
  });

  it('a mistyped subcommand is an unknown command (exit 2), not arguments of the default one', async () => {
    const env = cliEnv(tempHome(), 'http://127.0.0.1:9');
    const [keys, config] = await Promise.all([
      runCli(['keys', 'revok', 'key_x'], env),
      runCli(['config', 'sett', 'region', 'eu-west-1'], env),
    ]);
    expect(keys.code).toBe(2);
    expect(keys.stderr).toMatch(/unknown command 'revok'/);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/unknown command 'sett'/);
  });
});

describe('abproxy config set, run in parallel', () => {
  it('keeps every setting (each read-modify-write of the file used to drop the others)', async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    const settings: Record<string, string> = {
      port: '9000',
      region: 'eu-west-1',
      logLevel: 'debug',
      maxBodyBytes: '2048',
      pingIntervalMs: '1000',
      keyCacheMs: '100',
      usageDrainMs: '500',
      defaultServiceTier: 'flex',
    };
    const runs = await Promise.all(
      Object.entries(settings).map(([key, value]) => runCli(['config', 'set', key, value], env)),
    );
    expect(runs.map((run) => run.code)).toEqual(runs.map(() => 0));
    const file = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(file).sort()).toEqual(Object.keys(settings).sort());
  }, 60_000);
});
