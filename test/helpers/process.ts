/**
 * Child processes for tests, spawned and watched one way: output collected as it comes, the exit
 * awaited, a line waited for, a deadline that kills. `abproxy` itself runs as a user would run it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
/** The `abproxy` command, run with this Node. */
export const ABPROXY = join(ROOT, 'bin/abproxy.js');

export interface SpawnOptions {
  /** The whole environment: nothing is inherited. */
  env: Record<string, string | undefined>;
  cwd?: string;
}

export interface Spawned {
  proc: ChildProcess;
  /** Everything written so far. */
  output(): { stdout: string; stderr: string };
  /** Exit code and signal, once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first match of `pattern` in stdout; rejects when the process exits before printing it. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnProcess(command: string, args: readonly string[], options: SpawnOptions): Spawned {
  const proc = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // 'close' (not 'exit'): the output is complete by then.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    output: () => ({ stdout, stderr }),
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (!match) return false;
          proc.stdout!.off('data', check);
          resolve(match);
          return true;
        };
        if (check()) return;
        proc.stdout!.on('data', check);
        void exited.then(({ code }) => {
          if (!check())
            reject(new Error(`${command} exited (${code}) before printing ${pattern}: ${stderr}`));
        });
      });
    },
    async stop(graceMs = 3_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to its end (killed after `timeoutMs`) and returns what it printed. */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number },
): Promise<Finished> {
  const child = spawnProcess(command, args, options);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  return { code, signal, ...child.output() };
}

/** `abproxy <args>` as a child process. */
export function spawnAbproxy(args: readonly string[], options: SpawnOptions): Spawned {
  return spawnProcess(process.execPath, [ABPROXY, ...args], options);
}

/** `abproxy <args>` run to its end. */
export function runAbproxy(
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number },
): Promise<Finished> {
  return runProcess(process.execPath, [ABPROXY, ...args], options);
}

/** The URL `abproxy serve` prints once it listens (a wildcard bind read as 127.0.0.1). */
export async function servingUrl(serve: Spawned): Promise<string> {
  const [, url] = await serve.waitFor(/abproxy listening on (http:\/\/\S+)\n/);
  return url!.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:');
}
