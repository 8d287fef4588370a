/** `abproxy serve` and `abproxy usage` as child processes, the way an operator runs them. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RecordedRequest } from '../emulator/server.ts';

const root = join(import.meta.dirname, '../..');

export interface ServeProcess {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stderr: () => string;
}

export function cliEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: 'warn',
    ...env,
  };
}

export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [join(root, 'bin/abproxy.js'), 'serve', '--port', '0'], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
  return { proc, url, exited, stderr: () => stderr };
}

export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [join(root, 'bin/abproxy.js'), ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Model calls the emulator received (control-plane catalogue calls are not requests a user made). */
export function modelCalls(requests: readonly RecordedRequest[]): RecordedRequest[] {
  const runtime = new Set(['Converse', 'ConverseStream', 'InvokeModel', 'InvokeModelWithResponseStream']);
  return requests.filter((r) => runtime.has(r.operation));
}
