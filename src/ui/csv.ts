/**
 * CSV (RFC 4180) for reports that end up in spreadsheets: a header row, CRLF line ends, a cell quoted
 * when it holds a quote, comma, CR or LF (quotes doubled). Cells come from clients (session ids, model
 * names), so a text that a spreadsheet would run as a formula (starting with = + - @ or their full-width
 * forms, after any blanks, or a tab or CR that some strip first) gets a leading `'` (OWASP's CSV injection advice); numbers are written as numbers.
 */

export type CsvCell = string | number | boolean | null | undefined;

// Leading blanks too: spreadsheets trim spaces (and full-width ones) before they read a formula.
const FORMULA_START = /^[\s\u3000]*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: numbers as they are, text defused and quoted when needed; null and undefined empty. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole CSV document: the header, then one line per row, each line ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((cells) => `${cells.map(csvCell).join(',')}\r\n`).join('');
}
