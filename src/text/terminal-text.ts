/**
 * The one sanitizer for text shown on a terminal. Client-chosen strings (model names, key names, user
 * names, paths) reach tables, the serve dashboard and plain output; a terminal would act on control
 * characters in them instead of printing them (`ESC[41m` paints, `ESC]52` writes the clipboard, a C1
 * CSI does the same on 8-bit terminals) and Unicode bidi controls reorder what is shown (Trojan Source).
 * Invisible characters (zero-width space, word joiner, soft hyphen, BOM) are shown too: in an
 * id they make a look-alike of another (`S1` and `S\u200b1` print the same). The zero-width joiners stay:
 * emoji sequences and several scripts need them.
 */

/** C0 controls, DEL, C1 controls, the bidi marks, embeddings, overrides and isolates, and invisibles. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
/** The same, but line feeds and tabs pass: for whole outputs (plain text, JSON) with our own layout. */
const UNSAFE_IN_OUTPUT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** One line of display text (a table cell, a dashboard line): each unsafe character becomes a space. */
export function terminalLine(text: string): string {
  return text.replace(UNSAFE, ' ');
}

/**
 * A whole output (lines, JSON): line feeds and tabs stay, every other unsafe character is spelled as
 * its `\uXXXX` escape — visible in text, and inside a JSON string the very same value (lossless).
 */
export function terminalOutput(text: string): string {
  return text.replace(UNSAFE_IN_OUTPUT, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
