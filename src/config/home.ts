import { homedir } from 'node:os';
import { join } from 'node:path';

/** The OS config directory for abproxy (not created here; writers create it on demand). */
export function defaultHome(env: Record<string, string | undefined>, platform = process.platform): string {
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'abproxy');
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'abproxy');
  return join(env.HOME || homedir(), '.config', 'abproxy');
}
