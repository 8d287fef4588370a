/** The ink table: the same cells as the plain table, with a bold header and a rule under it. */
import { Box, Text } from 'ink';
import { createElement as h, type ReactElement } from 'react';
import { type Column, columnWidths, pad, type Row, tableCells } from '../table-format.ts';

export interface TableViewProps {
  columns: readonly Column[];
  rows: readonly Row[];
}

export function TableView({ columns, rows }: TableViewProps): ReactElement {
  const cells = tableCells(columns, rows);
  const widths = columnWidths(cells);
  const line = (texts: readonly string[]) =>
    texts.map((text, i) => pad(text, widths[i]!, columns[i]!.align)).join('  ');
  const [header, ...body] = cells;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true }, line(header!)),
    h(Text, { dimColor: true }, widths.map((w) => '─'.repeat(w)).join('  ')),
    ...body.map((texts, i) => h(Text, { key: i }, line(texts))),
    body.length === 0 ? h(Text, { dimColor: true, key: 'empty' }, '(none)') : null,
  );
}
