/** `abproxy serve` as a user runs it: a child process that prints its URL and answers. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnAbproxy } from '../helpers/process.ts';

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

function spawnCli(args: string[], env: Record<string, string> = {}) {
  const run = spawnAbproxy(args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-cli-')),
      AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
      AWS_SECRET_ACCESS_KEY: 'emulator-secret',
      // Nothing listens here; the catalogue warm-up just fails quietly.
      AWS_ENDPOINT_URL_BEDROCK: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:9',
      LOG_LEVEL: 'error',
      ...env,
    },
  });
  const firstLine = run.waitFor(/^(.*)\n/).then((match) => match[1]!);
  firstLine.catch(() => {});
  return { ...run, exited: run.exited.then(({ code }) => code), firstLine };
}

describe('abproxy serve', () => {
  it('prints exactly one line with the real port, answers /health, and exits 0 on SIGTERM', async () => {
    const run = spawnCli(['serve', '--port', '0']);
    child = run.proc;
    const line = await run.firstLine;
    expect(line).toMatch(/^abproxy listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(line).not.toMatch(/:0$/);
    const base = line.replace('abproxy listening on ', '');
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toBe(`${line}\n`);
  });

  it('drains and exits 0 on a SIGTERM sent the moment the ready line arrives', async () => {
    // Supervisors and scripts stop a gateway as soon as it is ready: the signal must find its listener.
    const run = spawnCli(['serve', '--port', '0']);
    child = run.proc;
    const stopped = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        if (!chunk.toString().includes('listening on')) return;
        run.proc.stdout!.off('data', onData);
        run.proc.kill('SIGTERM');
        resolve();
      };
      run.proc.stdout!.on('data', onData);
    });
    await stopped;
    expect(await run.exited).toBe(0);
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const first = spawnCli(['serve', '--port', '0']);
    child = first.proc;
    const port = (await first.firstLine).split(':').at(-1)!;
    const second = spawnCli(['serve', '--port', port]);
    expect(await second.exited).toBe(1);
    expect(second.output().stderr).toMatch(new RegExp(`port ${port} .*already in use`));
    first.proc.kill('SIGTERM');
    await first.exited;
  });

  it('exits 2 on a usage error and 0 for --version', async () => {
    const bad = spawnCli(['serve', '--no-such-flag']);
    expect(await bad.exited).toBe(2);
    const version = spawnCli(['--version']);
    expect(await version.exited).toBe(0);
    expect(version.output().stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
