/**
 * A gateway stopped while its store does not take usage records says how many it leaves in its spool
 * and where: on a host whose disk goes with it (a container, an ECS task) that line is all that is left.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../../src/server/http/server.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { type Emulator, hiBody, postMessages, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

/** The store, but its usage table is out of reach (a DynamoDB outage). */
function withoutUsage(store: Store): Store {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'recordUsage') return async () => Promise.reject(new Error('connect ECONNREFUSED'));
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

it('stopping while the store refuses usage records logs how many stay in the spool, and where', async () => {
  const config = testConfig({ usageDrainMs: 60_000 });
  const store = await openStore(config);
  const { logger, lines } = capturedLog('warn');
  const server = await startServer(config, { store: withoutUsage(store), logger });
  for (const stream of [false, true]) {
    const res = await postMessages(server.url, hiBody('claude-haiku-4-5', stream));
    expect(res.status).toBe(200);
    await res.text();
  }
  await server.close();
  await store.close();
  const spool = join(config.home, 'spool');
  expect(readdirSync(spool).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(0);
  expect(lines).toContainEqual(
    expect.objectContaining({ level: 40, spooled: 2, dir: spool, msg: expect.stringMatching(/not stored/) }),
  );
});
