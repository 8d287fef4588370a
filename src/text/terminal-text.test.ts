import { describe, expect, it } from 'vitest';
import { terminalLine, terminalOutput } from './terminal-text.ts';

const HOSTILE = [
  '\x1b[41mred\x1b[0m', // C0 ESC: SGR colours
  '\x1b]52;c;aGk=\x07', // OSC 52: writes the clipboard
  '\x9b31m', // C1 CSI
  '\x85next', // C1 NEL
  'a\x7fb', // DEL
  'a\rb\x08', // carriage return, backspace
  'evil\u202egnp.exe', // RIGHT-TO-LEFT OVERRIDE
  '\u2066isolate\u2069', // LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE
  '\u200fmark\u061c', // RLM, ARABIC LETTER MARK
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('terminal text', () => {
  it.each(HOSTILE)('a line keeps no control or bidi character: %j', (text) => {
    const line = terminalLine(text);
    expect(line).not.toMatch(unsafe);
    expect(line).toHaveLength(text.length);
  });

  it('an output keeps its line feeds and tabs and spells the rest as escapes', () => {
    expect(terminalOutput('a\tb\nc\x1b[41md\u202e\n')).toBe('a\tb\nc\\u001b[41md\\u202e\n');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
    const unsafeInOutput = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;
    for (const text of HOSTILE) expect(terminalOutput(text)).not.toMatch(unsafeInOutput);
  });

  it('leaves JSON the same value', () => {
    const value = { model: 'x\x1b[41m\x9b\u202e\u2066y', n: 1 };
    const json = JSON.stringify(value, null, 2);
    expect(JSON.parse(terminalOutput(json))).toEqual(value);
  });

  it('shows the invisible characters that make one id look like another', () => {
    expect(terminalLine('S\u200b1')).toBe('S 1');
    expect(terminalOutput('S\u200b1\u2060\ufeff\u00ad')).toBe('S\\u200b1\\u2060\\ufeff\\u00ad');
  });

  it('leaves ordinary text alone, emoji (joined ones too) and CJK included', () => {
    const text = 'claude-sonnet-4-5 · 東京 😀 é 👩\u200d💻 می\u200cخواهم';
    expect(terminalLine(text)).toBe(text);
    expect(terminalOutput(text)).toBe(text);
  });
});
