/**
 * API key format, hashing and comparison. Keys are `abp_` + 32 random bytes in base62; the seed
 * converter's `sk-…` keys are accepted when imported. Only the SHA-256 of a key is stored: the keys
 * carry 256 bits of randomness, so a plain hash cannot be brute-forced and needs no server pepper,
 * which lets every gateway instance verify every key with nothing shared but the table.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'abp_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Characters of base62 needed for 32 bytes: ceil(256 / log2(62)). */
const SECRET_CHARS = 43;
/** How much of a key is kept in clear to recognise it in lists (prefix + 8 characters). */
const DISPLAY_CHARS = 8;

export function base62(bytes: Uint8Array, width: number): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(width, '0');
}

export function generateKey(): string {
  return KEY_PREFIX + base62(randomBytes(32), SECRET_CHARS);
}

/** Short ids for key records (`key_` + 15 base62 characters, 88 random bits). */
export function newKeyId(): string {
  return `key_${base62(randomBytes(11), 15)}`;
}

/** Whether a string may be stored as a key: ours, or an imported seed key. */
export function checkImportableKey(secret: string): string | undefined {
  if (/^abp_[0-9A-Za-z]{43}$/.test(secret)) return undefined;
  if (/^sk-[\x21-\x7e]{16,200}$/.test(secret)) return undefined;
  return 'expected an abproxy key (abp_ + 43 base62 characters) or a seed key (sk- + at least 16 printable characters)';
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The clear part shown in lists: `abp_` or `sk-` plus the first characters of the random part. */
export function displayPrefix(secret: string): string {
  const head = secret.startsWith(KEY_PREFIX) ? KEY_PREFIX.length : secret.startsWith('sk-') ? 3 : 0;
  return secret.slice(0, head + DISPLAY_CHARS);
}

/** Constant-time equality of two secrets; their digests are compared, so not even their length shows. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer'));
}

/** Constant-time equality of two hex digests (different lengths are simply unequal). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
