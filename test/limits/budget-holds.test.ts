/**
 * Budgets hold under parallel calls: each call holds its worst case (prompt estimate + max_tokens at
 * the model's prices) against what is left until it ends, so a burst cannot spend past the budget;
 * the hold is given back however the call ends.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ConverseCommand, ServiceQuotaExceededException } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { KeyLimits } from '../../src/store/types.ts';
import type { WebTools } from '../../src/tools/web/types.ts';
import { costUsd, DEFAULT_PRICES } from '../../src/usage/prices.ts';
import { doorClient } from '../helpers/door.ts';
import { gatewayWithEmulator, storeKey } from '../helpers/gateway.ts';
import { until } from '../helpers/wait.ts';
import { modelCalls } from '../usage/processes.ts';

const running = gatewayWithEmulator({ usageDrainMs: 50 });
const MODEL = 'claude-sonnet-4-5-20250929';
const DOOR_MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
/** Sonnet 4.5: $3 / $15 per million tokens. */
const worstOutput = (maxTokens: number) =>
  costUsd(
    'anthropic.claude-sonnet-4-5',
    { inputTokens: 0, outputTokens: maxTokens, cacheReadTokens: 0, cacheCreationTokens: 0 },
    DEFAULT_PRICES,
  );

async function makeKey(limits: KeyLimits): Promise<{ id: string; client: Anthropic }> {
  const { id, secret } = await storeKey(running.gateway.store, limits);
  return { id, client: new Anthropic({ baseURL: running.gateway.url, apiKey: secret, maxRetries: 0 }) };
}

const ask = (client: Anthropic, maxTokens = 1000) =>
  client.messages.create({
    model: MODEL,
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: 'hi' }],
  });

const calledBedrock = () => modelCalls(running.emulator.requests).length;

const spentBy = async (keyId: string) => {
  const records = await running.gateway.store.listUsage({ since: '2000-01-01T00:00:00Z', keyId });
  return records.reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
};

const refusal = (err: unknown) => {
  expect(err).toBeInstanceOf(Anthropic.APIError);
  const apiErr = err as InstanceType<typeof Anthropic.APIError>;
  expect(apiErr.status).toBe(402);
  expect((apiErr.error as { error: { type: string } }).error.type).toBe('billing_error');
  expect(apiErr.headers?.get('x-should-retry')).toBe('false');
  return apiErr;
};

describe('budget holds', () => {
  it('20 parallel calls against a small budget spend no more than the budget', async () => {
    const budgetUsd = 0.05;
    const { id, client } = await makeKey({ budgetUsd });
    // Every call Bedrock serves writes its whole max_tokens, slowly enough that all 20 are in flight.
    for (let i = 0; i < 20; i++)
      running.emulator.enqueue({ text: 'ok', delayMs: 300, usage: { outputTokens: 1000 } });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => ask(client)));
    const served = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results) if (r.status === 'rejected') refusal(r.reason);
    // $0.015 of output each: three fit in $0.05, not twenty.
    expect(served).toBe(3);
    expect(calledBedrock()).toBe(3);
    await until(async () => (await spentBy(id)) > 0, 5_000);
    const spent = await spentBy(id);
    expect(spent).toBeLessThanOrEqual(budgetUsd);
    expect(spent).toBeGreaterThan(3 * worstOutput(1000) - 1e-9);
  });

  it('a call whose max_tokens alone passes what is left is refused, saying what is left, before Bedrock', async () => {
    const { id, client } = await makeKey({ budgetUsd: 0.01 });
    const apiErr = refusal(await ask(client, 10_000).catch((e: unknown) => e));
    expect(apiErr.message).toContain(id);
    expect(apiErr.message).toMatch(/could cost up to \$0\.15/);
    expect(apiErr.message).toMatch(/max_tokens/);
    expect(apiErr.message).toMatch(/\$0\.01 of \$0\.01/);
    expect(calledBedrock()).toBe(0);
    // A call that fits is served.
    await expect(ask(client, 500)).resolves.toMatchObject({ type: 'message' });
  });

  it('a client that leaves mid-stream leaves no hold behind', async () => {
    // Room for one call of 1000 tokens at a time.
    const { client } = await makeKey({ budgetUsd: 0.02 });
    running.emulator.enqueue({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 200, chunkSize: 2 });
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'slow' }],
    });
    stream.on('error', () => {});
    stream.on('abort', () => {});
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    const apiErr = refusal(await ask(client).catch((e: unknown) => e));
    expect(apiErr.message).toMatch(/held by its calls in flight/);
    stream.abort();
    expect(
      await until(
        () =>
          ask(client).then(
            () => true,
            () => false,
          ),
        5_000,
      ),
    ).toBe(true);
  });

  it('a call Bedrock refuses gives its hold back', async () => {
    const { client } = await makeKey({ budgetUsd: 0.02 });
    running.emulator.enqueue({ error: { name: 'ValidationException', message: 'no' } });
    await expect(ask(client)).rejects.toMatchObject({ status: 400 });
    await expect(ask(client)).resolves.toMatchObject({ type: 'message' });
    const streamed = client.messages.stream({
      model: MODEL,
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await expect(streamed.finalMessage()).resolves.toMatchObject({ type: 'message' });
  });
});

