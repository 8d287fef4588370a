/**
 * The Bedrock-format door when Bedrock's streamed answer breaks midway: the connection to Bedrock drops
 * between frames, or inside one (the emulator's `dieMidStream` fault). The client — the official AWS SDK
 * — must get whole frames only and then an exception event it raises as the modeled exception (as
 * Bedrock ends a failed stream), not a socket error or a torn frame; the usage seen is still recorded.
 * Over both upstream transports (undici HTTP/1.1 and the SDK's HTTP/2, where Node ends a stream whose
 * connection closed as if it were complete: h2-handler.ts makes it a failure). And the same drop under
 * /v1/messages: an error event there too, never a silently shortened answer.
 */
import Anthropic from '@anthropic-ai/sdk';
import {
  type BedrockRuntimeClient,
  ConverseStreamCommand,
  InternalServerException,
  InvokeModelWithResponseStreamCommand,
  ModelTimeoutException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UpstreamHttp } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { doorClient, finishedUsage } from '../helpers/door.ts';
import {
  ask,
  type Emulator,
  MASTER_KEY,
  startBedrockEmulator,
  storeKey,
  testConfig,
} from '../helpers/gateway.ts';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';

let emulator: Emulator;
const gateways = new Map<UpstreamHttp, RunningServer>();

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  for (const http of ['1.1', '2'] as const) {
    gateways.set(http, await startServer(testConfig({ usageDrainMs: 50, upstreamHttp: http })));
  }
});
afterAll(async () => {
  for (const gateway of gateways.values()) await gateway.close();
  await emulator?.close();
});
beforeEach(() => emulator.reset());

function sdk(token: string, endpoint: string): BedrockRuntimeClient {
  return doorClient(token, endpoint);
}

/** InvokeModelWithResponseStream of a one-line Claude request. */
const invokeStreamHi = () =>
  new InvokeModelWithResponseStreamCommand({
    modelId: CLAUDE,
    contentType: 'application/json',
    body: JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });

/** Reads a stream to its end: the events seen, and what the SDK raised (undefined: a clean end). */
async function drain<T>(events: AsyncIterable<T>): Promise<{ events: T[]; error: unknown }> {
  const seen: T[] = [];
  try {
    for await (const event of events) seen.push(event);
    return { events: seen, error: undefined };
  } catch (error) {
    return { events: seen, error };
  }
}

const cases = (['1.1', '2'] as const).flatMap((http) =>
  (['torn', 'disconnect'] as const).map((how) => [http, how] as const),
);

