/**
 * Hostile requests do not stall the event loop (issue 11, item 1): while megabyte model names, slash
 * runs and deep JSON are being refused, /health still answers about as fast as it does beside the same
 * number of ordinary requests of the same size. Relative bounds only: the machine may be loaded.
 */
import { expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY } from '../helpers/gateway.ts';

const running = gatewayWithEmulator();

const MB = 1024 * 1024;
const headers = {
  'x-api-key': MASTER_KEY,
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
};
const post = (path: string, body: unknown) =>
  fetch(`${running.gateway.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
const body = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  max_tokens: 5,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
/** A body whose tool schema nests `depth` levels (as text: JSON.stringify itself would overflow). */
const deepSchemaBody = (depth: number) =>
  JSON.stringify(body('claude-sonnet-4-5', { tools: [{ name: 't', input_schema: 0 }] })).replace(
    '"input_schema":0',
    `"input_schema":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Runs the requests and, while they are in flight, times one /health call. */
async function healthBeside(
  requests: Array<() => Promise<number>>,
): Promise<{ healthMs: number; statuses: number[] }> {
  const inFlight = requests.map((send) => send());
  const started = performance.now();
  const health = await fetch(`${running.gateway.url}/health`);
  const healthMs = performance.now() - started;
  expect(health.status).toBe(200);
  return { healthMs, statuses: await Promise.all(inFlight) };
}

it('/health answers promptly while hostile requests are refused', async () => {
  const filler = 'x'.repeat(MB);
  const ordinary = await healthBeside(
    Array.from(
      { length: 4 },
      () => () =>
        post('/v1/messages/count_tokens', body('claude-sonnet-4-5', { metadata: { user_id: filler } })),
    ),
  );
  expect(ordinary.statuses.every((s) => s === 200)).toBe(true);

  const hostile = await healthBeside([
    () => post('/v1/messages', body(`claude-${'['.repeat(MB)}`)),
    () => post('/v1/messages/count_tokens', body(`claude-${'['.repeat(MB)}`)),
    () => post(`/v1/messages${'/'.repeat(8_000)}x`, body('claude-sonnet-4-5')),
    () => post('/v1/messages', deepSchemaBody(200_000)),
  ]);
  expect(hostile.statuses).toEqual([400, 400, 404, 400]);
  // Generous: a stalled loop makes this seconds against milliseconds.
  expect(hostile.healthMs).toBeLessThan(Math.max(5 * ordinary.healthMs, 1_000));
});

it('bodies of millions of tiny values are refused before parsing, and /health stays prompt (a red team stalled it 6.5 s)', async () => {
  // The red team's shape: 2.5 million keys in 31 MB, under the 32 MiB body limit.
  const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
  const sprayed = JSON.stringify(body('claude-sonnet-4-5', { metadata: {} })).replace(
    '"metadata":{}',
    `"metadata":${keys(2_500_000)}`,
  );
  const items = JSON.stringify(body('claude-sonnet-4-5', { metadata: {} })).replace(
    '"metadata":{}',
    `"metadata":{"list":[${'0,'.repeat(1_000_000)}0]}`,
  );
  expect(sprayed.length).toBeGreaterThan(29 * MB);
  const ordinary = await healthBeside([() => post('/v1/messages/count_tokens', body('claude-sonnet-4-5'))]);
  const hostile = await healthBeside([
    () => post('/v1/messages', sprayed),
    () => post('/v1/messages/count_tokens', sprayed),
    () => post('/v1/messages', items),
  ]);
  expect(hostile.statuses).toEqual([400, 400, 400]);
  expect(hostile.healthMs).toBeLessThan(Math.max(5 * ordinary.healthMs, 1_000));
  const refusal = await fetch(`${running.gateway.url}/v1/messages`, { method: 'POST', headers, body: items });
  expect(await refusal.json()).toMatchObject({
    type: 'error',
    error: { type: 'invalid_request_error', message: expect.stringMatching(/more than 300,000 JSON values/) },
  });
  // A body as large made of one long string is no such body: it is read as ever.
  const prose = body('claude-sonnet-4-5', { metadata: { user_id: 'a, b: c '.repeat(3_500_000) } });
  expect(await post('/v1/messages/count_tokens', prose)).toBe(200);
}, 60_000);
