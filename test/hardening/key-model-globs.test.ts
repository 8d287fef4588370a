/**
 * A key limited to some models (`keys create --models '*haiku*'`) names another model with a suffix the
 * resolver drops (`claude-sonnet-4-5[haiku]`): the glob must judge what is called, not the decoration.
 * Through a real gateway, on /v1/messages and on the Bedrock-format door; nothing reaches Bedrock.
 */
import { expect, it } from 'vitest';
import { gatewayWithEmulator, storeKey } from '../helpers/gateway.ts';

const world = gatewayWithEmulator();

it("a suffix matching the key's glob does not unlock another model", async () => {
  const { secret } = await storeKey(world.gateway.store, {}, { models: ['*haiku*'] });
  const messages = await fetch(`${world.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': secret, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-sonnet-4-5[haiku]',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  expect(messages.status, await messages.text()).toBe(403);

  const door = await fetch(
    `${world.gateway.url}/model/${encodeURIComponent('claude-sonnet-4-5[haiku]')}/converse`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    },
  );
  expect(door.status, await door.text()).toBe(403);
  expect(door.headers.get('x-amzn-errortype')).toMatch(/AccessDenied/);

  const sent = world.emulator.requests.filter((r) => !/^List/.test(r.operation));
  expect(sent).toEqual([]);

  // The key's own models still work, with or without a suffix.
  const haiku = await fetch(`${world.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': secret, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-haiku-4-5[1m]',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  expect(haiku.status, await haiku.text()).toBe(200);
});
