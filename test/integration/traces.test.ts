/**
 * OpenTelemetry traces end to end: the gateway (in-process, on the Bedrock emulator) exports to a local
 * OTLP/HTTP receiver; the Anthropic SDK is the client. The span tree, the GenAI attributes with the
 * emulator's real numbers, W3C traceparent propagation, the trace id header, content redaction, both
 * protocols, failover attempts, the flush on drain, and nothing exported when tracing is off.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/server/http/logger.ts';
import type { RunningServer } from '../../src/server/http/server.ts';
import { startServer } from '../../src/server/http/server.ts';
import type { WebTools } from '../../src/tools/web/types.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import type { UsageRecord } from '../../src/usage/types.ts';
import { startEmulator } from '../emulator/server.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../fakes/otlp-receiver.ts';
import {
  ask,
  type Emulator,
  emulatorUpstream,
  MASTER_KEY,
  sampled,
  startBedrockEmulator,
  testConfig,
} from '../helpers/gateway.ts';
import { until } from '../helpers/wait.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const USAGE = { inputTokens: 1234, outputTokens: 56, cacheReadInputTokens: 700, cacheWriteInputTokens: 300 };
const SECRET_PROMPT = 'the launch code is swordfish-4711';
const SECRET_ANSWER = 'confidential reply text 9931';

const clientTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpanId = '00f067aa0ba902b7';
const traceparent = `00-${clientTraceId}-${clientSpanId}-01`;

let emulator: Emulator;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator?.close();
});
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  emulator.reset();
});

interface Traced {
  gateway: RunningServer;
  receiver: OtlpReceiver;
  client: Anthropic;
}

async function traced(
  env: Record<string, string> = {},
  overrides = {},
  options: Parameters<typeof startServer>[1] = {},
): Promise<Traced> {
  const receiver = await startOtlpReceiver();
  open.push(receiver);
  const gateway = await startServer(
    testConfig(overrides, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      ...env,
    }),
    options,
  );
  open.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
  return { gateway, receiver, client };
}

const inTrace = (spans: ReceivedSpan[], traceId: string) => spans.filter((s) => s.traceId === traceId);
const named = (spans: ReceivedSpan[], name: string | RegExp) =>
  spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
const serverSpan = (spans: ReceivedSpan[]) => spans.find((s) => s.kind === SERVER)!;

/** Waits until the trace's server span (the last to end) has arrived. */
async function trace(receiver: OtlpReceiver, traceId: string, count?: number): Promise<ReceivedSpan[]> {
  const spans = await receiver.waitFor((all) => {
    const mine = inTrace(all, traceId);
    return mine.some((s) => s.kind === SERVER) && (count === undefined || mine.length >= count);
  });
  return inTrace(spans, traceId);
}

/** The usage record of the request in trace `traceId`, once the spool moved it to the store. */
async function waitForRecord(gateway: RunningServer, traceId: string): Promise<UsageRecord> {
  let record: UsageRecord | undefined;
  await until(async () => {
    const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00Z' });
    record = records.find((r) => r.traceId === traceId && r.status !== 0);
    return record !== undefined;
  }, 10_000);
  if (!record) throw new Error(`no usage record for trace ${traceId}`);
  return record;
}

/** Every attribute and event value of the spans, as one text. */
const allText = (spans: ReceivedSpan[]) => JSON.stringify(spans.map((s) => [s.attributes, s.events]));

