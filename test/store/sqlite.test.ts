import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite.ts';
import { storeContract } from './contract.ts';

function readIfExists(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}

storeContract('SQLite (temp file, WAL)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'abproxy-store-')), 'abproxy.db');
  const store = new SqliteStore(path);
  return {
    store,
    // The main file and the write-ahead log: recent writes may live only in the WAL.
    raw: async () => Buffer.concat([readIfExists(path), readIfExists(`${path}-wal`)]).toString('latin1'),
  };
});

describe('SQLite file', () => {
  it('creates its directory 0700 and the database, -wal and -shm 0600 under a 022 umask', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'abproxy-store-')), 'home');
    const path = join(dir, 'abproxy.db');
    const old = process.umask(0o022);
    let store: SqliteStore;
    try {
      store = new SqliteStore(path);
    } finally {
      process.umask(old);
    }
    await store.hasKeys();
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(dir)).toBe(0o700);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(file), file).toBe(true);
      expect(mode(file), file).toBe(0o600);
    }
    await store.close();
  });

  it('uses WAL and records the schema version, and reopens without migrating twice', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'abproxy-store-')), 'nested', 'abproxy.db');
    await new SqliteStore(path).close();
    await new SqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('a new database opened by several processes at once: each finds it migrated once (serve and keys create, parallel keys create)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'abproxy-store-')), 'abproxy.db');
    // Holding the write lock makes the openers line up: each reads the schema version (0), then waits.
    const holder = new Database(path);
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN IMMEDIATE');
    const source = `
      import { SqliteStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/store/sqlite.ts'))};
      const store = new SqliteStore(${JSON.stringify(path)});
      await store.createKey(newKey());
      await store.close();
      function newKey() {
        const id = 'key_' + Math.random().toString(36).slice(2);
        return { id, hash: id, prefix: 'abp_test', limits: {}, createdAt: new Date().toISOString() };
      }`;
    const openers = Array.from({ length: 3 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      return new Promise<string>((resolve) =>
        child.on('close', (code) => resolve(`${code} ${stderr}`.trim())),
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    holder.exec('COMMIT');
    holder.close();
    expect(await Promise.all(openers)).toEqual(['0', '0', '0']);
    const store = new SqliteStore(path);
    expect(await store.listKeys()).toHaveLength(3);
    await store.close();
  }, 30_000);

  it('refuses a database written by a newer abproxy', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'abproxy-store-')), 'abproxy.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteStore(path)).toThrow(/newer than this abproxy/);
  });
});
