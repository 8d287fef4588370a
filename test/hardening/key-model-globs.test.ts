/**
 * A key limited to some models (`keys create --models '*haiku*'`) names another model with a suffix the
 * resolver drops (`claude-sonnet-4-5[haiku]`): the glob must judge what is called, not the decoration.
 * Through a real gateway, on /v1/messages and on the Bedrock-format door; nothing reaches Bedrock.
 */
import { expect, it } from 'vitest';
import { gatewayWithEmulator, storeKey } from '../helpers/gateway.ts';

// The operator sends every made-up `claude-x…` name to Sonnet, and names one alias exactly.
const world = gatewayWithEmulator({
  modelMap: { 'claude-x*': 'claude-sonnet-4-5', 'team-fast': 'claude-haiku-4-5' },
});

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

it('a made-up name caught by a prefix pattern of the model map is judged as the model it calls', async () => {
  const { secret } = await storeKey(world.gateway.store, {}, { models: ['*haiku*'] });
  const ask = (model: string) =>
    fetch(`${world.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
  // `claude-xhaiku` matches `*haiku*` by its text, but `claude-x*` sends it to Sonnet.
  const madeUp = await ask('claude-xhaiku');
  expect(madeUp.status, await madeUp.text()).toBe(403);
  const door = await fetch(`${world.gateway.url}/model/claude-xhaiku/converse`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
  });
  expect(door.status, await door.text()).toBe(403);
  expect(world.emulator.requests.filter((r) => !/^List/.test(r.operation))).toEqual([]);
  // An alias the operator named exactly, and a made-up name that does reach Haiku, still pass.
  const alias = await ask('team-fast');
  expect(alias.status, await alias.text()).toBe(200);
  const sonnetKey = await storeKey(world.gateway.store, {}, { models: ['claude-sonnet-4-5'] });
  const viaPattern = await fetch(`${world.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': sonnetKey.secret, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-xanything',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  expect(viaPattern.status, await viaPattern.text()).toBe(200);
});

it("an ARN's partition, region and account do not count towards the key's globs, only its resource id", async () => {
  const { secret } = await storeKey(world.gateway.store, {}, { models: ['*haiku*'] });
  const forged = [
    'arn:aws:bedrock:us-east-1:haiku:inference-profile/us.anthropic.claude-opus-4-6-v1',
    'arn:aws:bedrock:haiku::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:haiku:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ];
  for (const model of forged) {
    const messages = await fetch(`${world.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status, `${model}: ${await messages.text()}`).toBe(403);
    const door = await fetch(`${world.gateway.url}/model/${encodeURIComponent(model)}/converse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    });
    expect(door.status, `${model}: ${await door.text()}`).toBe(403);
  }
  expect(world.emulator.requests.filter((r) => !/^List/.test(r.operation))).toEqual([]);
  // The ARN of a model the key may use still passes.
  const haiku = await fetch(`${world.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': secret, 'content-type': 'application/json' },
    body: JSON.stringify({
      model:
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  expect(haiku.status, await haiku.text()).toBe(200);
});

it("a key limited to 'claude-*' may call Claude by its Bedrock ids (Claude Code's Bedrock mode), and nothing else", async () => {
  const { secret } = await storeKey(world.gateway.store, {}, { models: ['claude-*'] });
  const bedrockIds = [
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'anthropic.claude-haiku-4-5-20251001-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ];
  for (const model of bedrockIds) {
    const door = await fetch(`${world.gateway.url}/model/${encodeURIComponent(model)}/converse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    });
    expect(door.status, `${model}: ${await door.text()}`).toBe(200);
    const messages = await fetch(`${world.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status, `${model}: ${await messages.text()}`).toBe(200);
  }
  // The door's model list shows it the Claude models it may call.
  const listed = await fetch(`${world.gateway.url}/foundation-models`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  const summaries = ((await listed.json()) as { modelSummaries: { modelId: string }[] }).modelSummaries;
  expect(summaries.length).toBeGreaterThan(0);
  expect(summaries.every((m) => m.modelId.startsWith('anthropic.claude-'))).toBe(true);
  // Another family stays refused.
  const qwen = await fetch(
    `${world.gateway.url}/model/${encodeURIComponent('qwen.qwen3-coder-480b-a35b-v1:0')}/converse`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    },
  );
  expect(qwen.status).toBe(403);
});