describe('traces (http/json)', () => {
  it('a streamed call: server span under the client traceparent → auth and limits, attempt, stream; GenAI attributes', async () => {
    const { receiver, client } = await traced();
    emulator.enqueue({ text: 'hello there', chunkSize: 3, usage: USAGE });
    const session = 'f3c1d2e4-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
    const streamed = client.messages.stream(
      { model: CLAUDE, max_tokens: 100, messages: ask(SECRET_PROMPT) },
      { headers: { traceparent, 'x-claude-code-session-id': session } },
    );
    const { response } = await streamed.withResponse();
    expect(response.headers.get('x-abproxy-trace-id')).toBe(clientTraceId);
    const answer = await streamed.finalMessage();

    const spans = await trace(receiver, clientTraceId, 4);
    const server = serverSpan(spans);
    expect(server.name).toBe('POST /v1/messages');
    expect(server.parentSpanId).toBe(clientSpanId);
    expect(server.resource['service.name']).toBe('abproxy');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/messages',
      'http.response.status_code': 200,
      'gen_ai.conversation.id': session,
    });
    expect(server.attributes['abproxy.time_to_first_token']).toBeGreaterThan(0);

    const children = spans.filter((s) => s.parentSpanId === server.spanId);
    expect(children.map((s) => s.name).sort()).toEqual(
      ['auth and limits', `chat ${CLAUDE}`, 'stream'].sort(),
    );
    const attempt = children.find((s) => s.kind === CLIENT)!;
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.request.model': CLAUDE,
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.stream': true,
      'gen_ai.usage.input_tokens': 1234 + 700 + 300,
      'gen_ai.usage.output_tokens': 56,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.response.id': answer.id,
      'gen_ai.conversation.id': session,
      'rpc.method': 'InvokeModelWithResponseStream',
      'abproxy.upstream': 'default',
      'cloud.region': 'us-east-1',
    });
    const bedrockCall = emulator.requests.find((r) => r.operation === 'InvokeModelWithResponseStream');
    expect(bedrockCall).toBeDefined();
    expect(attempt.attributes['aws.request_id']).toMatch(/^[0-9a-f-]{36}$/);
    const stream = named(children, 'stream')[0]!;
    expect(stream.events.map((e) => e.name)).toContain('abproxy.first_token');
    expect(stream.attributes['abproxy.time_to_first_token']).toBeGreaterThan(0);

    // No prompt or completion text without ABPROXY_TRACE_CONTENT.
    expect(allText(spans)).not.toContain('swordfish');
    expect(allText(spans)).not.toContain('hello there');
  });

  it('a streamed attempt span lasts until Bedrock’s stream ends, and fails when the stream fails mid-way', async () => {
    const { receiver, client } = await traced();
    // Ten deltas 40 ms apart: the answer takes ~400 ms after its headers.
    emulator.enqueue({ text: 'x'.repeat(40), chunkSize: 4, chunkDelayMs: 40 });
    await client.messages
      .stream({ model: CLAUDE, max_tokens: 100, messages: ask('hi') }, { headers: { traceparent } })
      .finalMessage();
    const spans = await trace(receiver, clientTraceId, 4);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.endMs - attempt.startMs).toBeGreaterThanOrEqual(300);
    expect(attempt.statusCode).toBe(0);

    const failingTrace = '2'.repeat(32);
    emulator.enqueue({
      text: 'a longer answer that breaks',
      chunkSize: 2,
      errorAfterEvents: { events: 4, name: 'modelStreamErrorException', message: 'boom' },
    });
    const err = await client.messages
      .stream(
        { model: QWEN, max_tokens: 100, messages: ask('hi') },
        { headers: { traceparent: `00-${failingTrace}-${clientSpanId}-01` } },
      )
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const failed = (await trace(receiver, failingTrace, 4)).find((s) => s.kind === CLIENT)!;
    expect(failed.attributes['rpc.method']).toBe('ConverseStream');
    expect(failed.statusCode).toBe(ERROR);
    expect(failed.attributes['error.type']).toMatch(/modelStreamErrorException/i);
    expect(failed.events.map((e) => e.name)).toContain('exception');
  });

  it('a client that leaves mid-stream: the attempt span still has the tokens its usage record bills', async () => {
    const { receiver, client, gateway } = await traced();
    emulator.enqueue({ text: 'y'.repeat(400), chunkSize: 4, chunkDelayMs: 20 });
    const leave = new AbortController();
    const stream = client.messages.stream(
      { model: CLAUDE, max_tokens: 1000, messages: ask('hi') },
      { headers: { traceparent }, signal: leave.signal },
    );
    let events = 0;
    await (async () => {
      for await (const _event of stream) if (++events === 8) leave.abort();
    })().catch(() => undefined);

    const spans = await trace(receiver, clientTraceId, 4);
    expect(named(spans, 'stream')[0]!.attributes).toMatchObject({ 'abproxy.client_disconnected': true });
    const record = await waitForRecord(gateway, clientTraceId);
    expect(record).toMatchObject({ status: 499, interrupted: true });
    expect(record.outputTokens).toBeGreaterThan(0);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.attributes['gen_ai.usage.input_tokens']).toBe(record.inputTokens);
    expect(attempt.attributes['gen_ai.usage.output_tokens']).toBe(record.outputTokens);
  });

  it('a call without traceparent starts a new trace whose id is in the response header', async () => {
    const { receiver, client } = await traced();
    emulator.enqueue({ text: 'converse answer', usage: { inputTokens: 11, outputTokens: 7 } });
    const { response, data } = await client.messages
      .create(sampled({ model: QWEN, max_tokens: 64, temperature: 0.5, messages: ask('hi') }))
      .withResponse();
    const traceId = response.headers.get('x-abproxy-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await trace(receiver, traceId!, 3);
    const server = serverSpan(spans);
    expect(server.parentSpanId).toBe('');
    expect(server.attributes['gen_ai.conversation.id']).toBeUndefined();
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.attributes).toMatchObject({
      'gen_ai.request.model': QWEN,
      'gen_ai.request.temperature': 0.5,
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.request.stream': false,
      'gen_ai.response.id': data.id,
    });
    expect(attempt.attributes['rpc.method']).toBe('Converse');
    expect(attempt.attributes['aws.request_id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(named(spans, 'stream')).toHaveLength(0);
  });

  it('count_tokens gets its own server span with a count_tokens attempt', async () => {
    const { receiver, gateway } = await traced();
    const res = await fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ model: CLAUDE, messages: ask('count me') }),
    });
    expect(res.status).toBe(200);
    const spans = await trace(receiver, clientTraceId, 3);
    expect(serverSpan(spans).name).toBe('POST /v1/messages/count_tokens');
    expect(named(spans, /^count_tokens /)).toHaveLength(1);
  });

  it('an upstream fault: the attempt span has error status and type, the server span the exception', async () => {
    const { receiver, client } = await traced();
    emulator.enqueue({ error: { name: 'ValidationException', message: 'bad input for this model' } });
    const err = await client.messages
      .create({ model: QWEN, max_tokens: 10, messages: ask('hi') }, { headers: { traceparent } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const spans = await trace(receiver, clientTraceId, 3);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.statusCode).toBe(ERROR);
    expect(attempt.attributes['error.type']).toBe('ValidationException');
    expect(attempt.attributes['http.response.status_code']).toBe(400);
    expect(attempt.events.map((e) => e.name)).toContain('exception');
    const server = serverSpan(spans);
    expect(server.attributes['http.response.status_code']).toBe(400);
    expect(server.attributes['error.type']).toBe('invalid_request_error');
    expect(server.events.map((e) => e.name)).toContain('exception');
  });

  it('a refused key: the auth and limits span fails, no upstream attempt', async () => {
    const { receiver, gateway } = await traced();
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'abp_wrong', 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ model: CLAUDE, max_tokens: 10, messages: ask('hi') }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-abproxy-trace-id')).toBe(clientTraceId);
    const spans = await trace(receiver, clientTraceId, 2);
    const auth = named(spans, 'auth and limits')[0]!;
    expect(auth.statusCode).toBe(ERROR);
    expect(auth.attributes['error.type']).toBe('authentication_error');
    expect(spans.filter((s) => s.kind === CLIENT)).toHaveLength(0);
  });
});

