import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv.ts';

describe('csv', () => {
  it('writes a header and CRLF-ended rows, numbers as numbers', () => {
    expect(
      toCsv(
        ['session', 'requests', 'cost_usd'],
        [
          ['s1', 3, 0.0125],
          ['s2', 0, 0],
        ],
      ),
    ).toBe('session,requests,cost_usd\r\ns1,3,0.0125\r\ns2,0,0\r\n');
  });

  it('quotes cells with quotes, commas and line breaks (RFC 4180), doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('')).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });

  it('defuses cells a spreadsheet would run as formulas', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvCell('+1+1')).toBe("'+1+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('\r=1')).toBe('"\'\r=1"');
    // Blanks first do not hide one (spreadsheets trim them), nor do full-width signs.
    expect(csvCell(' =1+2')).toBe("' =1+2");
    expect(csvCell('\u00a0\u3000+cmd')).toBe("'\u00a0\u3000+cmd");
    expect(csvCell('\uff1d1+2')).toBe("'\uff1d1+2");
    // Only the first sign matters; numbers stay numbers.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(Number.NaN)).toBe('');
  });

  it('round-trips through a strict RFC 4180 reader', () => {
    const rows = [['x,"y"\nz', '=cmd', 7]];
    const text = toCsv(['a', 'b', 'c'], rows);
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['x,"y"\nz', "'=cmd", '7'],
    ]);
  });
});

/** A small RFC 4180 reader for the round trip. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}
