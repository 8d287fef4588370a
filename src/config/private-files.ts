/**
 * ABPROXY_HOME holds secrets (the signing secret, keys' hashes, usage records, logs): the directory is
 * 0700 and its files 0600. Modes are set with chmod after creating, so a umask neither widens nor
 * narrows them; what existed before is left alone (doctor warns about it, see loosePermissions).
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates a directory (and its parents) that only its owner can enter, if it does not exist yet. */
export function makePrivateDir(path: string): void {
  const created = mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (created !== undefined) chmodSync(path, PRIVATE_DIR_MODE);
}

/** Makes files this process just created owner-only; missing ones are skipped. */
export function makePrivateFiles(...paths: readonly string[]): void {
  for (const path of paths) {
    try {
      chmodSync(path, PRIVATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

export interface LoosePath {
  path: string;
  kind: 'dir' | 'file';
  /** The permission bits found, e.g. 0o755. */
  mode: number;
}

/**
 * Directories and files that others than the owner may read or enter (any group/other bit): the given
 * directories themselves, the regular files directly in them, and the extra files named. Missing ones
 * are skipped.
 */
export function loosePermissions(dirs: readonly string[], files: readonly string[] = []): LoosePath[] {
  const loose: LoosePath[] = [];
  const seen = new Set<string>();
  const check = (path: string, kind: LoosePath['kind']) => {
    if (seen.has(path)) return;
    seen.add(path);
    let mode: number;
    try {
      const stat = statSync(path);
      if (kind === 'dir' ? !stat.isDirectory() : !stat.isFile()) return;
      mode = stat.mode & 0o777;
    } catch {
      return;
    }
    if ((mode & 0o077) !== 0) loose.push({ path, kind, mode });
  };
  for (const dir of dirs) {
    check(dir, 'dir');
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {}
    for (const name of names) check(join(dir, name), 'file');
  }
  for (const file of files) check(file, 'file');
  return loose;
}
