/**
 * The SDK-free runtime calls must be indistinguishable from the SDK's: same outputs (blobs as bytes),
 * same stream events, and errors the error table reads the same way. Both run against the emulator.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import {
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../test/emulator/server.ts';
import { runtimeClient, TEST_CREDENTIALS } from '../../test/emulator/test-clients.ts';
import { classifyBedrockError, fromBedrockError } from './aws-errors.ts';
import { converseBody } from './codec.ts';
import { MAX_ANSWER_BYTES, UndiciRuntime } from './runtime-undici.ts';

let emulator: Emulator;
let sdk: ReturnType<typeof runtimeClient>;
let fast: UndiciRuntime;

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const R1 = 'us.deepseek.r1-v1:0';
const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const input = (modelId: string, text = 'Say hi'): ConverseCommandInput => ({
  modelId,
  messages: [{ role: 'user', content: [{ text }] }],
  inferenceConfig: { maxTokens: 64 },
});

beforeAll(async () => {
  emulator = await startEmulator();
  sdk = runtimeClient(emulator.url, 'h1-keepalive');
  fast = new UndiciRuntime({
    region: 'us-east-1',
    credentials: async () => TEST_CREDENTIALS,
    sdkClient: async () => sdk,
    maxConnections: 16,
  });
});
beforeEach(() => emulator.reset());
afterAll(async () => {
  await fast.destroy();
  sdk.destroy();
  await emulator.close();
});

/** The events of a stream, with measured latencies blanked (they differ from call to call). */
async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const event of stream) {
    const metadata = (event as { metadata?: { metrics?: unknown } }).metadata;
    out.push(metadata?.metrics ? ({ ...event, metadata: { ...metadata, metrics: 'measured' } } as T) : event);
  }
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('UndiciRuntime', { timeout: 15_000 }, () => {
  it('answers Converse like the SDK, redacted reasoning as bytes', async () => {
    const redacted = Buffer.from('opaque').toString('base64');
    emulator.enqueue(
      { reasoning: { redacted, text: 'hmm' }, text: 'A' },
      { reasoning: { redacted, text: 'hmm' }, text: 'A' },
    );
    // metrics.latencyMs is a measured time: it differs between the two calls under load.
    const { $metadata: _a, metrics: _m1, ...viaSdk } = await sdk.send(new ConverseCommand(input(R1)));
    const { $metadata, metrics, ...viaFast } = await fast.converse(input(R1));
    expect(viaFast).toEqual(viaSdk);
    expect(metrics?.latencyMs).toEqual(expect.any(Number));
    expect(viaFast.output?.message?.content?.[0]?.reasoningContent?.redactedContent).toBeInstanceOf(
      Uint8Array,
    );
    expect($metadata.httpStatusCode).toBe(200);
  });

  it('streams the same events as the SDK, without padding', async () => {
    const viaSdk = await sdk.send(new ConverseStreamCommand(input(QWEN, 'Tell me a story')));
    const sdkEvents = await collect(viaSdk.stream!);
    const viaFast = await fast.converseStream(input(QWEN, 'Tell me a story'));
    expect(await collect(viaFast.stream)).toEqual(sdkEvents);
    expect(viaFast.requestId).toBeTruthy();
  });

  it('sends image bytes as base64', () => {
    const body = JSON.parse(
      converseBody({
        modelId: QWEN,
        messages: [
          { role: 'user', content: [{ image: { format: 'png', source: { bytes: Buffer.from('png!') } } }] },
        ],
      }),
    );
    expect(body.modelId).toBeUndefined();
    expect(body.messages[0].content[0].image.source.bytes).toBe(Buffer.from('png!').toString('base64'));
  });

  it('answers InvokeModel and its stream like the SDK', async () => {
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    const request = { modelId: CLAUDE, body, contentType: 'application/json', accept: 'application/json' };
    const viaSdk = await sdk.send(new InvokeModelCommand(request));
    const viaFast = await fast.invokeModel(request);
    const withoutId = (bytes: Uint8Array) => ({
      ...JSON.parse(Buffer.from(bytes).toString()),
      id: undefined,
    });
    expect(withoutId(viaFast)).toEqual(withoutId(viaSdk.body));

    const sdkStream = await sdk.send(new InvokeModelWithResponseStreamCommand(request));
    const sdkChunks = (await collect(sdkStream.body!)).map((e) => Buffer.from(e.chunk!.bytes!).toString());
    const fastStream = await fast.invokeModelStream(request);
    const fastChunks = (await collect(fastStream.stream)).map((e) => Buffer.from(e.chunk!.bytes!).toString());
    // Invocation metrics carry timings; compare the event types and the text.
    const shape = (chunks: string[]) => chunks.map((c) => JSON.parse(c).type);
    expect(shape(fastChunks)).toEqual(shape(sdkChunks));
    expect(fastChunks.join('')).toContain('Say hi');
  });

  it('fails an HTTP error the way the error table reads the SDK error, retry-after included', async () => {
    const turn = { error: { name: 'ThrottlingException', message: 'Too many requests, please wait.' } };
    emulator.enqueue(turn, turn);
    const viaSdk = await failure(sdk.send(new ConverseCommand(input(QWEN))));
    const viaFast = await failure(fast.converse(input(QWEN)));
    expect(classifyBedrockError(viaFast)).toEqual(classifyBedrockError(viaSdk));
    expect(fromBedrockError(viaFast).toJSON()).toEqual(fromBedrockError(viaSdk).toJSON());
    expect(fromBedrockError(viaFast).headers).toEqual(fromBedrockError(viaSdk).headers);
    expect((viaFast as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(429);
  });

  it('throws an in-stream exception like the SDK does', async () => {
    const turn = {
      text: 'x'.repeat(200),
      errorAfterEvents: { events: 3, name: 'modelStreamErrorException', message: 'boom' },
    };
    emulator.enqueue(turn, turn);
    const sdkStream = await sdk.send(new ConverseStreamCommand(input(QWEN)));
    const viaSdk = await failure(collect(sdkStream.stream!));
    const fastStream = await fast.converseStream(input(QWEN));
    const viaFast = await failure(collect(fastStream.stream));
    expect((viaFast as Error).name).toBe((viaSdk as Error).name);
    expect(fromBedrockError(viaFast).toJSON()).toEqual(fromBedrockError(viaSdk).toJSON());
  });

  it('rejects wrong credentials as the credentials row', async () => {
    const wrong = new UndiciRuntime({
      region: 'us-east-1',
      credentials: async () => ({ ...TEST_CREDENTIALS, secretAccessKey: 'nope' }),
      sdkClient: async () => sdk,
      maxConnections: 1,
    });
    try {
      const err = await failure(wrong.converse(input(QWEN)));
      expect((err as Error).name).toBe('InvalidSignatureException');
      expect(fromBedrockError(err).status).toBe(502);
    } finally {
      await wrong.destroy();
    }
  });

  it('counts tokens like the SDK', async () => {
    const request = {
      modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      input: { converse: { messages: [{ role: 'user' as const, content: [{ text: 'Count me, please' }] }] } },
    };
    const viaSdk = await sdk.send(new CountTokensCommand(request));
    expect(await fast.countTokens(request)).toBe(viaSdk.inputTokens);
  });

  it('reports calls that wait for a connection, and only those', async () => {
    const waits: unknown[] = [];
    const narrow = new UndiciRuntime({
      region: 'us-east-1',
      credentials: async () => TEST_CREDENTIALS,
      sdkClient: async () => sdk,
      maxConnections: 2,
      onConnectionWait: (wait) => waits.push(wait),
    });
    try {
      emulator.enqueue({ delayMs: 300 }, { delayMs: 300 });
      await Promise.all([narrow.converse(input(QWEN)), narrow.converse(input(QWEN))]);
      expect(waits).toEqual([]);
      emulator.enqueue({ delayMs: 300 }, { delayMs: 300 }, { delayMs: 300 });
      await Promise.all([
        narrow.converse(input(QWEN)),
        narrow.converse(input(QWEN)),
        narrow.converse(input(QWEN)),
      ]);
      expect(waits).toEqual([{ waitedMs: expect.any(Number), maxConnections: 2 }]);
      expect((waits[0] as { waitedMs: number }).waitedMs).toBeGreaterThan(100);
    } finally {
      await narrow.destroy();
    }
  });

  it('closes the connections a burst left idle but the warm ones, and calls on', async () => {
    const burst = new UndiciRuntime({
      region: 'us-east-1',
      credentials: async () => TEST_CREDENTIALS,
      sdkClient: async () => sdk,
      maxConnections: 16,
    });
    try {
      const before = emulator.connections;
      emulator.enqueue(...Array.from({ length: 6 }, () => ({ delayMs: 200 })));
      await Promise.all(Array.from({ length: 6 }, () => burst.converse(input(QWEN))));
      expect(emulator.connections - before).toBe(6);
      // While a call runs, which connections are idle is not known: nothing is closed. (The call outlasts
      // the 100 ms wait by far, even on a machine the whole suite loads.)
      emulator.enqueue({ delayMs: 1_500 });
      const running = burst.converse(input(QWEN));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(burst.closeIdle(2)).toBe(0);
      await running;
      // Every connection but the two warm ones: the burst's six (a loaded machine may have had the
      // running call open a seventh, which is then closed too).
      const opened = emulator.connections - before;
      expect(opened).toBeGreaterThanOrEqual(6);
      expect(burst.closeIdle(2)).toBe(opened - 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(burst.closeIdle(2)).toBe(0);
      // Three calls at once: the two warm connections and one new one.
      emulator.enqueue(...Array.from({ length: 3 }, () => ({ delayMs: 100 })));
      const answers = await Promise.all(Array.from({ length: 3 }, () => burst.converse(input(QWEN))));
      expect(answers.every((a) => a.output?.message?.role === 'assistant')).toBe(true);
      expect(emulator.connections - before).toBe(opened + 1);
    } finally {
      await burst.destroy();
    }
  });

  it('stops at once when aborted', async () => {
    emulator.enqueue({ delayMs: 5_000 });
    const abort = new AbortController();
    const call = fast.converse(input(QWEN), abort.signal);
    setTimeout(() => abort.abort(new Error('client disconnected')), 20);
    const started = Date.now();
    await expect(call).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

/** An UndiciRuntime whose endpoint is `server` (a misbehaving stand-in for Bedrock), and its teardown. */
async function runtimeAgainst(server: Server) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = runtimeClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'h1-keepalive');
  const runtime = new UndiciRuntime({
    region: 'us-east-1',
    credentials: async () => TEST_CREDENTIALS,
    sdkClient: async () => client,
    maxConnections: 4,
  });
  const close = async () => {
    await runtime.destroy();
    client.destroy();
    server.closeAllConnections();
    server.close();
  };
  return { runtime, close };
}

describe('UndiciRuntime against an endpoint that answers too much', { timeout: 30_000 }, () => {
  it('refuses a whole answer over MAX_ANSWER_BYTES as a final 502, without holding it', async () => {
    const block = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      // Endless spaces (valid JSON whitespace): only the cap stops it.
      const more = () => {
        while (!res.destroyed && res.write(block)) sent += block.length;
        if (!res.destroyed) res.once('drain', more);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      more();
    });
    const { runtime, close } = await runtimeAgainst(server);
    try {
      const err = await failure(runtime.converse(input(QWEN)));
      expect((err as Error).name).toBe('UpstreamAnswerTooLarge');
      expect(fromBedrockError(err)).toMatchObject({ status: 502, type: 'api_error' });
      expect(sent).toBeLessThan(MAX_ANSWER_BYTES + 16 * block.length);
    } finally {
      await close();
    }
  });
});

describe('UndiciRuntime against an endpoint that answers 2xx with no JSON document', {
  timeout: 15_000,
}, () => {
  it('fails Converse and CountTokens as a retryable 502, not the gateway’s 500', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy says hello</html>');
    });
    const { runtime, close } = await runtimeAgainst(server);
    try {
      for (const call of [
        runtime.converse(input(QWEN)),
        runtime.countTokens({ modelId: QWEN, input: { converse: { messages: input(QWEN).messages } } }),
      ]) {
        const err = await failure(call);
        expect((err as Error).name).toBe('UpstreamAnswerMalformed');
        expect(fromBedrockError(err)).toMatchObject({ status: 502, type: 'api_error' });
      }
    } finally {
      await close();
    }
  });
});
