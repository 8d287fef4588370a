/**
 * Claude Code must not outlive `abproxy claude`. A launcher killed with SIGKILL (or by the OOM killer)
 * passes no signal on: Claude Code was left running without its gateway, holding the terminal. Linux
 * sends a child a chosen signal when its parent dies (prctl PR_SET_PDEATHSIG, kept across exec);
 * util-linux's `setpriv --pdeathsig` sets it and execs the command in its place (same pid, so the signals
 * passed on still reach Claude Code). Without setpriv (macOS, a minimal image) or with one older than the
 * option (util-linux < 2.33), the command runs as it is.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Env } from './claude-env.ts';

/** Where Debian and most distributions put it, when PATH does not say. */
const USUAL_PLACES = ['/usr/bin/setpriv', '/bin/setpriv'];

function findSetpriv(env: Env): string | undefined {
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'setpriv'));
  return [...onPath, ...USUAL_PLACES].find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** `command args…`, run so that it gets SIGTERM when this process dies, where the system allows it. */
export function endingWithUs(
  command: string,
  args: readonly string[],
  env: Env,
  platform: NodeJS.Platform = process.platform,
): { command: string; args: string[] } {
  const asIs = { command, args: [...args] };
  if (platform !== 'linux') return asIs;
  const setpriv = findSetpriv(env);
  if (!setpriv) return asIs;
  const help = spawnSync(setpriv, ['--help'], { encoding: 'utf8', timeout: 2000 });
  if (!help.stdout?.includes('--pdeathsig')) return asIs;
  return { command: setpriv, args: ['--pdeathsig', 'SIGTERM', '--', command, ...args] };
}
