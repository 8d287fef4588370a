/**
 * How many values a JSON text holds, counted without parsing it: a request body's byte limit bounds
 * its memory but not the work of parsing and walking it. 31 MB of `"k1":1,"k2":1,…` (2.5 million keys)
 * stalled the event loop ~6.5 s for every caller (JSON.parse, then validation and translation walk it
 * all), where 31 MB of base64 image or prose parses in milliseconds. A body over the cap is refused
 * before JSON.parse ever sees it.
 */

/**
 * Most values (object members and array items) a request body may hold. A Claude Code conversation that
 * fills a 1M-token context holds ~100,000; Anthropic documents no such limit.
 */
export const MAX_JSON_VALUES = 300_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Whether `body` has more than `max` separators (`,` and `:` outside strings): about its count of
 * members and items. Linear: each string is skipped with one native search per quote inside it, and a
 * quote's escaping is decided by the backslashes just before it (runs that never overlap). Invalid JSON
 * is left for JSON.parse to name.
 */
export function hasMoreJsonValues(body: Uint8Array, max: number): boolean {
  // Each separator takes at least two bytes with its value: a shorter body cannot hold more.
  if (body.length <= 2 * max) return false;
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.length);
  let count = 0;
  let at = 0;
  while (at < buffer.length) {
    const byte = buffer[at]!;
    if (byte === QUOTE) {
      const end = closingQuote(buffer, at);
      if (end < 0) return false;
      at = end + 1;
      continue;
    }
    if ((byte === COMMA || byte === COLON) && ++count > max) return true;
    at++;
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1 when none does. */
function closingQuote(buffer: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = buffer.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let slashes = 0;
    for (let at = quote - 1; at > open && buffer[at] === BACKSLASH; at--) slashes++;
    if (slashes % 2 === 0) return quote;
    from = quote + 1;
  }
}
