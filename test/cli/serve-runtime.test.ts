/**
 * `abproxy serve` re-executes itself with the runtime tuning bin/abproxy.js describes (same pid): a small
 * young generation, an old generation grown by 50%, two malloc arenas, and --expose-gc for the one
 * compacting GC after a burst (src/server/http/idle-release.ts). Read from /proc, as an operator would.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ABPROXY, type Spawned, spawnProcess } from '../helpers/process.ts';
import { cliEnv, tempHome } from './cli-helpers.ts';

let running: Spawned | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function serveWith(nodeFlags: string[]) {
  const home = tempHome();
  running = spawnProcess(process.execPath, [...nodeFlags, ABPROXY, 'serve', '--port', '0', '--plain'], {
    env: cliEnv(home, 'http://127.0.0.1:9'),
  });
  await running.waitFor(/listening on/);
  const pid = running.proc.pid!;
  return {
    argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
    env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
  };
}

describe.runIf(process.platform === 'linux')('serve runtime tuning', () => {
  it('runs with the young/old generation flags, --expose-gc and two malloc arenas', async () => {
    const { argv, env } = await serveWith([]);
    expect(argv).toEqual(
      expect.arrayContaining(['--max-semi-space-size=8', '--heap-growing-percent=50', '--expose-gc']),
    );
    expect(env).toContain('MALLOC_ARENA_MAX=2');
  }, 30_000);

  it("keeps the operator's own choice of a flag", async () => {
    const { argv } = await serveWith(['--max-semi-space-size=16']);
    expect(argv).toContain('--max-semi-space-size=16');
    expect(argv).not.toContain('--max-semi-space-size=8');
    expect(argv).toContain('--expose-gc');
  }, 30_000);
});
