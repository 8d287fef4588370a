/** `abproxy serve` and `abproxy usage` as child processes, the way an operator runs them. */
import type { ChildProcess } from 'node:child_process';
import type { RecordedRequest } from '../emulator/server.ts';
import { type Finished, runAbproxy, servingUrl, spawnAbproxy } from '../helpers/process.ts';

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
  const serve = spawnAbproxy(['serve', '--port', '0'], { env: cliEnv(env) });
  const url = await servingUrl(serve);
  return {
    proc: serve.proc,
    url,
    exited: serve.exited.then(({ code }) => code),
    stderr: () => serve.output().stderr,
  };
}

export function runCli(args: string[], env: Record<string, string>): Promise<Finished> {
  return runAbproxy(args, { env: cliEnv(env) });
}

/** Model calls the emulator received (control-plane catalogue calls are not requests a user made). */
export function modelCalls(requests: readonly RecordedRequest[]): RecordedRequest[] {
  const runtime = new Set(['Converse', 'ConverseStream', 'InvokeModel', 'InvokeModelWithResponseStream']);
  return requests.filter((r) => runtime.has(r.operation));
}
