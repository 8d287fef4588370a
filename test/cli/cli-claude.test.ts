/**
 * `abproxy claude` as a user runs it: with a fake `claude` that reports its environment and what the
 * gateway answered while it ran, with no claude at all, reusing a running `abproxy serve`, and with the
 * real Claude Code CLI against the Bedrock emulator.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/models/capabilities.ts';
import { claudeBinary } from '../e2e/harness.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { runProcess, spawnAbproxy } from '../helpers/process.ts';
import { cliEnv, fakeClaude, parseFake, root, runCli, startCli, tempHome } from './cli-helpers.ts';

/** util-linux's setpriv with --pdeathsig, which `abproxy claude` runs Claude Code under (Linux only). */
const hasPdeathsig =
  process.platform === 'linux' &&
  (spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout ?? '').includes('--pdeathsig');

let emulator: Emulator;
let bin: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  bin = mkdtempSync(join(tmpdir(), 'abproxy-fake-bin-'));
  fakeClaude(bin);
});

afterAll(async () => {
  await emulator.close();
});

/** A user env with the fake claude first on PATH and a few variables that would misroute Claude Code. */
function userEnv(home: string, extra: Record<string, string> = {}) {
  return cliEnv(home, emulator.url, {
    PATH: `${bin}:${process.env.PATH}`,
    CLAUDE_CODE_USE_BEDROCK: '1',
    ANTHROPIC_AUTH_TOKEN: 'stale-token',
    ANTHROPIC_BEDROCK_BASE_URL: 'https://bedrock.example',
    ...extra,
  });
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

describe('abproxy claude with a fake claude', () => {
  it('starts a private gateway, sets and clears the environment, passes arguments and returns the exit code', async () => {
    const home = tempHome();
    const run = await runCli(
      ['claude', '--', '-p', 'hello there', '--output-format', 'json'],
      userEnv(home, { FAKE_CLAUDE_EXIT: '3' }),
    );
    expect(run.code, run.stderr).toBe(3);
    const fake = parseFake(run.stdout);
    expect(fake.args).toEqual(['-p', 'hello there', '--output-format', 'json']);
    const env = fake.env;
    expect(env.ANTHROPIC_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The key goes as a bearer token (no "Detected a custom API key" question); the stale one is gone.
    expect(env.ANTHROPIC_AUTH_TOKEN).toMatch(/^abp_/);
    for (const name of ['CLAUDE_CODE_USE_BEDROCK', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BEDROCK_BASE_URL']) {
      expect(env[name], name).toBeUndefined();
    }
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(env.DISABLE_TELEMETRY).toBe('1');
    // Auto-update stays off (Claude Code's /config shows "disabled (set by env: DISABLE_AUTOUPDATER)").
    expect(env.DISABLE_AUTOUPDATER).toBe('1');
    expect(env.CLAUDE_CODE_ATTRIBUTION_HEADER).toBe('0');
    // No model flag: Claude Code keeps choosing its own Claude models.
    expect(env.ANTHROPIC_MODEL).toBeUndefined();
    // The gateway answered while claude ran, took the key, and refused callers without it...
    expect(fake.health).toBe(200);
    expect(fake.withKey).toBe(200);
    expect(fake.withoutKey).toBe(401);
    // ...and is gone once claude exited.
    expect(await refused(env.ANTHROPIC_BASE_URL!)).toBe(true);
    // Its logs went to a file, not over Claude Code's terminal.
    expect(existsSync(join(home, 'claude-gateway.log'))).toBe(true);
    // Claude Code's first-run setup is marked done, with one line that says so.
    expect(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'))).toEqual({
      hasCompletedOnboarding: true,
    });
    expect(run.stderr).toMatch(/setting hasCompletedOnboarding in .*\.claude\.json/);
  });

  it('leaves ~/.claude.json alone with --no-onboarding-fix, and follows CLAUDE_CONFIG_DIR', async () => {
    const home = tempHome();
    const optOut = await runCli(['claude', '--no-onboarding-fix', '-p', 'hi'], userEnv(home));
    expect(optOut.code, optOut.stderr).toBe(0);
    expect(existsSync(join(home, '.claude.json'))).toBe(false);
    expect(optOut.stderr).not.toMatch(/hasCompletedOnboarding/);
    // abproxy's own flag is not passed on.
    expect(parseFake(optOut.stdout).args).toEqual(['-p', 'hi']);
    const configDir = join(home, 'claude-config');
    const run = await runCli(['claude'], userEnv(home, { CLAUDE_CONFIG_DIR: configDir }));
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(configDir, '.claude.json'), 'utf8')).hasCompletedOnboarding).toBe(
      true,
    );
    expect(existsSync(join(home, '.claude.json'))).toBe(false);
    // Once set, nothing more is said.
    const again = await runCli(['claude'], userEnv(home, { CLAUDE_CONFIG_DIR: configDir }));
    expect(again.stderr).not.toMatch(/hasCompletedOnboarding/);
  });

  it('passes options it does not know on to claude without --', async () => {
    const run = await runCli(['claude', '-p', 'hi', '--verbose'], userEnv(tempHome()));
    expect(run.code, run.stderr).toBe(0);
    expect(parseFake(run.stdout).args).toEqual(['-p', 'hi', '--verbose']);
  });

  it('tells Claude Code about an open model: every model slot, its context window and output cap', async () => {
    const model = 'qwen.qwen3-coder-480b-a35b-v1:0';
    const run = await runCli(
      ['claude', '--model', model, '--small-model', 'claude-haiku-4-5'],
      userEnv(tempHome(), { DISABLE_TELEMETRY: '0' }),
    );
    expect(run.code, run.stderr).toBe(0);
    const { env } = parseFake(run.stdout);
    const caps = capabilitiesFor(model);
    expect(env.ANTHROPIC_MODEL).toBe(model);
    expect(env.ANTHROPIC_DEFAULT_OPUS_MODEL).toBe(model);
    expect(env.ANTHROPIC_DEFAULT_SONNET_MODEL).toBe(model);
    expect(env.ANTHROPIC_DEFAULT_HAIKU_MODEL).toBe('claude-haiku-4-5');
    expect(env.ANTHROPIC_SMALL_FAST_MODEL).toBe('claude-haiku-4-5');
    expect(env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBe(String(caps.contextWindow));
    expect(env.CLAUDE_CODE_MAX_OUTPUT_TOKENS).toBe(String(caps.maxOutputTokens));
    expect(env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME).toBe(model);
    // A value the user chose is kept.
    expect(env.DISABLE_TELEMETRY).toBe('0');
  });

  it('takes the model from the config file when no flag is given', async () => {
    const home = tempHome();
    const set = await runCli(['config', 'set', 'claudeModel', 'claude-sonnet-4-5'], userEnv(home));
    expect(set.code, set.stderr).toBe(0);
    const run = await runCli(['claude'], userEnv(home));
    expect(parseFake(run.stdout).env.ANTHROPIC_MODEL).toBe('claude-sonnet-4-5');
  });

  it('reports a signal death as 128+n', async () => {
    const run = await runCli(['claude'], userEnv(tempHome(), { FAKE_CLAUDE_SIGNAL: 'SIGTERM' }));
    expect(run.code).toBe(128 + constants.signals.SIGTERM);
  });

  it.skipIf(!hasPdeathsig)(
    'a kill -9 of abproxy ends Claude Code too, rather than leaving it holding the terminal',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'abproxy-waiting-claude-'));
      const ended = join(dir, 'ended');
      const waiting = join(dir, 'claude');
      writeFileSync(
        waiting,
        `#!${process.execPath}
process.on('SIGTERM', () => { require('node:fs').writeFileSync(${JSON.stringify(ended)}, 'SIGTERM'); process.exit(0); });
process.stdout.write('waiting ' + process.pid + '\\n');
setInterval(() => {}, 1000);
`,
      );
      chmodSync(waiting, 0o755);
      const launcher = spawnAbproxy(['claude', '--claude-bin', waiting], { env: userEnv(tempHome()) });
      const [, pid] = await launcher.waitFor(/waiting (\d+)\n/);
      try {
        launcher.proc.kill('SIGKILL');
        // Its stdout is the launcher's: the pipe closes once the stand-in has ended too.
        await Promise.race([launcher.exited, new Promise((r) => setTimeout(r, 5_000))]);
        expect(existsSync(ended) && readFileSync(ended, 'utf8')).toBe('SIGTERM');
      } finally {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
    },
  );

  it('exits 1 with an install hint when claude is missing', async () => {
    const home = tempHome();
    const run = await runCli(['claude', '-p', 'hi'], cliEnv(home, emulator.url, { PATH: '/nonexistent' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("'claude' is not on PATH");
    expect(run.stderr).toContain('npm install -g @anthropic-ai/claude-code');
    const explicit = await runCli(['claude', '--claude-bin', join(home, 'nope')], cliEnv(home, emulator.url));
    expect(explicit.code).toBe(1);
    expect(explicit.stderr).toContain('npm install -g @anthropic-ai/claude-code');
  });

  it('on a machine with no AWS credentials, says so and exits 1 before Claude Code starts', async () => {
    // A fresh machine: no keys in the environment, no ~/.aws, no instance metadata.
    const home = tempHome();
    const env = userEnv(home);
    delete (env as Record<string, string | undefined>).AWS_ACCESS_KEY_ID;
    delete (env as Record<string, string | undefined>).AWS_SECRET_ACCESS_KEY;
    const run = await runCli(['claude', '-p', 'hi'], env);
    expect(run.code, run.stderr).toBe(1);
    // Claude Code's files are left alone when it is not started.
    expect(existsSync(join(home, '.claude.json'))).toBe(false);
    expect(run.stderr).not.toContain('hasCompletedOnboarding');
    // Not Claude Code later, on the first message, with a 502 telling the user to "ask the operator".
    expect(run.stdout).not.toContain('{"args"');
    expect(run.stderr).toContain('no AWS credentials');
    expect(run.stderr).toContain('aws configure');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('says a --port in use is in use, with no stack trace, and exits 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const run = await runCli(['claude', '--port', String(port), '-p', 'hi'], userEnv(tempHome()));
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).not.toContain('{"args"');
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });

  it('starts without AWS credentials in the chain when a Bedrock API key is set', async () => {
    const env = userEnv(tempHome(), { AWS_BEARER_TOKEN_BEDROCK: 'bedrock-api-key' });
    delete (env as Record<string, string | undefined>).AWS_ACCESS_KEY_ID;
    delete (env as Record<string, string | undefined>).AWS_SECRET_ACCESS_KEY;
    const run = await runCli(['claude', '-p', 'hi'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(parseFake(run.stdout).withKey).toBe(200);
  });
});

describe('abproxy claude reusing a running gateway', () => {
  let serve: ChildProcess;
  let url: string;
  const home = tempHome();

  beforeAll(async () => {
    serve = startCli(['serve', '--port', '0', '--plain'], userEnv(home));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      serve.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
  });

  afterAll(async () => {
    serve.kill('SIGTERM');
    await new Promise((resolve) => serve.on('close', resolve));
  });

  it('finds it through the state file and leaves it running', async () => {
    const state = JSON.parse(readFileSync(join(home, 'gateway.json'), 'utf8'));
    expect(state).toMatchObject({ url, pid: serve.pid });
    // The instance secret it proves itself with: in the state file only, which only the user can read.
    expect(state.secret).toMatch(/^[\w-]{43}$/);
    expect(statSync(join(home, 'gateway.json')).mode & 0o777).toBe(0o600);
    const health = await fetch(`${url}/health`);
    expect(health.headers.get('x-abproxy-proof')).toBeNull();
    expect(await health.text()).not.toContain(state.secret);
    const run = await runCli(['claude', '-p', 'hi'], userEnv(home));
    expect(run.code, run.stderr).toBe(0);
    const fake = parseFake(run.stdout);
    expect(fake.env.ANTHROPIC_BASE_URL).toBe(url);
    expect(fake.health).toBe(200);
    expect(await refused(url)).toBe(false);
  });

  it('once the user has keys, makes a local abproxy-claude key and reuses it', async () => {
    const created = await runCli(['keys', 'create', '--name', 'me', '--json'], userEnv(home));
    expect(created.code, created.stderr).toBe(0);
    const first = await runCli(['claude'], userEnv(home));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/created key 'abproxy-claude'/);
    const one = parseFake(first.stdout);
    expect(one.env.ANTHROPIC_BASE_URL).toBe(url);
    // The running gateway now requires keys and takes this one.
    expect(one.withKey).toBe(200);
    expect(one.withoutKey).toBe(401);
    const second = await runCli(['claude'], userEnv(home));
    expect(parseFake(second.stdout).env.ANTHROPIC_API_KEY).toBe(one.env.ANTHROPIC_API_KEY);
    expect(second.stderr).not.toMatch(/created key/);
    const keys = JSON.parse((await runCli(['keys', 'list', '--json'], userEnv(home))).stdout) as {
      name: string;
    }[];
    expect(keys.filter((k) => k.name === 'abproxy-claude')).toHaveLength(1);

    // Revoked, it is replaced: the new secret's file is private even if the old one was opened up.
    const claudeKey = keys.find((k) => k.name === 'abproxy-claude') as unknown as { id: string };
    chmodSync(join(home, 'claude.key'), 0o644);
    expect((await runCli(['keys', 'revoke', claudeKey.id], userEnv(home))).code).toBe(0);
    const third = await runCli(['claude'], userEnv(home));
    expect(third.stderr).toMatch(/created key 'abproxy-claude'/);
    expect(statSync(join(home, 'claude.key')).mode & 0o777).toBe(0o600);
  });

  it('ignores a stale state file whose gateway is gone', async () => {
    const other = tempHome();
    writeFileSync(
      join(other, 'gateway.json'),
      JSON.stringify({ url: 'http://127.0.0.1:9', pid: 999_999, started: '' }),
    );
    const run = await runCli(['claude'], userEnv(other));
    expect(run.code, run.stderr).toBe(0);
    expect(parseFake(run.stdout).env.ANTHROPIC_BASE_URL).not.toBe('http://127.0.0.1:9');
  });
});

describe('abproxy claude and a port taken by someone else', () => {
  let squatter: Server;
  let squatterUrl: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    // Answers everything with 200, as a careless (or hostile) server on a shared host would.
    squatter = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","data":[]}');
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    squatterUrl = `http://127.0.0.1:${(squatter.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => squatter.close(resolve));
  });

  it.each([
    ['with the instance secret of a gateway that is gone', { secret: 'a'.repeat(43) }],
    ['written by an older gateway (no secret)', {}],
  ])('never sends the master key to the port a stale state file names (%s)', async (_, extra) => {
    seen.length = 0;
    const home = tempHome();
    const master = 'squat-test-master-key-0123456789';
    // A live pid (ours): only the challenge can tell this server from the gateway.
    writeFileSync(
      join(home, 'gateway.json'),
      JSON.stringify({ url: squatterUrl, pid: process.pid, started: '', ...extra }),
    );
    const run = await runCli(['claude', '-p', 'hi'], userEnv(home, { MASTER_API_KEY: master }));
    expect(run.code, run.stderr).toBe(0);
    const fake = parseFake(run.stdout);
    // It started its own gateway instead, which takes the key.
    expect(fake.env.ANTHROPIC_BASE_URL).not.toBe(squatterUrl);
    expect(fake.withKey).toBe(200);
    const leaked = seen.filter((r) => JSON.stringify(r).includes(master));
    expect(leaked, JSON.stringify(seen)).toEqual([]);
  });
});

const realClaude = claudeBinary();

/** Runs `abproxy claude --claude-bin <real claude> <flags> -- -p <prompt> --output-format json`. */
async function runReal(flags: string[], prompt: string) {
  const home = tempHome();
  const project = mkdtempSync(join(tmpdir(), 'abproxy-claude-proj-'));
  const env = cliEnv(home, emulator.url, {
    XDG_CONFIG_HOME: join(home, '.config'),
    SHELL: '/bin/bash',
    TERM: 'dumb',
    IS_SANDBOX: '1',
  });
  const args = [
    join(root, 'bin/abproxy.js'),
    'claude',
    '--claude-bin',
    join(root, 'node_modules/.bin/claude'),
  ];
  const { code, stdout, stderr } = await runProcess(
    process.execPath,
    [...args, ...flags, '--', '-p', prompt, '--output-format', 'json'],
    { env, cwd: project, timeoutMs: 60_000 },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const result = (last.startsWith('{') ? JSON.parse(last) : {}) as { result?: string; is_error?: boolean };
  return { code, result, output: `${stdout}\n${stderr}` };
}

describe.skipIf(!realClaude)('abproxy claude with the real Claude Code CLI', () => {
  it('answers a print-mode prompt through the gateway it started, against the emulator', async () => {
    emulator.reset();
    emulator.enqueue({ model: 'claude-sonnet-4-5', text: 'PONG from the emulator' });
    const run = await runReal(['--model', 'claude-sonnet-4-5', '--small-model', 'claude-haiku-4-5'], 'hi');
    expect(run.code, run.output).toBe(0);
    expect(run.result.is_error).toBe(false);
    expect(run.result.result).toContain('PONG from the emulator');
    expect(emulator.requests.some((r) => r.modelId?.includes('claude-sonnet-4-5'))).toBe(true);
  }, 90_000);

  it('runs an open model chosen with --model', async () => {
    emulator.reset();
    emulator.enqueue({ model: 'gpt-oss-120b', text: 'Hello from gpt-oss' });
    const run = await runReal(['--model', 'openai.gpt-oss-120b-1:0'], 'hi');
    expect(run.code, run.output).toBe(0);
    expect(run.result.result).toContain('Hello from gpt-oss');
    expect(emulator.requests.some((r) => r.modelId?.includes('gpt-oss-120b'))).toBe(true);
  }, 90_000);

  it("exits with Claude Code's own code when the call fails", async () => {
    const run = await runReal(['--model', 'claude-nonexistent-9'], 'hi');
    expect(run.code, run.output).toBe(1);
    expect(run.result.is_error).toBe(true);
  }, 90_000);
});
