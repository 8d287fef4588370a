/**
 * Files embedded in the single executable (SEA assets) that must exist on disk to be loaded: the
 * better-sqlite3 addon (dlopen needs a path), the ink views bundle (import() needs a URL) and the HTML
 * reader's worker (a Worker needs a file). Each is written once to a per-content directory under the
 * user's cache and reused by later runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset } from 'node:sea';

function cacheRoot(): string {
  if (process.env.ABPROXY_CACHE_DIR) return process.env.ABPROXY_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'abproxy', 'sea');
}

/** The asset as a file on disk; the path changes with its content, so an upgrade never loads a stale copy. */
export function assetPath(key: string, fileName: string): string {
  const bytes = new Uint8Array(getAsset(key));
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), digest);
  const file = join(dir, fileName);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Write beside, then rename: a concurrent run never sees half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, bytes, { mode: 0o500 });
  renameSync(partial, file);
  return file;
}
