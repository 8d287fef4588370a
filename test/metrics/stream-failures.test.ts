/**
 * A stream Bedrock breaks after the gateway answered 200 is counted in /metrics: abproxy_requests_total
 * keeps its status 200 (what the client got), so without its own counter a model whose streams all
 * fail mid-way looks healthy to an error-rate alert.
 */
import { expect, it } from 'vitest';
import { ask, gatewayWithEmulator } from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const world = gatewayWithEmulator();

const failures = async () => {
  const text = await fetch(`${world.gateway.url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`abproxy_stream_failures_total{model="${CLAUDE}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

it('counts streams that broke mid-way, not whole ones', async () => {
  world.emulator.enqueue({ text: 'fine' });
  await world.client.messages.stream({ model: CLAUDE, max_tokens: 50, messages: ask('hi') }).finalMessage();
  expect(await failures()).toBe(0);

  world.emulator.enqueue({
    text: 'an answer that breaks',
    chunkSize: 2,
    errorAfterEvents: { events: 4, name: 'modelStreamErrorException', message: 'boom' },
  });
  const err = await world.client.messages
    .stream({ model: CLAUDE, max_tokens: 50, messages: ask('hi') })
    .finalMessage()
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  const text = await fetch(`${world.gateway.url}/metrics`).then((r) => r.text());
  expect(text).toContain('# TYPE abproxy_stream_failures_total counter');
  expect(await failures()).toBe(1);
});
