/**
 * Traces from `abproxy serve` as a user runs it: the OTEL_* variables in its environment, one call with
 * a traceparent, then SIGTERM: the spans still queued (a long batch delay) reach the receiver before
 * the process exits 0.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startEmulator } from '../emulator/server.ts';
import { startOtlpReceiver } from '../fakes/otlp-receiver.ts';
import { emulatorAwsEnv, MASTER_KEY } from '../helpers/gateway.ts';
import { type Spawned, servingUrl, spawnAbproxy } from '../helpers/process.ts';

const open: { close(): Promise<void> }[] = [];
let serve: Spawned | undefined;
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  for (const thing of open.splice(0).reverse()) await thing.close();
});

it('abproxy serve exports the request trace, flushed on SIGTERM', async () => {
  const emulator = await startEmulator({ port: 0 });
  const receiver = await startOtlpReceiver();
  open.push(emulator, receiver);
  serve = spawnAbproxy(['serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-otel-')),
      ...emulatorAwsEnv(emulator.url),
      MASTER_API_KEY: MASTER_KEY,
      LOG_LEVEL: 'error',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'abproxy-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    },
  });
  const url = await servingUrl(serve);
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  emulator.enqueue({ text: 'hello', usage: { inputTokens: 5, outputTokens: 2 } });
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': MASTER_KEY,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      traceparent: `00-${traceId}-b7ad6b7169203331-01`,
    },
    body: JSON.stringify({
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-abproxy-trace-id')).toBe(traceId);
  await res.text();
  expect(receiver.spans).toHaveLength(0);
  serve.proc.kill('SIGTERM');
  expect((await serve.exited).code).toBe(0);
  const spans = receiver.spans.filter((s) => s.traceId === traceId);
  expect(spans.map((s) => s.name).sort()).toEqual(
    ['POST /v1/messages', 'auth and limits', 'chat qwen.qwen3-coder-480b-a35b-v1:0'].sort(),
  );
  const server = spans.find((s) => s.name === 'POST /v1/messages')!;
  expect(server.parentSpanId).toBe('b7ad6b7169203331');
  expect(server.resource['service.name']).toBe('abproxy-under-test');
  const attempt = spans.find((s) => s.name.startsWith('chat '))!;
  expect(attempt.attributes).toMatchObject({
    'gen_ai.usage.input_tokens': 5,
    'gen_ai.usage.output_tokens': 2,
  });
});
