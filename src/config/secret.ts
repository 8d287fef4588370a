import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSigningSecret, type Settings } from './config.ts';
import { makePrivateDir, makePrivateFiles } from './private-files.ts';

/**
 * The thinking-signature secret: configured or derived (see deriveSigningSecret), else a random one kept
 * in ABPROXY_HOME/secret (mode 0600) so signatures survive restarts.
 */
export async function resolveSigningSecret(
  config: Pick<Settings, 'signingSecret' | 'masterApiKey' | 'home'>,
): Promise<string> {
  const derived = await deriveSigningSecret(config);
  if (derived !== null) return derived;
  const file = join(config.home, 'secret');
  let found: string | undefined;
  try {
    found = readFileSync(file, 'utf8').trim();
    if (found.length >= MIN_SECRET_LENGTH) return found;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  makePrivateDir(config.home);
  const secret = randomBytes(32).toString('base64url');
  if (found !== undefined) {
    // Empty or short (a write cut by a full disk or a crash): never used, since anyone could sign with
    // it. Replaced whole (written beside it, then renamed), and what the file then holds is used.
    const next = `${file}.${process.pid}.tmp`;
    writeFileSync(next, `${secret}\n`, { mode: 0o600 });
    renameSync(next, file);
    return checked(readFileSync(file, 'utf8').trim(), file);
  }
  try {
    // 'wx': if another process raced us, keep its secret.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    makePrivateFiles(file);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return checked(readFileSync(file, 'utf8').trim(), file);
    throw err;
  }
}

/** Random secrets are 43 characters; anything under 32 is a cut write, not a secret. */
const MIN_SECRET_LENGTH = 32;

function checked(secret: string, file: string): string {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `${file} holds no usable secret (${secret.length} characters): delete it and start again`,
    );
  }
  return secret;
}
