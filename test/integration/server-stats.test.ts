/** The serve dashboard's counters, fed by real requests through the gateway and the Bedrock emulator. */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator } from '../helpers/gateway.ts';

const USAGE = { inputTokens: 40, outputTokens: 7, cacheReadInputTokens: 10, cacheWriteInputTokens: 0 };
const ask = (text: string): Anthropic.MessageParam[] => [{ role: 'user', content: text }];

const world = gatewayWithEmulator();

/** The counters settle when the response closes, a moment after the client has read it. */
async function settled(count: number) {
  for (let i = 0; i < 100 && world.gateway.stats.snapshot().requests < count; i++)
    await new Promise((r) => setTimeout(r, 10));
  return world.gateway.stats.snapshot();
}

describe('server stats', () => {
  for (const model of ['qwen.qwen3-coder-480b-a35b-v1:0', 'claude-sonnet-4-5-20250929']) {
    it(`streams count tokens and TTFT; failures count as errors (${model})`, async () => {
      const before = world.gateway.stats.snapshot();
      world.emulator.enqueue({
        text: 'hello there friend',
        chunkSize: 3,
        chunkDelayMs: 5,
        delayMs: 30,
        usage: USAGE,
      });
      await world.client.messages.stream({ model, max_tokens: 50, messages: ask('hi') }).finalMessage();
      world.emulator.enqueue({ error: { name: 'ThrottlingException', status: 429, message: 'slow down' } });
      await expect(
        world.client.messages.create({ model, max_tokens: 50, messages: ask('hi') }),
      ).rejects.toThrow();
      const snap = await settled(before.requests + 2);
      expect(snap.requests - before.requests).toBe(2);
      expect(snap.errors - before.errors).toBe(1);
      expect(snap.inputTokens - before.inputTokens).toBe(50);
      expect(snap.outputTokens - before.outputTokens).toBe(7);
      expect(snap.activeStreams).toBe(0);
      expect(snap.ttftP50Ms).toBeGreaterThanOrEqual(30);
      expect(snap.recent[0]).toMatchObject({ model, status: 429, error: true, stream: false });
      expect(snap.recent[1]).toMatchObject({
        model,
        status: 200,
        error: false,
        stream: true,
        outputTokens: 7,
      });
    });
  }

  it('a stream in progress is an active stream', async () => {
    world.emulator.enqueue({ text: 'slow answer here', chunkSize: 2, chunkDelayMs: 60 });
    const stream = world.client.messages.stream({
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      max_tokens: 50,
      messages: ask('hi'),
    });
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    expect(world.gateway.stats.snapshot().activeStreams).toBe(1);
    await stream.finalMessage();
  });
});