describe('traces: other settings', () => {
  it('http/protobuf exports the same tree', async () => {
    const { receiver, client } = await traced({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
    emulator.enqueue({ text: 'hello there', usage: USAGE });
    await client.messages
      .stream({ model: CLAUDE, max_tokens: 100, messages: ask('hi') }, { headers: { traceparent } })
      .finalMessage();
    const spans = await trace(receiver, clientTraceId, 4);
    expect(receiver.contentTypes.every((t) => t === 'application/x-protobuf')).toBe(true);
    expect(receiver.paths.every((p) => p === '/v1/traces')).toBe(true);
    const server = serverSpan(spans);
    expect(server.parentSpanId).toBe(clientSpanId);
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(spans.find((s) => s.kind === CLIENT)!.attributes['gen_ai.usage.output_tokens']).toBe(56);
    expect(spans.filter((s) => s.parentSpanId === server.spanId).map((s) => s.name)).toHaveLength(3);
  });

  it('ABPROXY_TRACE_CONTENT=true puts the prompt and the completion on the attempt span', async () => {
    const { receiver, client } = await traced({ ABPROXY_TRACE_CONTENT: 'true' });
    emulator.enqueue({ text: SECRET_ANSWER, chunkSize: 4 }, { text: SECRET_ANSWER });
    await client.messages
      .stream(
        { model: CLAUDE, max_tokens: 100, system: 'be brief', messages: ask(SECRET_PROMPT) },
        { headers: { traceparent } },
      )
      .finalMessage();
    const spans = await trace(receiver, clientTraceId, 4);
    const streamed = spans.find((s) => s.kind === CLIENT)!;
    const json = (span: ReceivedSpan, name: string) => JSON.parse(String(span.attributes[name]));
    expect(json(streamed, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: SECRET_PROMPT }] },
    ]);
    expect(json(streamed, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'be brief' }]);
    const answer = [
      { role: 'assistant', parts: [{ type: 'text', content: SECRET_ANSWER }], finish_reason: 'end_turn' },
    ];
    expect(json(streamed, 'gen_ai.output.messages')).toEqual(answer);
    // The retired gen_ai.content.* events are gone, and the server span holds no text.
    expect(allText(spans)).not.toContain('gen_ai.content.');
    expect(allText([serverSpan(spans)])).not.toContain(SECRET_PROMPT);

    const { response } = await client.messages
      .create({ model: QWEN, max_tokens: 100, messages: ask(SECRET_PROMPT) })
      .withResponse();
    const created = (await trace(receiver, response.headers.get('x-abproxy-trace-id')!, 3)).find(
      (s) => s.kind === CLIENT,
    )!;
    expect(json(created, 'gen_ai.output.messages')).toEqual(answer);
  });

  it('OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS are used', async () => {
    const { receiver, client } = await traced({
      OTEL_SERVICE_NAME: 'gateway-eu',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=ml%20ops',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cret',
    });
    emulator.enqueue({ text: 'hi' });
    await client.messages.create(
      { model: QWEN, max_tokens: 10, messages: ask('hi') },
      { headers: { traceparent } },
    );
    const server = serverSpan(await trace(receiver, clientTraceId));
    expect(server.resource).toMatchObject({
      'service.name': 'gateway-eu',
      'deployment.environment': 'test',
      team: 'ml ops',
    });
    expect(receiver.headers[0]?.['x-collector-key']).toBe('s3cret');
  });

  it('the spans still queued are flushed when the gateway drains', async () => {
    const { gateway, receiver, client } = await traced({ OTEL_BSP_SCHEDULE_DELAY: '600000' });
    emulator.enqueue({ text: 'hi' });
    await client.messages.create(
      { model: QWEN, max_tokens: 10, messages: ask('hi') },
      { headers: { traceparent } },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.spans).toHaveLength(0);
    await gateway.close();
    expect(inTrace(receiver.spans, clientTraceId).length).toBeGreaterThanOrEqual(3);
  });

  for (const [what, env] of [
    ['no OTEL_* setting', { OTEL_EXPORTER_OTLP_ENDPOINT: '' }],
    ['OTEL_SDK_DISABLED=true with an endpoint', { OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', { OTEL_TRACES_EXPORTER: 'none' }],
  ] as const) {
    it(`nothing is exported with ${what}`, async () => {
      const { gateway, receiver, client } = await traced(env);
      emulator.enqueue({ text: 'hi' });
      const { response } = await client.messages
        .create({ model: QWEN, max_tokens: 10, messages: ask('hi') })
        .withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get('x-abproxy-trace-id')).toBeNull();
      await gateway.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.paths).toEqual([]);
    });
  }

  it('a collector that refuses the export is a warning in the log (no credentials), not a failure', async () => {
    const refusing = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-type': 'text/plain' }).end('no'));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as AddressInfo).port;
    open.push({ close: () => new Promise<void>((resolve) => refusing.close(() => resolve())) });
    const lines: string[] = [];
    const logger = createLogger('info', 'x-api-key', { write: (line: string) => lines.push(line) });
    const gateway = await startServer(
      testConfig(
        {},
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:pw@127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-secret',
          OTEL_BSP_SCHEDULE_DELAY: '20',
        },
      ),
      { logger },
    );
    open.push(gateway);
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    emulator.enqueue({ text: 'hi' });
    const message = await client.messages.create({ model: QWEN, max_tokens: 10, messages: ask('hi') });
    expect(message.content[0]).toMatchObject({ text: 'hi' });
    for (let i = 0; i < 400 && !lines.some((l) => l.includes('OpenTelemetry export failed')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const log = lines.join('');
    expect(log).toContain('OpenTelemetry export failed');
    expect(log).toContain(`http://127.0.0.1:${port}/v1/traces`);
    expect(log).not.toContain('collector-secret');
    expect(log).not.toContain('user:pw');
  }, 40_000);

  it('the sampler is honoured: always_off exports nothing, a parent that did not sample is followed', async () => {
    const off = await traced({ OTEL_TRACES_SAMPLER: 'always_off' });
    emulator.enqueue({ text: 'hi' });
    const { response } = await off.client.messages
      .create({ model: QWEN, max_tokens: 10, messages: ask('hi') })
      .withResponse();
    expect(response.headers.get('x-abproxy-trace-id')).toMatch(/^[0-9a-f]{32}$/);

    const parentBased = await traced();
    emulator.enqueue({ text: 'hi' }, { text: 'hi' });
    const unsampled = `00-${clientTraceId}-${clientSpanId}-00`;
    await parentBased.client.messages.create(
      { model: QWEN, max_tokens: 10, messages: ask('hi') },
      { headers: { traceparent: unsampled } },
    );
    // A sampled call afterwards shows the exporter works: only it arrives.
    await parentBased.client.messages.create(
      { model: QWEN, max_tokens: 10, messages: ask('hi') },
      { headers: { traceparent: `00-${'1'.repeat(32)}-${clientSpanId}-01` } },
    );
    await trace(parentBased.receiver, '1'.repeat(32), 3);
    await off.gateway.close();
    expect(off.receiver.spans).toEqual([]);
    expect(inTrace(parentBased.receiver.spans, clientTraceId)).toEqual([]);
  });

  it('gRPC is refused at start-up with a clear message when traces are on, ignored when off', async () => {
    const receiver = await startOtlpReceiver();
    open.push(receiver);
    const grpc = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    await expect(
      startServer(testConfig({}, { ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })),
    ).rejects.toThrow(/grpc is not supported/);
    const gateway = await startServer(testConfig({}, grpc));
    open.push(gateway);
  });
});

