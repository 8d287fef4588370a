/**
 * Claude's thinking signatures: opaque to clients, checked by the model when a thinking block comes
 * back. The emulator mints them with an HMAC over the thinking text so a gateway that alters or
 * invents a signature fails here as it would on Bedrock.
 */
import { createHmac } from 'node:crypto';

const KEY = 'bedrock-emulator-thinking-key';

export function signClaudeThinking(text: string): string {
  return Buffer.from(`EmuSig1:${createHmac('sha256', KEY).update(text).digest('base64')}`).toString('base64');
}

export function verifyClaudeSignature(text: string, signature: string): boolean {
  return signature === signClaudeThinking(text);
}
