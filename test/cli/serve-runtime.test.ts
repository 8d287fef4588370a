/**
 * `abproxy serve` re-executes itself with the runtime tuning bin/abproxy.js describes (same pid): a small
 * young generation, two malloc arenas and a 32 KiB mmap threshold, fixed at start; the old generation's
 * growing factor and V8's gc (for the one compacting GC after a burst, src/server/http/idle-release.ts)
 * are set inside the process once it listens (src/cli/serve-tuning.ts), not as flags that would cost
 * Node its code caches.
 * Read from /proc, as an operator would, and from the gateway's debug log.
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
    env: cliEnv(home, 'http://127.0.0.1:9', { LOG_LEVEL: 'debug' }),
  });
  await running.waitFor(/listening on/);
  const pid = running.proc.pid!;
  const started = Date.now();
  let tuning: { gcExposed?: boolean; heapGrowing?: string } | undefined;
  while (!tuning && Date.now() - started < 10_000) {
    const line = running
      .output()
      .stderr.split('\n')
      .find((l) => l.includes('"runtime tuning"'));
    if (line) tuning = JSON.parse(line);
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
    env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
    tuning,
  };
}

describe.runIf(process.platform === 'linux')('serve runtime tuning', () => {
  it("starts with the young generation flag and malloc's settings, then sets the growing factor and gc", async () => {
    const { argv, env, tuning } = await serveWith([]);
    expect(argv).toContain('--max-semi-space-size=8');
    // As command-line flags these would change V8's flag hash: every module compiled without its cache.
    expect(argv.some((a) => a.includes('heap-growing') || a.includes('expose-gc'))).toBe(false);
    expect(env).toContain('MALLOC_ARENA_MAX=2');
    expect(env).toContain('MALLOC_MMAP_THRESHOLD_=32768');
    expect(tuning).toMatchObject({ gcExposed: true, heapGrowing: '--heap-growing-percent=50' });
  }, 30_000);

  it("keeps the operator's own choice of a flag", async () => {
    const { argv, tuning } = await serveWith(['--max-semi-space-size=16', '--heap-growing-percent=30']);
    expect(argv).toContain('--max-semi-space-size=16');
    expect(argv).not.toContain('--max-semi-space-size=8');
    expect(argv).toContain('--heap-growing-percent=30');
    expect(tuning).toMatchObject({ gcExposed: true, heapGrowing: 'chosen' });
  }, 30_000);
});
