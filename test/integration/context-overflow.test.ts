/**
 * Context overflow from Bedrock, on either path, becomes Anthropic's
 * `prompt is too long: N tokens > M maximum` 400 — the wording that makes Claude Code compact the
 * conversation instead of failing the turn.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/http/server.ts';
import { type Emulator, startBedrockEmulator, startGateway } from '../helpers/gateway.ts';

let emulator: Emulator;
let gateway: RunningServer;
let client: Anthropic;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  ({ server: gateway, client } = await startGateway());
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

/** Roughly `tokens` tokens of text for the emulator (which counts about 4 characters a token). */
const filler = (tokens: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil((tokens * 4) / 27));

async function overflow(model: string, tokens: number, stream: boolean) {
  const err = await client.messages
    .create({ model, max_tokens: 1000, stream, messages: [{ role: 'user', content: filler(tokens) }] })
    .then(async (result) => {
      // A stream that starts is a failure of this test: the error must come before the first event.
      if (stream) for await (const _ of result as AsyncIterable<unknown>);
      return result;
    })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.BadRequestError);
  return (err as InstanceType<typeof Anthropic.BadRequestError>).message;
}

describe('context overflow', () => {
  for (const stream of [false, true]) {
    it(`Claude (native path, stream=${stream}) → prompt is too long with Bedrock's numbers`, async () => {
      const message = await overflow('claude-sonnet-4-5', 230_000, stream);
      expect(message).toMatch(/prompt is too long: \d+ tokens > 200000 maximum/);
    });

    it(`an open model (Converse, stream=${stream}) → prompt is too long`, async () => {
      const message = await overflow('meta.llama3-3-70b-instruct-v1:0', 160_000, stream);
      expect(message).toMatch(/prompt is too long: \d+ tokens > \d+ maximum/);
    });
  }
});
