/**
 * Open models return reasoning without a signature, but Anthropic clients require one on every
 * thinking block and echo it back on the next turn. The gateway signs reasoning it produced with an
 * HMAC so that, when the block comes back, it can tell its own unaltered reasoning (safe to replay to
 * the model) from a forged or foreign one (dropped). Claude's own signatures pass through untouched.
 * The key is this purpose's own (purpose-keys.ts): the signed text is whatever a model reasoned.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { purposeKey } from '../config/purpose-keys.ts';

const PREFIX = 'abp1.';

function mac(secret: string, text: string): string {
  return createHmac('sha256', purposeKey(secret, 'thinking-signature')).update(text).digest('base64url');
}

export function signThinking(secret: string, thinking: string): string {
  return PREFIX + mac(secret, thinking);
}

/** True when the signature was made by this gateway (same secret) for exactly this text. */
export function verifyThinking(secret: string, thinking: string, signature: string): boolean {
  if (!signature.startsWith(PREFIX)) return false;
  const given = Buffer.from(signature.slice(PREFIX.length));
  const expected = Buffer.from(mac(secret, thinking));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Signatures minted by this gateway (as opposed to Claude's own). */
export function isGatewaySignature(signature: string): boolean {
  return signature.startsWith(PREFIX);
}

/**
 * Redacted reasoning an open model returned: its `redacted_thinking.data` carries this prefix (never
 * base64, so never Claude's), so that after a model switch it is not sent to Claude, which cannot read
 * it (no open model can read redacted reasoning either: the Converse path drops it for them).
 */
const OPEN_REDACTED_PREFIX = 'abpr1.';

export function markOpenRedacted(data: string): string {
  return OPEN_REDACTED_PREFIX + data;
}

export function isOpenRedacted(data: string): boolean {
  return data.startsWith(OPEN_REDACTED_PREFIX);
}
