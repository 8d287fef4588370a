/**
 * A fresh ABPROXY_HOME made by `serve` is private (issue 11, item 10): the directory 0700, the SQLite
 * files and the usage spool 0600, under the common 022 umask.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { type Emulator, postMessages, startBedrockEmulator, startGateway } from '../helpers/gateway.ts';

let emulator: Emulator;
let gateway: RunningServer;
const home = join(mkdtempSync(join(tmpdir(), 'abproxy-modes-')), 'home');

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  const old = process.umask(0o022);
  try {
    ({ server: gateway } = await startGateway({ home, usageDrainMs: 60_000 }));
  } finally {
    process.umask(old);
  }
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

it('serve creates its home 0700 and every file in it 0600', async () => {
  const res = await postMessages(
    gateway.url,
    JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  );
  expect(res.status).toBe(200);
  const mode = (path: string) => statSync(path).mode & 0o777;
  expect(mode(home)).toBe(0o700);
  expect(mode(join(home, 'spool'))).toBe(0o700);
  const files = [
    ...readdirSync(home).map((name) => join(home, name)),
    ...readdirSync(join(home, 'spool')).map((name) => join(home, 'spool', name)),
  ].filter((path) => statSync(path).isFile());
  expect(files.map((f) => f.slice(home.length + 1))).toEqual(
    expect.arrayContaining(['abproxy.db', 'abproxy.db-wal', 'abproxy.db-shm']),
  );
  expect(files.some((f) => f.includes('spool/usage-'))).toBe(true);
  for (const file of files) expect(mode(file), file).toBe(0o600);
});
