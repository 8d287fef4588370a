/**
 * `<file>.lock`, held by one abproxy process at a time around a read-change-write of that file. A lock
 * left by a killed process is taken over once it is older than the wait.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError } from './errors.ts';

/** How long a command waits for another one, and how old a lock left by a killed one may get. */
const LOCK_WAIT_MS = 10_000;

/** Runs `work` holding `<path>.lock`; `holder` names who else may hold it, for the timeout's message. */
export async function underFileLock<T>(path: string, holder: string, work: () => T | Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  // The file's folder may not exist yet (a first sign-in on a fresh ABPROXY_HOME).
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_WAIT_MS) rmSync(lock, { force: true });
    } catch {}
    if (Date.now() > deadline) {
      throw new CliError(`${lock} is held by another ${holder} (remove it if none runs)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}
