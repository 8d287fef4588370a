/** Solo mode: the gateway's SQLite file, written by another Store as `abproxy keys` would. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyRecord } from '../../src/cli/keys.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { keysScenarios } from './keys-scenarios.ts';

let emulator: Emulator;
let gateway: RunningServer;
let admin: SqliteStore;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  const dbFile = join(mkdtempSync(join(tmpdir(), 'abproxy-keys-')), 'abproxy.db');
  gateway = await startServer(testConfig({ dbFile, mode: 'solo' }));
  admin = new SqliteStore(dbFile);
});
afterAll(async () => {
  await admin?.close();
  await gateway?.close();
  await emulator?.close();
});

keysScenarios('solo, SQLite', () => ({ url: gateway.url, emulator, admin, revokeWithinMs: 0 }));

describe('loopback gateway without a master key', () => {
  it('is open until the first key exists, then needs a key (revoking it does not reopen it)', async () => {
    const dbFile = join(mkdtempSync(join(tmpdir(), 'abproxy-keys-')), 'abproxy.db');
    const open = await startServer(testConfig({ dbFile, masterApiKey: undefined }));
    const store = new SqliteStore(dbFile);
    const ask = (key?: string) =>
      fetch(`${open.url}/v1/models`, { headers: key ? { 'x-api-key': key } : {} }).then((r) => r.status);
    try {
      expect(await ask()).toBe(200);
      expect(await ask('anything')).toBe(200);
      const { record, secret } = newKeyRecord({}, new Date());
      await store.createKey(record);
      expect(await ask()).toBe(401);
      expect(await ask(secret)).toBe(200);
      await store.revokeKey(record.id, new Date().toISOString());
      expect(await ask()).toBe(401);
      expect(await ask(secret)).toBe(401);
    } finally {
      await store.close();
      await open.close();
    }
  });

  it('the master key keeps working next to stored keys', async () => {
    const res = await fetch(`${gateway.url}/v1/models`, { headers: { 'x-api-key': 'test-master-key' } });
    expect(res.status).toBe(200);
  });
});
