/**
 * Secrets of the sign-in flow. Access (`abpt_`) and refresh (`abpr_`) tokens are opaque: 32 random bytes
 * in base62 like keys, stored only as SHA-256. A device code embeds its user code (the grant's storage
 * key) before its own secret part; the user code is 8 letters without vowels (no words, no 0/O, 1/I).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto';
import { base62 } from '../auth/key-format.ts';

export const ACCESS_TOKEN_PREFIX = 'abpt_';
export const REFRESH_TOKEN_PREFIX = 'abpr_';
export const DEVICE_CODE_PREFIX = 'abpd_';
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;

const secret = () => base62(randomBytes(32), 43);

export const newAccessToken = () => ACCESS_TOKEN_PREFIX + secret();
export const newRefreshToken = () => REFRESH_TOKEN_PREFIX + secret();
export const newSessionId = () => `ses_${base62(randomBytes(16), 22)}`;

export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

export function newDeviceCode(userCode: string): string {
  return `${DEVICE_CODE_PREFIX}${userCode}_${secret()}`;
}

/** The user code a device code belongs to, or undefined for anything malformed. */
export function userCodeOfDeviceCode(deviceCode: string): string | undefined {
  const match = /^abpd_([B-Z]{8})_[0-9A-Za-z]{43}$/.exec(deviceCode);
  return match?.[1];
}

/** `bcdf-ghjk`, `BCDF GHJK` → `BCDFGHJK`; undefined when it cannot be a user code. */
export function normalizeUserCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const char of code) if (!USER_CODE_ALPHABET.includes(char)) return undefined;
  return code;
}

/** As shown to people: `BCDF-GHJK`. */
export function displayUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A principal's id from the IdP's issuer and subject: stable, so every instance agrees. */
export function principalId(issuer: string, sub: string): string {
  return `prn_${base62(createHash('sha256').update(`${issuer}\n${sub}`).digest().subarray(0, 11), 15)}`;
}

/** A UUID-shaped stable id (for the managed-settings document of a policy). */
export function stableUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The pair a refresh token was rotated to, kept so that a retry within the grace period gets it again. */
export interface SuccessorPair {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
}

/** Only the holder of the old refresh token can derive this key: the store keeps just its SHA-256. */
const successorKey = (refreshToken: string) =>
  createHash('sha256').update(`abproxy-successor\n${refreshToken}`, 'utf8').digest();

/** Seals the successor pair (AES-256-GCM) under a key derived from the refresh token it replaces. */
export function sealSuccessor(refreshToken: string, pair: SuccessorPair): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(refreshToken), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed pair, or undefined when it does not open with this refresh token. */
export function openSuccessor(refreshToken: string, sealed: string): SuccessorPair | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', successorKey(refreshToken), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as SuccessorPair;
  } catch {
    return undefined;
  }
}
