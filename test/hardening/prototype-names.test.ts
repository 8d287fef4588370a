/**
 * Client strings that name Object.prototype's own members (`__proto__`, `constructor`) as model names,
 * Claude Code session and agent ids and `metadata.user_id`: each is recorded and shown like any other
 * name. A model named `__proto__` once made the admin page's usage view write into Object.prototype,
 * after which every Bedrock call and /metrics answered 500 and the process could exit.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator } from '../helpers/gateway.ts';
import { AdminClient, buildAdminAssets, startAdminGateway } from '../integration/admin-harness.ts';

let emulator: Emulator;
let gateway: RunningServer;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  gateway = await startAdminGateway(await buildAdminAssets(), { usageDrainMs: 20 });
}, 120_000);
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

describe('names that are Object.prototype members', () => {
  it('are recorded and charted; the gateway, /metrics and the usage view keep working', async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'x-api-key': MASTER_KEY,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'x-claude-code-session-id': name,
          'x-claude-code-agent-id': name,
        },
        body: JSON.stringify({
          model: name,
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
          metadata: { user_id: name },
        }),
      });
      expect(res.status).toBe(404); // an unknown model, as Anthropic answers it
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const admin = new AdminClient(gateway.url);
    expect((await admin.login(MASTER_KEY)).status).toBe(200);
    for (const by of ['', '&by=session', '&by=agent', '&by=model']) {
      const usage = await admin.fetch(`/admin/api/usage?since=1d${by}`);
      expect(usage.status).toBe(200);
      const view = (await usage.json()) as { tokens_by_model_per_day: { groups: Record<string, number[]> } };
      expect(Object.keys(view.tokens_by_model_per_day.groups)).toEqual(
        expect.arrayContaining(['__proto__', 'constructor', 'toString']),
      );
    }
    expect(Object.keys(Object.prototype)).toEqual([]);
    // Everything still answers.
    const answer = await client.messages.create({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'still there?' }],
    });
    expect(answer.content[0]).toMatchObject({ text: 'Echo: still there?' });
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { 'x-api-key': MASTER_KEY } });
    expect(metrics.status).toBe(200);
  });
});
