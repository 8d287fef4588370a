/**
 * Tables as data (columns + rows) and their plain-text form: what `keys list`, `models` and `usage`
 * print without a TTY or with --plain. Stable for scripts: one header line, then one line per row,
 * columns padded and separated by two spaces, no colour, no trailing spaces.
 */
import { terminalLine } from '../text/terminal-text.ts';

export interface Column {
  /** Property of each row shown in this column. */
  key: string;
  header: string;
  align?: 'left' | 'right';
  /** Turns the cell's value into text; formatCell otherwise. */
  format?: (value: unknown) => string;
}

export type Row = Readonly<Record<string, unknown>>;

/** Cell text: '-' for nothing, yes/no for flags, lists joined with commas. */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(formatCell).join(',');
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/**
 * The text of every cell, header first: the one source both the plain and the ink table lay out.
 * Control and bidi characters (newlines, escapes) would break the layout or drive the terminal.
 */
export function tableCells(columns: readonly Column[], rows: readonly Row[]): string[][] {
  return [
    columns.map((column) => terminalLine(column.header)),
    ...rows.map((row) =>
      columns.map((column) => terminalLine((column.format ?? formatCell)(row[column.key]))),
    ),
  ];
}

/** Display width of each column (the widest cell). */
export function columnWidths(cells: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const line of cells) {
    line.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell));
    });
  }
  return widths;
}

/** Width in terminal cells: wide (CJK, emoji) characters take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** The plain table, ending with a newline ('' for no columns). */
export function formatTable(columns: readonly Column[], rows: readonly Row[]): string {
  if (columns.length === 0) return '';
  const cells = tableCells(columns, rows);
  const widths = columnWidths(cells);
  const lines = cells.map((line) =>
    line
      .map((cell, i) =>
        pad(cell, i === line.length - 1 && columns[i]!.align !== 'right' ? 0 : widths[i]!, columns[i]!.align),
      )
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
