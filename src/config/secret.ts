import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSigningSecret, type Settings } from './config.ts';
import { makePrivateDir, makePrivateFiles } from './private-files.ts';

/**
 * The thinking-signature secret: configured or derived (see deriveSigningSecret), else a random one kept
 * in ABPROXY_HOME/secret (mode 0600) so signatures survive restarts.
 */
export function resolveSigningSecret(
  config: Pick<Settings, 'signingSecret' | 'masterApiKey' | 'home'>,
): string {
  const derived = deriveSigningSecret(config);
  if (derived !== null) return derived;
  const file = join(config.home, 'secret');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  makePrivateDir(config.home);
  const secret = randomBytes(32).toString('base64url');
  try {
    // 'wx': if another process raced us, keep its secret.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    makePrivateFiles(file);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}