describe('traces: the answer on every path', () => {
  const stopped = { name: 'fake', search: async () => [] };
  /** Web tools that find one page for any query. */
  const webTools: WebTools = {
    search: {
      ...stopped,
      search: async () => [{ url: 'https://example.com/a', title: 'A', content: 'page text' }],
    },
    fetch: async () => {
      throw new Error('not used');
    },
  };
  const searchThenAnswer = () =>
    emulator.enqueue(
      { toolCalls: [{ name: 'web_search', input: { query: 'q' } }] },
      { text: 'found it', usage: { inputTokens: 40, outputTokens: 4 } },
    );
  const webSearchTool = [{ type: 'web_search_20250305', name: 'web_search' }] as never;

  for (const [what, overrides, stream, script, tools] of [
    ['the invoke Claude path, not streamed', {}, false, undefined, undefined],
    ['the messages Claude path, not streamed', { claudePath: 'messages' }, false, undefined, undefined],
    ['the web search loop, not streamed', {}, false, searchThenAnswer, webSearchTool],
    ['the web search loop, streamed', {}, true, searchThenAnswer, webSearchTool],
  ] as const) {
    it(`${what}: each attempt span has its own call's tokens, the answering one the finish reason`, async () => {
      const { receiver, client } = await traced({}, overrides, { webTools });
      if (script) script();
      else emulator.enqueue({ text: 'hello', usage: { inputTokens: 40, outputTokens: 4 } });
      const body = {
        model: CLAUDE,
        max_tokens: 100,
        messages: ask('hi'),
        ...(tools ? { tools } : {}),
      };
      const message = stream
        ? await client.messages.stream(body, { headers: { traceparent } }).finalMessage()
        : await client.messages.create(body, { headers: { traceparent } });
      expect(message.stop_reason).toBe('end_turn');
      const spans = await trace(receiver, clientTraceId);
      // One attempt per model call (two with web search), each with its own tokens: their sum is the
      // request's; the last one answered.
      const attempts = spans.filter((s) => s.kind === CLIENT);
      expect(attempts).toHaveLength(script ? 2 : 1);
      const outputs = attempts.map((s) => s.attributes['gen_ai.usage.output_tokens'] as number);
      for (const output of outputs) expect(output).toBeGreaterThan(0);
      expect(outputs.reduce((a, b) => a + b, 0)).toBe(message.usage.output_tokens);
      const last = attempts.sort((a, b) => a.startMs - b.startMs).at(-1)!;
      expect(last.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['end_turn'] });
      if (script) expect(last.attributes['gen_ai.usage.output_tokens']).toBe(4);
      if (stream) {
        const streamSpan = named(spans, 'stream')[0];
        expect(streamSpan?.events.map((e) => e.name)).toContain('abproxy.first_token');
      }
    });
  }
});

