import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The CLI prebuilt as JavaScript (`npm run build:js`, scripts/build-js.ts) when dist/js/manifest.json
 * still matches every source file it was built from, else undefined (the launcher then runs the
 * TypeScript sources). A file whose size differs is stale; one whose mtime differs is hashed (a copy, a
 * checkout or a container image may change mtimes, not content). ABPROXY_PREBUILT=0 ignores the build.
 */
export function freshPrebuilt(root, env = process.env) {
  if (env.ABPROXY_PREBUILT === '0') return undefined;
  const dir = join(root, 'dist/js');
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).inputs;
  } catch {
    return undefined;
  }
  if (typeof inputs !== 'object' || inputs === null || Object.keys(inputs).length === 0) return undefined;
  for (const [file, recorded] of Object.entries(inputs)) {
    if (!Array.isArray(recorded)) return undefined;
    const [size, mtimeMs, sha256] = recorded;
    const path = join(root, file);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return undefined;
    }
    if (stat.size !== size) return undefined;
    if (stat.mtimeMs !== mtimeMs) {
      const { createHash } = process.getBuiltinModule('node:crypto');
      if (createHash('sha256').update(readFileSync(path)).digest('hex') !== sha256) return undefined;
    }
  }
  return join(dir, 'main.js');
}
