/**
 * The key `abproxy claude` presents once the user has opted into keys (the store holds at least one):
 * a stored key named `abproxy-claude` whose secret is kept in ABPROXY_HOME/claude.key (mode 0600), made
 * on first use and reused while the store still accepts it (a revoked or expired one is replaced).
 * With no keys in the store nothing is created, so a local gateway that was open stays open.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { makePrivateFiles } from '../config/private-files.ts';
import type { Store } from '../store/types.ts';
import { underFileLock } from './file-lock.ts';

export const CLAUDE_KEY_NAME = 'abproxy-claude';

export interface ClaudeKey {
  secret: string;
  id: string;
  created: boolean;
}

function readSecret(file: string): string | undefined {
  try {
    const secret = readFileSync(file, 'utf8').trim();
    return secret === '' ? undefined : secret;
  } catch {
    return undefined;
  }
}

/** The key to use, or undefined when the store holds no keys (or there is no store). */
export async function claudeKey(config: Config, now = Date.now()): Promise<ClaudeKey | undefined> {
  const [{ openStore }, format] = await Promise.all([
    import('../store/open.ts'),
    import('../auth/key-format.ts'),
  ]);
  const store = await openStore(config);
  try {
    if (!(await store.hasKeys())) return undefined;
    const file = join(config.home, 'claude.key');
    // Two launches at once would each make a key, and claude.key keep one secret: the other key active
    // with a secret no one holds. The second waits, then reads the first one's.
    return await underFileLock(file, 'abproxy claude', () => presentOrMake(store, format, file, now));
  } finally {
    await store.close();
  }
}

/** The secret in claude.key while the store accepts it, else a new key (called holding the lock). */
async function presentOrMake(
  store: Store,
  format: typeof import('../auth/key-format.ts'),
  file: string,
  now: number,
): Promise<ClaudeKey> {
  const existing = readSecret(file);
  if (existing) {
    const record = await store.findKeyByHash(format.hashKey(existing));
    const usable = record && !record.revokedAt && (!record.expiresAt || Date.parse(record.expiresAt) > now);
    if (usable) return { secret: existing, id: record.id, created: false };
  }
  const secret = format.generateKey();
  const id = format.newKeyId();
  await store.createKey({
    id,
    hash: format.hashKey(secret),
    prefix: format.displayPrefix(secret),
    name: CLAUDE_KEY_NAME,
    limits: {},
    createdAt: new Date(now).toISOString(),
  });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  // The mode above applies only to a new file: a replaced one keeps its own, however loose.
  makePrivateFiles(file);
  return { secret, id, created: true };
}
