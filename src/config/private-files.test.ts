import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loosePermissions, makePrivateDir, makePrivateFiles } from './private-files.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('private files', () => {
  it('creates directories 0700 whatever the umask, and leaves an existing one alone', () => {
    const base = mkdtempSync(join(tmpdir(), 'abproxy-modes-'));
    const old = process.umask(0o277);
    try {
      makePrivateDir(join(base, 'home'));
    } finally {
      process.umask(old);
    }
    expect(mode(join(base, 'home'))).toBe(0o700);
    const existing = join(base, 'shared');
    mkdirSync(existing, { mode: 0o755 });
    chmodSync(existing, 0o755);
    makePrivateDir(existing);
    expect(mode(existing)).toBe(0o755);
  });

  it('makes files 0600 and skips missing ones', () => {
    const base = mkdtempSync(join(tmpdir(), 'abproxy-modes-'));
    const file = join(base, 'abproxy.db');
    writeFileSync(file, '', { mode: 0o644 });
    makePrivateFiles(file, join(base, 'abproxy.db-wal'));
    expect(mode(file)).toBe(0o600);
  });

  it('lists directories and files others can read', () => {
    const base = mkdtempSync(join(tmpdir(), 'abproxy-modes-'));
    chmodSync(base, 0o755);
    writeFileSync(join(base, 'abproxy.db'), '');
    chmodSync(join(base, 'abproxy.db'), 0o644);
    writeFileSync(join(base, 'secret'), '');
    chmodSync(join(base, 'secret'), 0o600);
    const elsewhere = mkdtempSync(join(tmpdir(), 'abproxy-db-'));
    writeFileSync(join(elsewhere, 'x.db'), '');
    chmodSync(join(elsewhere, 'x.db'), 0o640);
    expect(
      loosePermissions([base, join(base, 'missing')], [join(elsewhere, 'x.db'), join(elsewhere, 'y')]),
    ).toEqual([
      { path: base, kind: 'dir', mode: 0o755 },
      { path: join(base, 'abproxy.db'), kind: 'file', mode: 0o644 },
      { path: join(elsewhere, 'x.db'), kind: 'file', mode: 0o640 },
    ]);
  });
});