/** A traced gateway on a pool of two emulators, primary (us-east-1) then secondary (us-west-2). */
async function twoUpstreams() {
  const primary = await startEmulator({ port: 0 });
  const secondary = await startEmulator({ port: 0 });
  open.push(primary, secondary);
  const upstreams = parseUpstreams(
    [
      emulatorUpstream('primary', 'us-east-1', primary),
      emulatorUpstream('secondary', 'us-west-2', secondary),
    ],
    'ABPROXY_UPSTREAMS',
  );
  return { primary, secondary, ...(await traced({}, { upstreams })) };
}

describe('traces with two upstreams', () => {
  it('a stream whose first frame is an exception: the primary’s attempt span failed, the secondary’s did not', async () => {
    const { primary, secondary, receiver, client } = await twoUpstreams();
    primary.enqueue({
      text: 'never sent',
      errorAfterEvents: { events: 0, name: 'ThrottlingException', message: 'in-stream throttle' },
    });
    secondary.enqueue({ text: 'from the secondary' });
    await client.messages
      .stream({ model: QWEN, max_tokens: 10, messages: ask('hi') }, { headers: { traceparent } })
      .finalMessage();
    const attempts = (await trace(receiver, clientTraceId, 5)).filter((s) => s.kind === CLIENT);
    expect(attempts.map((s) => [s.attributes['abproxy.upstream'], s.statusCode])).toEqual([
      ['primary', ERROR],
      ['secondary', 0],
    ]);
    expect(attempts[0]!.attributes['error.type']).toMatch(/ThrottlingException/i);
  });

  it('a failover shows as two attempt spans: the failed one on the primary, then the secondary', async () => {
    const { primary, receiver, client } = await twoUpstreams();
    primary.enqueue({ error: { name: 'ServiceUnavailableException' } });
    const { response } = await client.messages
      .create({ model: CLAUDE, max_tokens: 10, messages: ask('hi') }, { headers: { traceparent } })
      .withResponse();
    expect(response.headers.get('x-abproxy-upstream')).toBe('secondary');
    const spans = await trace(receiver, clientTraceId, 4);
    const attempts = spans.filter((s) => s.kind === CLIENT);
    expect(
      attempts.map((s) => [s.attributes['abproxy.upstream'], s.attributes['cloud.region'], s.statusCode]),
    ).toEqual([
      ['primary', 'us-east-1', ERROR],
      ['secondary', 'us-west-2', 0],
    ]);
    expect(attempts[0]!.attributes['error.type']).toBe('ServiceUnavailableException');
    expect(serverSpan(spans).attributes).toMatchObject({
      'abproxy.upstream': 'secondary',
      'abproxy.failed_attempts': 1,
    });
  });
});

