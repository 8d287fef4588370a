import { describe, expect, it } from 'vitest';
import { type Column, displayWidth, formatCell, formatTable } from './table-format.ts';

const columns: Column[] = [
  { key: 'id', header: 'ID' },
  { key: 'tokens', header: 'TOKENS', align: 'right' },
  { key: 'tools', header: 'TOOLS' },
];

describe('formatTable', () => {
  it('pads columns, right-aligns numbers and leaves no trailing spaces', () => {
    const text = formatTable(columns, [
      { id: 'claude-sonnet', tokens: 200000, tools: true },
      { id: 'nova', tokens: 300, tools: false },
    ]);
    expect(text).toBe(
      ['ID             TOKENS  TOOLS', 'claude-sonnet  200000  yes', 'nova              300  no', ''].join(
        '\n',
      ),
    );
  });

  it('prints the header alone for no rows, and nothing for no columns', () => {
    expect(formatTable(columns, [])).toBe('ID  TOKENS  TOOLS\n');
    expect(formatTable([], [{ id: 1 }])).toBe('');
  });

  it('keeps a wide-character cell aligned', () => {
    const text = formatTable(
      [
        { key: 'name', header: 'NAME' },
        { key: 'n', header: 'N' },
      ],
      [
        { name: '日本', n: 1 },
        { name: 'abcde', n: 2 },
      ],
    );
    const [, first, second] = text.split('\n');
    expect(displayWidth(first!.slice(0, first!.lastIndexOf(' ')))).toBe(second!.lastIndexOf(' '));
  });

  it('a custom format wins over the default', () => {
    const text = formatTable(
      [{ key: 'cost', header: 'COST', format: (v) => `$${Number(v).toFixed(2)}` }],
      [{ cost: 1.5 }],
    );
    expect(text).toBe('COST\n$1.50\n');
  });
});

describe('formatCell', () => {
  it('shows missing values, flags and lists', () => {
    expect([undefined, null, '', true, false, ['a', 'b'], []].map(formatCell)).toEqual([
      '-',
      '-',
      '-',
      'yes',
      'no',
      'a,b',
      '-',
    ]);
  });

  it('strips control and bidi characters from every cell, custom formats included', () => {
    const columns: Column[] = [
      { key: 'name', header: 'NAME' },
      { key: 'model', header: 'MODEL', format: (v) => `<${String(v)}>` },
    ];
    const text = formatTable(columns, [{ name: 'a\nb\x1b[2J', model: '\x9b41m\u202eevil' }]);
    expect(text).toBe('NAME     MODEL\na b [2J  < 41m evil>\n');
  });
});
