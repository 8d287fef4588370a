/**
 * The state file (ABPROXY_HOME/gateway.json) is how `abproxy claude` and `abproxy admin` find the running
 * gateway: a second `serve` of the same home must not take it over, or the first is orphaned once the
 * second stops.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { startServe } from '../usage/processes.ts';
import { cliEnv, tempHome } from './cli-helpers.ts';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator.close();
});

const statePid = (home: string) =>
  (JSON.parse(readFileSync(join(home, 'gateway.json'), 'utf8')) as { pid: number }).pid;

describe('two serve processes of one ABPROXY_HOME', () => {
  it('the first keeps the state file while the second runs and after it stops', async () => {
    const home = tempHome();
    const env = cliEnv(home, emulator.url);
    const first = await startServe(env);
    const second = await startServe(env);
    try {
      expect(statePid(home)).toBe(first.proc.pid);
      expect(second.stderr()).toContain('another gateway of this ABPROXY_HOME is running');
      second.proc.kill('SIGTERM');
      await second.exited;
      expect(statePid(home)).toBe(first.proc.pid);
    } finally {
      second.proc.kill('SIGTERM');
      first.proc.kill('SIGTERM');
      await first.exited;
    }
    expect(existsSync(join(home, 'gateway.json'))).toBe(false);
  }, 60_000);
});
