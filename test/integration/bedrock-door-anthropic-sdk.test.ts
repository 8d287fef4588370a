/**
 * The Anthropic Bedrock SDK (`@anthropic-ai/bedrock-sdk`, AnthropicBedrock) pointed at the gateway's
 * Bedrock-format door with an abproxy key as its Bedrock API key: a streamed message and a plain one,
 * as that client sends them (InvokeModel[WithResponseStream], Claude's native body).
 */
import AnthropicBedrock from '@anthropic-ai/bedrock-sdk';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/http/server.ts';
import { gatewayWithEmulator, MASTER_KEY, testConfig } from '../helpers/gateway.ts';

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

  it("the gateway's own AWS keys refused: one attempt, not ten over three minutes", async () => {
    // Claude Code and the Agent SDK in Bedrock mode are this SDK: it retries a 5xx unless the answer
    // says x-should-retry: false, which the door used to leave out as meaningless to Bedrock clients.
    const realKey = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDREVOKED';
    const gateway = await startServer(testConfig());
    try {
      let attempts = 0;
      const retrying = new AnthropicBedrock({
        baseURL: gateway.url,
        awsRegion: 'us-east-1',
        apiKey: MASTER_KEY,
        maxRetries: 4,
        defaultHeaders: { 'anthropic-version': 'bedrock-2023-05-31' },
        fetch: (url, init) => {
          attempts++;
          return fetch(url, init);
        },
      });
      const started = Date.now();
      const err = await retrying.messages
        .create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect((err as { status?: number }).status).toBe(502);
      expect((err as Error).message).toContain("the gateway's AWS credentials");
      expect(attempts).toBe(1);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = realKey;
      await gateway.close();
    }
  });

  it('Bedrock throttling through the door is still retried, after its retry-after', async () => {
    world.emulator.enqueue({ error: { name: 'ThrottlingException', retryAfter: 1 } });
    world.emulator.enqueue({ text: 'after the wait' });
    let attempts = 0;
    const retrying = new AnthropicBedrock({
      baseURL: world.gateway.url,
      awsRegion: 'us-east-1',
      apiKey: MASTER_KEY,
      maxRetries: 2,
      defaultHeaders: { 'anthropic-version': 'bedrock-2023-05-31' },
      fetch: (url, init) => {
        attempts++;
        return fetch(url, init);
      },
    });
    const started = Date.now();
    const message = await retrying.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content[0]).toMatchObject({ text: 'after the wait' });
    expect(attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
