import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LoginTokens } from '../admin/login-token.ts';
import { seal, unseal } from '../tools/seal.ts';
import { signThinking } from '../translate/thinking-signature.ts';
import { purposeKey } from './purpose-keys.ts';

const SECRET = 'gateway-signing-secret';

describe('purpose keys', () => {
  it('a thinking signature over the text of a login link is not a login link (the model-reasoning oracle)', () => {
    const now = 1_800_000_000_000;
    const expiresAt = now + 60_000;
    const nonce = 'attacker-chosen-nonce';
    // What any key holder gets back from an open reasoning model told to reason exactly this text.
    const signature = signThinking(SECRET, `abproxy-admin-login.${expiresAt}.${nonce}`);
    const forged = `${expiresAt}.${nonce}.${signature.slice('abp1.'.length)}`;
    expect(new LoginTokens(SECRET, () => now).redeem(forged)).toBe(false);
  });

  it('nothing signed for a caller is an HMAC of the bare secret', () => {
    const text = 'abproxy web tool content v1';
    const bare = createHmac('sha256', SECRET).update(text).digest('base64url');
    expect(signThinking(SECRET, text)).not.toBe(`abp1.${bare}`);
  });

  it('differs per purpose and per secret, and keeps the web tools key sealed values were made with', () => {
    const keys = [
      purposeKey(SECRET, 'thinking-signature'),
      purposeKey(SECRET, 'admin-login'),
      purposeKey(SECRET, 'web-tool-seal'),
      purposeKey('other', 'admin-login'),
    ].map((k) => k.toString('hex'));
    expect(new Set(keys).size).toBe(4);
    // Sealed before purpose keys existed (same derivation, written out): still opens.
    const legacyKey = createHmac('sha256', SECRET).update('abproxy web tool content v1').digest();
    expect(purposeKey(SECRET, 'web-tool-seal').equals(legacyKey)).toBe(true);
    expect(unseal(SECRET, seal(SECRET, { url: 'https://example.com' }))).toEqual({
      url: 'https://example.com',
    });
  });
});
