/**
 * Large CLI output through a pipe (`keys list --json | jq`, `usage --json > collector`): the process
 * exits only once all of it has left. Node's writes to a pipe are asynchronous, and an exit right after
 * the write used to keep the first 64 KiB and drop the rest, with exit code 0. A reader that leaves early
 * (`| head`) ends the CLI quietly, as with any Unix tool.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { newKeyRecord } from '../../src/cli/keys.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { ABPROXY } from '../helpers/process.ts';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

it('writes every byte of a large --json answer to a pipe before exiting', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'abproxy-pipe-')), 'abproxy.db');
  const store = new SqliteStore(db);
  const KEYS = 1500;
  try {
    for (let i = 0; i < KEYS; i++) {
      const { record } = newKeyRecord({ name: `key-${i}` }, new Date());
      await store.createKey(record);
    }
  } finally {
    await store.close();
  }
  const result = await runCli(
    ['keys', 'list', '--db', db, '--json'],
    cliEnv(tempHome(), 'http://127.0.0.1:9'),
  );
  expect(result.code).toBe(0);
  expect(result.stdout.length).toBeGreaterThan(256 * 1024); // well past a pipe's 64 KiB
  const listed = JSON.parse(result.stdout) as { name?: string }[];
  expect(listed).toHaveLength(KEYS);
  expect(listed.map((key) => key.name)).toContain(`key-${KEYS - 1}`);
}, 60_000);

it('ends quietly with exit 0 when the reader leaves early (| head), with no EPIPE stack trace', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'abproxy-pipe-')), 'abproxy.db');
  const store = new SqliteStore(db);
  try {
    for (let i = 0; i < 1500; i++)
      await store.createKey(newKeyRecord({ name: `key-${i}` }, new Date()).record);
  } finally {
    await store.close();
  }
  const child = spawn(process.execPath, [ABPROXY, 'keys', 'list', '--db', db, '--json'], {
    env: cliEnv(tempHome(), 'http://127.0.0.1:9'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  // Read the first chunk, then close the pipe, as `head -c 100` does.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).not.toMatch(/EPIPE|Error/);
  expect(code).toBe(0);
}, 60_000);

it.skipIf(!existsSync('/dev/full'))(
  'fails (exit 1, said on stderr) when its output cannot be written: a key secret is never lost with exit 0',
  async () => {
    const env = cliEnv(tempHome(), 'http://127.0.0.1:9');
    for (const args of [['keys', 'create', '--json'], ['keys', 'list', '--json'], ['usage']]) {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [ABPROXY, ...args], { env, stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, args.join(' ')).toBe(1);
      expect(stderr, args.join(' ')).toMatch(/^abproxy: cannot write the output: .*ENOSPC/);
      expect(stderr, args.join(' ')).not.toMatch(/^\s+at /m);
    }
  },
  60_000,
);
