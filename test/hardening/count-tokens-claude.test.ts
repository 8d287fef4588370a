/**
 * count_tokens for today's Claude (issue 11): Bedrock CountTokens is tried for every Claude model, a
 * model Bedrock refuses to count for is remembered for a while (bounded), and the estimate answers only
 * then; `x-abproxy-token-count` says which one answered.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinSnapshot } from '../../src/models/aliases.ts';
import type { Upstream } from '../../src/server/deps.ts';
import { startServer } from '../../src/server/http/server.ts';
import { CountRefusals } from '../../src/server/routes/count-refusals.ts';
import {
  type Emulator,
  MASTER_KEY,
  startBedrockEmulator,
  startGateway,
  testConfig,
} from '../helpers/gateway.ts';

const messages = [{ role: 'user' as const, content: 'count these words please' }];

describe('against the Bedrock emulator', () => {
  let emulator: Emulator;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    gateway = await startGateway();
  });
  afterAll(async () => {
    await gateway?.server.close();
    await emulator?.close();
  });

  it.each([
    ['claude-sonnet-4-5', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['claude-haiku-4-5', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
    ['claude-opus-4-5', 'anthropic.claude-opus-4-5-20251101-v1:0'],
    ['claude-opus-4-1', 'anthropic.claude-opus-4-1-20250805-v1:0'],
    ['claude-sonnet-4-6', 'anthropic.claude-sonnet-4-6'],
    ['claude-opus-4-6', 'anthropic.claude-opus-4-6-v1'],
  ])('%s is counted by Bedrock', async (model, baseModelId) => {
    const before = emulator.requests.length;
    const { data, response } = await gateway.client.messages.countTokens({ model, messages }).withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-abproxy-token-count')).toBe('bedrock');
    const calls = emulator.requests.slice(before).filter((r) => r.operation === 'CountTokens');
    expect(calls.map((c) => [c.modelId, c.status])).toEqual([[baseModelId, 200]]);
  });
});

describe('a model Bedrock refuses to count for', () => {
  it('is asked once, then answered by the estimate until the memory expires', async () => {
    let calls = 0;
    let refuse: 'validation' | 'throttle' = 'validation';
    const upstream = {
      countTokens: async () => {
        calls++;
        const [name, status, message] =
          refuse === 'validation'
            ? ['ValidationException', 400, "The provided model doesn't support counting tokens."]
            : ['ThrottlingException', 429, 'Too many requests'];
        throw Object.assign(new Error(message), {
          name,
          $fault: 'client',
          $metadata: { httpStatusCode: status },
        });
      },
    } as unknown as Upstream;
    const server = await startServer(testConfig(), {
      upstream,
      catalogue: { snapshot: async () => builtinSnapshot('us-east-1') },
    });
    const client = new Anthropic({ baseURL: server.url, apiKey: MASTER_KEY, maxRetries: 0 });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) {
        const { data, response } = await client.messages
          .countTokens({ model: 'claude-opus-4-7', messages })
          .withResponse();
        answers.push([data.input_tokens > 0, response.headers.get('x-abproxy-token-count')]);
      }
      expect(answers).toEqual(Array(3).fill([true, 'estimate']));
      expect(calls).toBe(1);
      // A throttle says nothing about the model: it is asked again next time.
      refuse = 'throttle';
      await client.messages.countTokens({ model: 'claude-opus-4-8', messages });
      await client.messages.countTokens({ model: 'claude-opus-4-8', messages });
      expect(calls).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('is remembered in a bounded memory that forgets after its TTL', () => {
    let now = 0;
    const refusals = new CountRefusals({ maxModels: 3, ttlMs: 1_000, now: () => now });
    for (let i = 0; i < 10; i++) refusals.remember(`model-${i}`);
    expect(refusals.size).toBe(3);
    expect(refusals.has('model-9')).toBe(true);
    expect(refusals.has('model-0')).toBe(false);
    now = 1_001;
    expect(refusals.has('model-9')).toBe(false);
  });
});
