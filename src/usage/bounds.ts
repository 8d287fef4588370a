/**
 * Client-chosen text (a model name) is cut before it goes into a usage record: a DynamoDB item stops at
 * 400 KB, and one oversized record must not be able to stop usage recording (issue 11).
 */

/** Longest client-chosen text kept in a stored record; Bedrock ids and ARNs are far shorter. */
export const MAX_RECORD_TEXT = 256;

/** `text` cut to at most `max` UTF-16 units, ending in `…` when cut, never splitting a surrogate pair. */
export function boundText(text: string, max = MAX_RECORD_TEXT): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * Most tokens one call is believed to count in any field: above every model's context window and
 * output cap. A count past it is an upstream's fault, not a bill.
 */
export const MAX_CALL_TOKENS = 100_000_000;

/**
 * A token count as Bedrock (or a hostile stand-in) reported it, made one a budget can hold: a whole
 * number from 0 to MAX_CALL_TOKENS. Anything that is not a finite number (a string, null, NaN) is 0;
 * a negative count is 0 (it would refund spend); a huge one is cut to the bound (1e20 tokens priced
 * at list rates was 10^15 USD against the key's budget).
 */
export function tokenCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), MAX_CALL_TOKENS);
}
