/** Runs `bin/abproxy.js` as a user would, in a throw-away ABPROXY_HOME, against a given Bedrock endpoint. */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { emulatorAwsEnv } from '../helpers/gateway.ts';
import { type Finished, ROOT, runAbproxy, spawnAbproxy } from '../helpers/process.ts';

export const root = ROOT;

export type CliResult = Finished;

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'abproxy-cli-test-'));
}

/** The environment of a user whose AWS settings point at `endpoint` (an emulator, or nothing). */
export function cliEnv(
  home: string,
  endpoint: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ABPROXY_HOME: home,
    ...emulatorAwsEnv(endpoint),
    AWS_EC2_METADATA_DISABLED: 'true',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export function startCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawnAbproxy(args, { env }).proc;
}

export function runCli(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  return runAbproxy(args, { env, timeoutMs });
}

/**
 * A stand-in for Claude Code: prints one JSON line with its arguments, its whole environment and what
 * the gateway answered while it ran, then exits with FAKE_CLAUDE_EXIT (or dies of FAKE_CLAUDE_SIGNAL).
 */
export function fakeClaude(dir: string, name = 'claude'): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!${process.execPath}
const base = process.env.ANTHROPIC_BASE_URL;
const status = async (path, headers = {}) => {
  try { return (await fetch(base + path, { headers })).status; } catch (err) { return String(err); }
};
const out = {
  args: process.argv.slice(2),
  env: process.env,
  health: await status('/health'),
  withKey: await status('/v1/models', { authorization: 'Bearer ' + (process.env.ANTHROPIC_AUTH_TOKEN ?? '') }),
  withoutKey: await status('/v1/models'),
};
process.stdout.write(JSON.stringify(out) + '\\n');
if (process.env.FAKE_CLAUDE_SIGNAL) process.kill(process.pid, process.env.FAKE_CLAUDE_SIGNAL);
else process.exit(Number(process.env.FAKE_CLAUDE_EXIT ?? 0));
`,
  );
  chmodSync(path, 0o755);
  return path;
}

export interface FakeRun {
  args: string[];
  env: Record<string, string | undefined>;
  health: number | string;
  withKey: number | string;
  withoutKey: number | string;
}

export function parseFake(stdout: string): FakeRun {
  const line = stdout.split('\n').find((l) => l.startsWith('{"args"'));
  if (!line) throw new Error(`the fake claude printed nothing: ${stdout}`);
  return JSON.parse(line) as FakeRun;
}
