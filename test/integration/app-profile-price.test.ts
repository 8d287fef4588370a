/**
 * An application inference profile (an ARN an account makes for cost tracking, routing to one foundation
 * model) is called as its ARN, which names no model: priced by it, every call matched the `*` fallback
 * ($3/$15), a fifth of what an Opus profile costs. The call is priced by the model the catalogue says the
 * profile routes to, on /v1/messages and the Bedrock-format door alike.
 */
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinSnapshot } from '../../src/models/aliases.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { doorClient, finishedUsage } from '../helpers/door.ts';
import { postMessages, storeKey, testConfig } from '../helpers/gateway.ts';

const ARN = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-opus';
const OPUS_4_1 = 'anthropic.claude-opus-4-1-20250805-v1:0';
/** Opus 4.1's input price, USD per million tokens ($15; the `*` fallback is $3). */
const OPUS_INPUT = 15;

const answer = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: OPUS_4_1,
  content: [{ type: 'text', text: 'hi' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 1_000_000, output_tokens: 0 },
};

let gateway: RunningServer;
const called: string[] = [];

beforeAll(async () => {
  const builtin = builtinSnapshot('us-east-1');
  const profile = {
    id: 'team-opus',
    arn: ARN,
    type: 'APPLICATION' as const,
    active: true,
    modelIds: [OPUS_4_1],
  };
  const snapshot = { ...builtin, profiles: [...builtin.profiles, profile] };
  // Bedrock stands in for the account that owns the profile: its InvokeModel answers as Opus 4.1.
  const bytes = new TextEncoder().encode(JSON.stringify(answer));
  const upstream = {
    invokeModel: async (input: { modelId: string }) => {
      called.push(input.modelId);
      return bytes;
    },
    // The door's InvokeModel, passed through as bytes.
    forward: async (input: { modelId: string }) => {
      called.push(input.modelId);
      return {
        requestId: 'req-1',
        status: 200,
        headers: { 'content-type': 'application/json' },
        stream: (async function* () {
          yield bytes;
        })(),
      };
    },
  };
  gateway = await startServer(testConfig({ usageDrainMs: 50 }), {
    catalogue: { snapshot: async () => snapshot },
    upstream: upstream as never,
  });
});
afterAll(async () => {
  await gateway?.close();
});

describe('an application inference profile is priced as the model it routes to', () => {
  it('/v1/messages', async () => {
    const key = await storeKey(gateway.store);
    const body = JSON.stringify({ model: ARN, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const res = await postMessages(gateway.url, body, { 'x-api-key': key.secret });
    expect(res.status).toBe(200);
    const [record] = await finishedUsage(gateway.store, key.id);
    expect(called.at(-1)).toBe(ARN);
    expect(record!.resolvedModel).toBe(ARN);
    expect(record!.costUsd).toBeCloseTo(OPUS_INPUT, 8);
  });

  it('the Bedrock-format door', async () => {
    const key = await storeKey(gateway.store);
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await doorClient(key.secret, gateway.url).send(new InvokeModelCommand({ modelId: ARN, body }));
    const [record] = await finishedUsage(gateway.store, key.id);
    expect(called.at(-1)).toBe(ARN);
    expect(record!.costUsd).toBeCloseTo(OPUS_INPUT, 8);
  });
});
