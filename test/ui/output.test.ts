/** Without a terminal (or with --json/--plain) nothing loads ink and output is stable plain text. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/ui/load.ts', () => ({
  loadViews: () => {
    throw new Error('ink must not load here');
  },
}));

const { LogTail, printTable, richOutput, withProgress } = await import('../../src/ui/index.ts');

function stream(isTTY: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY: boolean };
  out.isTTY = isTTY;
  let text = '';
  out.on('data', (chunk) => (text += chunk));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

describe('output mode', () => {
  it('draws with ink only on a terminal without --json/--plain and with a capable TERM', () => {
    const tty = stream(true).out;
    expect(richOutput({}, tty, {})).toBe(true);
    expect(richOutput({ json: true }, tty, {})).toBe(false);
    expect(richOutput({ plain: true }, tty, {})).toBe(false);
    expect(richOutput({}, tty, { TERM: 'dumb' })).toBe(false);
    expect(richOutput({}, stream(false).out, {})).toBe(false);
  });

  it('printTable writes plain text when not on a terminal', async () => {
    const s = stream(false);
    await printTable([{ key: 'id', header: 'ID' }], [{ id: 'abp_1' }, { id: 'abp_2' }], {}, s.out);
    expect(s.text()).toBe('ID\nabp_1\nabp_2\n');
  });

  it('printTable with --plain on a terminal is plain too', async () => {
    const s = stream(true);
    await printTable([{ key: 'id', header: 'ID' }], [{ id: 'x' }], { plain: true }, s.out);
    expect(s.text()).toBe('ID\nx\n');
  });

  it('progress prints one line per step off a terminal, and nothing when disabled', async () => {
    const s = stream(false);
    const result = await withProgress(
      'creating tables',
      async (step) => {
        step('abproxy-keys ACTIVE');
        return 3;
      },
      { stream: s.out, doneText: (n) => `${n} tables ready` },
    );
    expect(result).toBe(3);
    expect(s.text()).toBe('creating tables\nabproxy-keys ACTIVE\n3 tables ready\n');
    const quiet = stream(false);
    await withProgress('x', async (step) => step('y'), { stream: quiet.out, enabled: false });
    expect(quiet.text()).toBe('');
  });

  it('a failing task is rethrown', async () => {
    const s = stream(false);
    await expect(
      withProgress('x', async () => Promise.reject(new Error('boom')), { stream: s.out }),
    ).rejects.toThrow('boom');
  });
});

describe('LogTail', () => {
  it('keeps the last lines of pino JSON as short text', () => {
    const tail = new LogTail(2);
    const time = new Date(2026, 0, 1, 9, 8, 7).getTime();
    tail.write(`${JSON.stringify({ level: 40, time, msg: 'one' })}\n`);
    tail.write(`${JSON.stringify({ level: 50, time, msg: 'two', err: { message: 'bad\nthing' } })}\n`);
    tail.write(`${JSON.stringify({ level: 40, time, msg: 'three' })}\n`);
    expect(tail.lines()).toEqual(['09:08:07 ERROR two: bad thing', '09:08:07 WARN three']);
  });
});

describe('layering', () => {
  it('src/server never imports src/ui, src/text nothing of the project outside it, and only src/ui/views.ts and src/ui/ink import ink', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    for (const file of files('src/server'))
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '(\.\.\/)+ui\//);
    for (const file of files('src/text'))
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '\.\.\//);
    for (const file of files('src')) {
      if (file.startsWith('src/ui/ink/') || file === 'src/ui/views.ts' || file.endsWith('.test.ts')) continue;
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '(ink|react)'/);
    }
  });
});