/** InvokeModel(WithResponseStream) with Claude's own body on the Bedrock-format door, under a trace. */
async function invokeThroughDoor(base: string, model: string, operation: string, traceId: string) {
  const invoked = await fetch(`${base}/model/${encodeURIComponent(model)}/${operation}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${MASTER_KEY}`,
      'content-type': 'application/json',
      traceparent: `00-${traceId}-${clientSpanId}-01`,
    },
    body: JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  expect(invoked.status).toBe(200);
  await invoked.arrayBuffer();
}

describe('traces: the attempt span is the GenAI span', () => {
  const genAiSpans = (spans: ReceivedSpan[]) => spans.filter((s) => s.attributes['gen_ai.operation.name']);

  it('a streamed call: the attempt span has the model, usage, finish reason and id; the server span is no second GenAI call', async () => {
    const { receiver, client } = await traced();
    emulator.enqueue({ text: 'hello there', chunkSize: 3, usage: USAGE });
    const answer = await client.messages
      .stream({ model: CLAUDE, max_tokens: 100, messages: ask('hi') }, { headers: { traceparent } })
      .finalMessage();
    const spans = await trace(receiver, clientTraceId, 4);
    expect(genAiSpans(spans).map((s) => s.kind)).toEqual([CLIENT]);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.name).toBe(`chat ${CLAUDE}`);
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.request.model': CLAUDE,
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.stream': true,
      'gen_ai.usage.input_tokens': 1234 + 700 + 300,
      'gen_ai.usage.output_tokens': 56,
      'gen_ai.usage.cache_read.input_tokens': 700,
      'gen_ai.usage.cache_write.input_tokens': 300,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.response.id': answer.id,
    });
    expect(attempt.attributes['gen_ai.response.model']).toMatch(/anthropic\.claude-sonnet-4-5/);
    expect(attempt.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    const server = serverSpan(spans);
    for (const name of Object.keys(server.attributes)) {
      expect(name).not.toMatch(/^gen_ai\.(operation|provider|system|request|response|usage)/);
    }
  });

  it('a failover: the failed attempt has error.type, the answering one the usage (counted once)', async () => {
    const { primary, secondary, receiver, client } = await twoUpstreams();
    primary.enqueue({ error: { name: 'ServiceUnavailableException' } });
    secondary.enqueue({ text: 'ok', usage: { inputTokens: 20, outputTokens: 3 } });
    await client.messages.create(
      { model: QWEN, max_tokens: 10, messages: ask('hi') },
      { headers: { traceparent } },
    );
    const attempts = (await trace(receiver, clientTraceId, 4)).filter((s) => s.kind === CLIENT);
    expect(
      attempts.map((s) => [s.attributes['error.type'], s.attributes['gen_ai.usage.output_tokens']]),
    ).toEqual([
      ['ServiceUnavailableException', undefined],
      [undefined, 3],
    ]);
    expect(attempts[1]!.attributes['gen_ai.request.stream']).toBe(false);
  });

  it('span names carry the catalogued model, or `unknown`: never the client’s own string', async () => {
    const { receiver, client } = await traced();
    const madeUp = `my-private-model-${'z'.repeat(40)}`;
    emulator.enqueue({ text: 'ok' });
    await client.messages
      .create({ model: madeUp, max_tokens: 10, messages: ask('hi') }, { headers: { traceparent } })
      .catch(() => undefined);
    const spans = await trace(receiver, clientTraceId, 3);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.name).toBe('chat unknown');
    expect(attempt.attributes['gen_ai.request.model']).toBe(madeUp);
    expect(spans.map((s) => s.name).join(' ')).not.toContain(madeUp);
  });

  it('the Bedrock-format door: Converse and ConverseStream get the same GenAI attempt span', async () => {
    const { receiver, gateway } = await traced();
    emulator.enqueue({ text: 'door answer', usage: { inputTokens: 31, outputTokens: 4 } });
    const res = await fetch(`${gateway.url}/model/${encodeURIComponent(QWEN)}/converse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const spans = await trace(receiver, clientTraceId, 3);
    expect(genAiSpans(spans).map((s) => s.kind)).toEqual([CLIENT]);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.name).toBe(`chat ${QWEN}`);
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': QWEN,
      'gen_ai.response.model': QWEN,
      'gen_ai.request.stream': false,
      'gen_ai.usage.input_tokens': 31,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.response.finish_reasons': ['end_turn'],
    });

    const streamTrace = '3'.repeat(32);
    emulator.enqueue({
      text: 'streamed door answer',
      chunkSize: 3,
      usage: { inputTokens: 12, outputTokens: 5 },
    });
    const streamed = await fetch(`${gateway.url}/model/${encodeURIComponent(QWEN)}/converse-stream`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${MASTER_KEY}`,
        'content-type': 'application/json',
        traceparent: `00-${streamTrace}-${clientSpanId}-01`,
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    });
    expect(streamed.status).toBe(200);
    await streamed.arrayBuffer();
    const streamAttempt = (await trace(receiver, streamTrace, 3)).find((s) => s.kind === CLIENT)!;
    expect(streamAttempt.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.response.finish_reasons': ['end_turn'],
    });

    // InvokeModel with Claude's own body: the message id and stop reason of Claude's answer, whole
    // and streamed.
    const claude = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    for (const [operation, traceId] of [
      ['invoke', '4'.repeat(32)],
      ['invoke-with-response-stream', '5'.repeat(32)],
    ] as const) {
      emulator.enqueue({ text: 'claude via the door', chunkSize: 4 });
      await invokeThroughDoor(gateway.url, claude, operation, traceId);
      const invokeAttempt = (await trace(receiver, traceId, 3)).find((s) => s.kind === CLIENT)!;
      // The catalogue's one name for the model, as on /v1/messages.
      expect(invokeAttempt.name).toBe('chat claude-sonnet-4-5-20250929');
      expect(invokeAttempt.attributes['gen_ai.response.finish_reasons']).toEqual(['end_turn']);
      expect(invokeAttempt.attributes['gen_ai.response.id']).toMatch(/^msg_/);
      expect(invokeAttempt.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
  });

  it('the Bedrock-format door on a Claude model only mantle serves: the answer’s id and finish reason, whole and streamed', async () => {
    const { receiver, gateway } = await traced();
    const opus = 'us.anthropic.claude-opus-5-5';
    for (const [operation, traceId] of [
      ['invoke', '6'.repeat(32)],
      ['invoke-with-response-stream', '7'.repeat(32)],
    ] as const) {
      emulator.enqueue({ text: 'opus via the door', chunkSize: 4, stopReason: 'max_tokens' });
      await invokeThroughDoor(gateway.url, opus, operation, traceId);
      const attempt = (await trace(receiver, traceId, 3)).find((s) => s.kind === CLIENT)!;
      expect(attempt.attributes['gen_ai.response.finish_reasons'], operation).toEqual(['max_tokens']);
      expect(attempt.attributes['gen_ai.response.id'], operation).toMatch(/^msg_/);
      expect(attempt.attributes['gen_ai.usage.output_tokens'], operation).toBeGreaterThan(0);
    }
  });
});