describe.each(cases)('upstream HTTP/%s, the connection to Bedrock dropped (%s)', (http, how) => {
  it('ConverseStream: the events before the drop, then an InternalServerException event', async () => {
    const gateway = gateways.get(http)!;
    const { id, secret } = await storeKey(gateway.store);
    // messageStart, contentBlockDelta ×…: the drop comes after 3 events (inside the 4th frame when torn).
    emulator.setFaults({ dieMidStream: { afterEvents: 3, how } });
    emulator.enqueue({ text: 'abcdefghijklmnopqrstuvwxyz', chunkSize: 2 });
    const out = await sdk(secret, gateway.url).send(
      new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    const { events, error } = await drain(out.stream!);
    expect(events).toHaveLength(3);
    expect(events[0]!.messageStart).toBeDefined();
    expect(error).toBeInstanceOf(InternalServerException);
    const message = (error as Error).message;
    expect(message).toMatch(how === 'torn' ? /Bedrock|stream/i : /Bedrock/i);
    expect(message).not.toMatch(/AKIA|ABSK|Bearer /);
    const record = (await finishedUsage(gateway.store, id))[0]!;
    expect(record.model).toBe(QWEN);
  });

  it('InvokeModelWithResponseStream: the chunks before the drop, then an InternalServerException event', async () => {
    const gateway = gateways.get(http)!;
    const { secret } = await storeKey(gateway.store);
    emulator.setFaults({ dieMidStream: { afterEvents: 2, how } });
    emulator.enqueue({ text: 'abcdefghijklmnopqrstuvwxyz', chunkSize: 2 });
    const out = await sdk(secret, gateway.url).send(invokeStreamHi());
    const { events, error } = await drain(out.body!);
    expect(events).toHaveLength(2);
    const first = JSON.parse(new TextDecoder().decode(events[0]!.chunk!.bytes));
    expect(first.type).toBe('message_start');
    expect(error).toBeInstanceOf(InternalServerException);
    expect((error as Error).message).toMatch(/Bedrock/);
  });
});

describe('door streams that end before Bedrock counted them are still billed', () => {
  it('ConverseStream read to messageStop, then the client hangs up: an estimate, not $0', async () => {
    const gateway = gateways.get('1.1')!;
    const { id, secret } = await storeKey(gateway.store);
    // ConverseStream reports usage only in its last frame (metadata, after messageStop).
    emulator.enqueue({ text: 'x'.repeat(400), chunkSize: 400, chunkDelayMs: 200 });
    const abort = new AbortController();
    const out = await sdk(secret, gateway.url).send(
      new ConverseStreamCommand({
        modelId: QWEN,
        messages: [{ role: 'user', content: [{ text: 'y'.repeat(2000) }] }],
      }),
      { abortSignal: abort.signal },
    );
    let stopped = false;
    try {
      for await (const event of out.stream!) {
        if (event.metadata) throw new Error('the metadata frame arrived before the hang-up');
        if (event.messageStop) {
          stopped = true;
          abort.abort();
        }
      }
    } catch (err) {
      if (!stopped) throw err;
    }
    expect(stopped).toBe(true);
    const record = (await finishedUsage(gateway.store, id))[0]!;
    expect(record).toMatchObject({ status: 499, estimated: true, interrupted: true });
    // 2,000 characters in, 400 out, at the estimate's 4 characters a token.
    expect(record.inputTokens).toBeGreaterThanOrEqual(500);
    expect(record.outputTokens).toBe(100);
    expect(record.costUsd).toBeGreaterThan(0);
  });

  it.each([
    [
      'ConverseStream',
      () =>
        new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    ],
    ['InvokeModelWithResponseStream', invokeStreamHi],
  ] as const)(
    '%s that Bedrock ends with an exception is recorded as interrupted, its text estimated',
    async (_name, command) => {
      const gateway = gateways.get('1.1')!;
      const { id, secret } = await storeKey(gateway.store);
      emulator.enqueue({
        text: 'abcdefghijklmnopqrstuvwxyz',
        chunkSize: 4,
        errorAfterEvents: { events: 4, name: 'throttlingException', message: 'slow down' },
      });
      const out = await sdk(secret, gateway.url).send(command() as never);
      const { error } = await drain(
        (out as { stream?: AsyncIterable<unknown>; body?: AsyncIterable<unknown> }).stream ??
          (out as { body: AsyncIterable<unknown> }).body,
      );
      expect((error as Error).name).toBe('ThrottlingException');
      const record = (await finishedUsage(gateway.store, id))[0]!;
      expect(record).toMatchObject({ interrupted: true, estimated: true });
      expect(record.outputTokens).toBeGreaterThan(0);
    },
  );
});

describe.each(['1.1', '2'] as const)('upstream HTTP/%s, Bedrock falls silent mid-stream', (http) => {
  it('past ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS: a ModelTimeoutException event ends the stream', async () => {
    const gateway = await startServer(testConfig({ upstreamIdleTimeoutMs: 300, upstreamHttp: http }));
    try {
      const { secret } = await storeKey(gateway.store);
      // Each chunk 5 s after the last: the first events come, then silence past the idle timeout.
      emulator.enqueue({ text: 'abcdefgh', chunkSize: 2, chunkDelayMs: 5_000 });
      const started = performance.now();
      const out = await sdk(secret, gateway.url).send(invokeStreamHi());
      const { events, error } = await drain(out.body!);
      expect(events.length).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(ModelTimeoutException);
      expect((error as Error).message).toMatch(/in time|nothing came|timeout/i);
      expect(performance.now() - started).toBeLessThan(4_500);
    } finally {
      await gateway.close();
    }
  });
});

describe('a stream Bedrock ends well', () => {
  it.each(['1.1', '2'] as const)('upstream HTTP/%s: every event, no exception', async (http) => {
    const gateway = gateways.get(http)!;
    const { secret } = await storeKey(gateway.store);
    emulator.enqueue({ text: 'abcdefghijklmnopqrstuvwxyz', chunkSize: 2 });
    const out = await sdk(secret, gateway.url).send(
      new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    const { events, error } = await drain(out.stream!);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('')).toBe(
      'abcdefghijklmnopqrstuvwxyz',
    );
    expect(events.at(-1)?.metadata).toBeDefined();
  });
});

describe.each(['1.1', '2'] as const)(
  '/v1/messages, upstream HTTP/%s, the connection dropped between events',
  (http) => {
    it.each([
      ['Converse', QWEN],
      ['Claude (InvokeModel)', 'claude-sonnet-4-5'],
    ])('%s: the Anthropic SDK gets the error event, not a shortened answer', async (_path, model) => {
      const gateway = gateways.get(http)!;
      emulator.setFaults({ dieMidStream: { afterEvents: 3, how: 'disconnect' } });
      emulator.enqueue({ text: 'abcdefghijklmnopqrstuvwxyz', chunkSize: 2 });
      const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
      const err = await client.messages
        .stream({ model, max_tokens: 100, messages: ask('hi') })
        .finalMessage()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as Error).message).toMatch(/Bedrock/);
    });
  },
);
