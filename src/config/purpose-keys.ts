/**
 * One key per purpose, derived from the gateway's signing secret: HMAC-SHA256(secret, label). A value
 * one feature signs for a caller can never pass as another feature's. Before this, thinking signatures
 * were HMAC(secret, text) for any text an open model reasoned, and admin login links
 * HMAC(secret, "abproxy-admin-login.…"): a model told to reason that text minted an admin sign-in.
 */
import { createHmac } from 'node:crypto';

/** The labels are fixed: changing one invalidates what was signed or sealed with its key. */
const LABELS = {
  'thinking-signature': 'abproxy thinking signature v1',
  'admin-login': 'abproxy admin login link v1',
  // The web tools' key predates this table; its label is kept so sealed values stay readable.
  'web-tool-seal': 'abproxy web tool content v1',
} as const;

export type KeyPurpose = keyof typeof LABELS;

const derived = new Map<string, Buffer>();

/** The purpose's key (32 bytes), remembered per secret: the hot paths sign with it per block. */
export function purposeKey(secret: string, purpose: KeyPurpose): Buffer {
  const id = `${purpose}\n${secret}`;
  let key = derived.get(id);
  if (key === undefined) {
    key = createHmac('sha256', secret).update(LABELS[purpose]).digest();
    // A process sees one secret (tests a few): a bound rather than growth with each one.
    if (derived.size >= 64) derived.clear();
    derived.set(id, key);
  }
  return key;
}
