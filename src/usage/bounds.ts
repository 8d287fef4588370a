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