describe('budget holds on the Bedrock-format door', () => {
  const converse = (secret: string, maxTokens?: number) =>
    doorClient(secret, running.gateway.url).send(
      new ConverseCommand({
        modelId: DOOR_MODEL,
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        ...(maxTokens === undefined ? {} : { inferenceConfig: { maxTokens } }),
      }),
    );

  it('a call without maxTokens holds the model output cap; one that names a smaller one fits, and gives it back', async () => {
    const { secret } = await storeKey(running.gateway.store, { budgetUsd: 0.02 });
    const err = await converse(secret).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceQuotaExceededException);
    expect((err as Error).message).toMatch(/max_tokens/);
    expect(calledBedrock()).toBe(0);
    // Room for one call of 1000 tokens at a time: the second is served only if the first gave its hold back.
    await expect(converse(secret, 1000)).resolves.toMatchObject({ stopReason: 'end_turn' });
    await expect(converse(secret, 1000)).resolves.toMatchObject({ stopReason: 'end_turn' });
  });
});

describe('budget holds in a web tools loop', () => {
  const webTools: WebTools = {
    search: {
      name: 'fake',
      search: async () => [{ url: 'https://example.com/', title: 'Example', content: 'x' }],
    },
    fetch: async () => {
      throw new Error('no fetch here');
    },
  };
  const withWeb = gatewayWithEmulator({ usageDrainMs: 50 }, { webTools });

  it('each model round holds its worst case: a round the budget has no room for is a 402, and spend stays within it', async () => {
    // Round one ($0.015 of output, then a $0.01 search) fits $0.03; a second round of 1000 tokens does not.
    const budgetUsd = 0.03;
    const { id, secret } = await storeKey(withWeb.gateway.store, { budgetUsd });
    const client = new Anthropic({ baseURL: withWeb.gateway.url, apiKey: secret, maxRetries: 0 });
    withWeb.emulator.enqueue(
      { toolCalls: [{ name: 'web_search', input: { query: 'q' } }], usage: { outputTokens: 1000 } },
      { text: 'answer', usage: { outputTokens: 1000 } },
    );
    const err = await client.messages
      .create({
        model: MODEL,
        max_tokens: 1000,
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        messages: [{ role: 'user', content: 'search' }],
      })
      .catch((e: unknown) => e);
    expect(refusal(err).message).toMatch(/could cost up to/);
    const records = async () => withWeb.gateway.store.listUsage({ since: '2000-01-01T00:00:00Z', keyId: id });
    await until(async () => (await records()).some((r) => r.status !== 0), 5_000);
    const spent = (await records()).reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
    expect(spent).toBeGreaterThan(0.025);
    expect(spent).toBeLessThanOrEqual(budgetUsd);
    // The loop's hold was given back: a small call fits what is left.
    await expect(ask(client, 100)).resolves.toMatchObject({ type: 'message' });
  });

  it('streamed, a round the budget has no room for ends the stream with a billing_error event', async () => {
    const { secret } = await storeKey(withWeb.gateway.store, { budgetUsd: 0.03 });
    const client = new Anthropic({ baseURL: withWeb.gateway.url, apiKey: secret, maxRetries: 0 });
    withWeb.emulator.enqueue(
      { toolCalls: [{ name: 'web_search', input: { query: 'q' } }], usage: { outputTokens: 1000 } },
      { text: 'answer', usage: { outputTokens: 1000 } },
    );
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 1000,
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      messages: [{ role: 'user', content: 'search' }],
    });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as { error: { error: { type: string } } }).error.error.type).toBe('billing_error');
    expect((err as Error).message).toMatch(/could cost up to/);
    expect(modelCalls(withWeb.emulator.requests)).toHaveLength(1);
  });
});
