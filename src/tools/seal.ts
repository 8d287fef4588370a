/**
 * Sealed values the gateway hands to clients and must recognise when they come back: a search hit's
 * `encrypted_content` and a citation's `encrypted_index`. AES-256-GCM (encrypted and authenticated) with
 * a key derived from the gateway's signing secret for this purpose (purpose-keys.ts), so a client can
 * neither read nor forge them, and any gateway sharing the secret can open them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { purposeKey } from '../config/purpose-keys.ts';

const PREFIX = 'abpw1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyFor(secret: string): Buffer {
  return purposeKey(secret, 'web-tool-seal');
}

export function seal(secret: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The sealed value, or undefined when it was not sealed by this gateway (forged, altered, foreign). */
export function unseal(secret: string, sealed: unknown): unknown {
  if (typeof sealed !== 'string' || !sealed.startsWith(PREFIX)) return undefined;
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret), raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const text = Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
