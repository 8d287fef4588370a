/**
 * A Claude model only the bedrock-mantle host serves (the emulator's Claude Opus 5.5, Claude Code's
 * default model) on a gateway with no Claude-path setting at all: the path chooser sends it to mantle
 * because the catalogue (the runtime's listings plus mantle's `/v1/models`) says only mantle has it,
 * while every other Claude model stays on InvokeModel. Through the official Anthropic SDK, as a user
 * with a fresh install would meet it: plain `/v1/messages` (stream and not), `/v1/models`,
 * count_tokens, the usage record, a clear 404 for a model nobody serves, and the operator's per-model
 * setting winning over the automatic choice.
 */

import { createServer } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import type { UsageRecord } from '../../src/store/types.ts';
import type { Emulator } from '../emulator/server.ts';
import {
  ask,
  createAndStream,
  gatewayWithEmulator,
  MASTER_KEY,
  startBedrockEmulator,
  startGateway,
} from '../helpers/gateway.ts';

const OPUS_5_5 = 'claude-opus-5-5';
const BARE = 'anthropic.claude-opus-5-5';
const ON_RUNTIME = 'claude-sonnet-4-5-20250929';

/** The usage records with these request ids, once written (off the hot path). */
async function usageOf(gateway: RunningServer, requestIds: readonly string[]): Promise<UsageRecord[]> {
  let found: UsageRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    found = records.filter((r) => requestIds.includes(r.requestId));
    if (found.length === requestIds.length) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`only ${found.length} of ${requestIds.length} usage records arrived`);
}

describe('a Claude model only bedrock-mantle serves, with the default Claude path (invoke)', () => {
  const world = gatewayWithEmulator();

  it('answers on plain /v1/messages, stream and not, from the mantle host by its bare id', async () => {
    const [created, streamed] = await createAndStream(world.client, {
      model: OPUS_5_5,
      max_tokens: 50,
      messages: ask('first message'),
    });
    expect(created.content.at(-1)).toMatchObject({ type: 'text', text: 'Echo: first message' });
    expect(streamed.content.at(-1)).toMatchObject({ type: 'text', text: 'Echo: first message' });
    expect(created.model).toBe(OPUS_5_5);
    expect(streamed.model).toBe(OPUS_5_5);
    expect(world.calls('MessagesApi').map((c) => [c.host, c.modelId])).toEqual([
      ['mantle', BARE],
      ['mantle', BARE],
    ]);
    expect(world.calls('InvokeModel')).toHaveLength(0);
    expect(world.calls('InvokeModelWithResponseStream')).toHaveLength(0);
  });

  it('leaves every model the runtime serves on InvokeModel', async () => {
    const [created] = await createAndStream(world.client, {
      model: ON_RUNTIME,
      max_tokens: 20,
      messages: ask('hi'),
    });
    expect(created.content.at(-1)).toMatchObject({ type: 'text', text: 'Echo: hi' });
    expect(world.calls('InvokeModel')).toHaveLength(1);
    expect(world.calls('InvokeModelWithResponseStream')).toHaveLength(1);
    expect(world.calls('MessagesApi')).toHaveLength(0);
  });

  it('is listed by /v1/models and found by /v1/models/{id}', async () => {
    const ids: string[] = [];
    for await (const model of world.client.models.list({ limit: 1000 })) ids.push(model.id);
    expect(ids).toContain(OPUS_5_5);
    expect(ids).toContain(ON_RUNTIME);
    const one = await world.client.models.retrieve(OPUS_5_5);
    expect(one).toMatchObject({ id: OPUS_5_5, display_name: 'Claude Opus 5.5' });
  });

  it('is counted by count_tokens without a runtime call that could only fail', async () => {
    const count = await world.client.messages
      .countTokens({ model: OPUS_5_5, messages: ask('how many tokens is this?') })
      .withResponse();
    expect(count.data.input_tokens).toBeGreaterThan(0);
    expect(count.response.headers.get('x-abproxy-token-count')).toBe('estimate');
    expect(world.calls('CountTokens')).toHaveLength(0);
  });

  it('is named in the usage record: the client name and the id called on mantle', async () => {
    const { response } = await world.client.messages
      .create({ model: OPUS_5_5, max_tokens: 20, messages: ask('usage please') })
      .withResponse();
    const requestId = response.headers.get('request-id')!;
    const [record] = await usageOf(world.gateway, [requestId]);
    expect(record).toMatchObject({ model: OPUS_5_5, resolvedModel: BARE, status: 200 });
    expect(record!.outputTokens).toBeGreaterThan(0);
  });

  it('still answers 404 not_found_error for a Claude model neither host serves', async () => {
    for (const model of ['claude-opus-9-9', 'claude-fable-5-2']) {
      const err = await world.client.messages
        .create({ model, max_tokens: 20, messages: ask('hi') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.NotFoundError);
      expect((err as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
        type: 'error',
        error: { type: 'not_found_error', message: `model: ${model}` },
      });
    }
    expect(world.emulator.requests.filter((r) => r.operation !== 'ListMantleModels')).toHaveLength(0);
  });
});

describe("the operator's per-model path wins over the automatic choice", () => {
  const world = gatewayWithEmulator({ claudePaths: { '*opus-5-5*': 'invoke' } });

  it('sends the mantle-only model to InvokeModel as told (and Bedrock refuses it there)', async () => {
    const err = await world.client.messages
      .create({ model: OPUS_5_5, max_tokens: 20, messages: ask('hi') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(world.calls('InvokeModel').map((c) => c.modelId)).toEqual([BARE]);
    expect(world.calls('MessagesApi')).toHaveLength(0);
  });
});

/** A loopback port with nothing listening (taken, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('when the mantle host cannot be read', () => {
  let emulator: Emulator;
  let gateway: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    gateway = await startGateway({ mantleEndpoint: `http://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => {
    await gateway?.server.close();
    await emulator?.close();
  });

  it('serves the runtime catalogue as before, and the mantle-only model is a clear 404', async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const ok = await client.messages.create({ model: ON_RUNTIME, max_tokens: 20, messages: ask('hi') });
    expect(ok.content.at(-1)).toMatchObject({ type: 'text', text: 'Echo: hi' });
    const err = await client.messages
      .create({ model: OPUS_5_5, max_tokens: 20, messages: ask('hi') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const ids: string[] = [];
    for await (const model of client.models.list({ limit: 1000 })) ids.push(model.id);
    expect(ids).toContain(ON_RUNTIME);
    expect(ids).not.toContain(OPUS_5_5);
  });
});
