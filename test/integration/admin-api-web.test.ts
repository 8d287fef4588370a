/** The admin API creates and edits the web search rules of a key (web_search, web_search_daily). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator } from '../helpers/gateway.ts';
import { AdminClient, buildAdminAssets, startAdminGateway } from './admin-harness.ts';

let emulator: Emulator;
let gateway: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  gateway = await startAdminGateway(await buildAdminAssets());
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

describe('admin API: web search rules of a key', () => {
  it('creates a key without web search, caps it, allows it again, and refuses a bad cap', async () => {
    const client = new AdminClient(gateway.url);
    await client.login(MASTER_KEY);
    const created = await client.send('POST', '/admin/api/keys', { name: 'web', web_search: false });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: { id: string; web_search: boolean } };
    expect(key).toMatchObject({ web_search: false, web_search_daily: null });

    const capped = await client.send('PATCH', `/admin/api/keys/${key.id}`, {
      web_search: true,
      web_search_daily: 12,
    });
    expect(capped.status).toBe(200);
    expect(((await capped.json()) as { key: unknown }).key).toMatchObject({
      web_search: true,
      web_search_daily: 12,
    });

    // An edit of another field keeps the web rules.
    const renamed = await client.send('PATCH', `/admin/api/keys/${key.id}`, { name: 'web2' });
    expect(((await renamed.json()) as { key: unknown }).key).toMatchObject({
      name: 'web2',
      web_search_daily: 12,
    });

    const bad = await client.send('PATCH', `/admin/api/keys/${key.id}`, { web_search_daily: -3 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^web_search_daily: /,
    );
    const notBool = await client.send('POST', '/admin/api/keys', { web_search: 'maybe' });
    expect(notBool.status).toBe(400);
  });
});
