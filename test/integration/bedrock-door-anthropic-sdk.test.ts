/**
 * The Anthropic Bedrock SDK (`@anthropic-ai/bedrock-sdk`, AnthropicBedrock) pointed at the gateway's
 * Bedrock-format door with an abproxy key as its Bedrock API key: a streamed message and a plain one,
 * as that client sends them (InvokeModel[WithResponseStream], Claude's native body).
 */
import AnthropicBedrock from '@anthropic-ai/bedrock-sdk';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY } from '../helpers/gateway.ts';

const world = gatewayWithEmulator();
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

/**
 * bedrock-sdk 1.2 moves the `anthropic-version` header into the body's `anthropic_version`, and the
 * Anthropic SDK 1.x it runs on sends `2026-10-21` there; the (strict) emulator, like the InvokeModel
 * docs, takes only `bedrock-2023-05-31`. The door forwards bodies unchanged, so the client says which.
 */
function client(apiKey = MASTER_KEY) {
  return new AnthropicBedrock({
    baseURL: world.gateway.url,
    awsRegion: 'us-east-1',
    apiKey,
    maxRetries: 0,
    defaultHeaders: { 'anthropic-version': 'bedrock-2023-05-31' },
  });
}

describe('AnthropicBedrock through the door', () => {
  it('streams a message, usage included', async () => {
    world.emulator.enqueue({
      text: 'streamed through the door',
      chunkSize: 5,
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    const stream = client().messages.stream({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'streamed through the door' });
    expect(deltas.length).toBeGreaterThan(1);
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 6 });
    const call = world.calls('InvokeModelWithResponseStream').at(-1);
    expect(call?.modelId).toBe(MODEL);
    expect((call?.body as { anthropic_version?: string } | undefined)?.anthropic_version).toBe(
      'bedrock-2023-05-31',
    );
  });

  it('creates a message without streaming; an alias resolves through the catalogue', async () => {
    world.emulator.enqueue({ text: 'plain answer' });
    const message = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'plain answer' });
    expect(world.calls('InvokeModel').at(-1)?.modelId).toMatch(/anthropic\.claude-sonnet-4-5/);
  });

  it('a wrong key is refused in a way the SDK reports as an error, with nothing forwarded', async () => {
    const err = await client('abp_wrong')
      .messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { status?: number }).status).toBe(403);
    expect(world.emulator.requests).toHaveLength(0);
  });
});
