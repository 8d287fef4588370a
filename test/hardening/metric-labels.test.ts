/**
 * Metric labels come from bounded sets (catalogue ids, `unknown`): many distinct spellings of a model,
 * made-up ids and one 500 KB name leave /metrics about as large as one request did (issue 11, item 4).
 */
import { expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY, postMessages } from '../helpers/gateway.ts';

const running = gatewayWithEmulator({ usageDrainMs: 50 });

const ask = (model: string) =>
  postMessages(
    running.gateway.url,
    JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  );
const metricsSize = async () =>
  (await (await fetch(`${running.gateway.url}/metrics`, { headers: { 'x-api-key': MASTER_KEY } })).text())
    .length;

it('odd model names add no series to /metrics', async () => {
  expect((await ask('claude-sonnet-4-5')).status).toBe(200);
  expect((await ask('acme.no-such-model-v1:0')).status).toBe(404);
  const before = await metricsSize();

  const names = [
    ...Array.from({ length: 20 }, (_, i) => `claude-sonnet-4-5[variant-${i}]`),
    ...Array.from({ length: 10 }, (_, i) => `CLAUDE-Sonnet-4-5${' '.repeat(i)}`),
    ...Array.from({ length: 10 }, (_, i) => `acme.made-up-${i}-v1:0`),
    'claude-sonnet-4.5',
    `claude-sonnet-4-5[${'a'.repeat(500_000)}]`,
  ];
  const statuses = new Set<number>();
  for (const name of names) {
    const res = await ask(name);
    await res.arrayBuffer();
    statuses.add(res.status);
  }
  // Refused (400/404) or answered (200): either way, nothing client-chosen becomes a label.
  expect([...statuses].every((s) => s === 200 || s === 400 || s === 404)).toBe(true);
  const after = await metricsSize();
  expect(after - before, `grew from ${before} to ${after} bytes`).toBeLessThan(4_096);
});
