/**
 * A Bedrock stream that began and then falls silent is cut after ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS: the
 * client gets an in-stream `timeout_error` and the end of the stream, instead of pings for ever (the
 * gateway's pings keep the client's connection busy, so nothing else would end it). On both upstream
 * transports: undici over HTTP/1.1 (its body timeout) and the SDK's handler over HTTP/2 (the stream's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamHttp } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

let emulator: Emulator;
const gateways = new Map<UpstreamHttp, RunningServer>();

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  for (const http of ['1.1', '2'] as const) {
    gateways.set(
      http,
      await startServer(testConfig({ upstreamIdleTimeoutMs: 400, pingIntervalMs: 100, upstreamHttp: http })),
    );
  }
});
afterAll(async () => {
  for (const gateway of gateways.values()) await gateway.close();
  await emulator?.close();
});

/** A streamed /v1/messages call with the master key. */
function streamFrom(base: string, model: string): Promise<Response> {
  return fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': MASTER_KEY,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({
      model,
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'go' }],
    }),
  });
}

describe.each(['1.1', '2'] as const)('a stalled Bedrock stream, upstream HTTP/%s', (http) => {
  it.each([
    ['Converse', 'qwen.qwen3-coder-480b-a35b-v1:0'],
    ['Claude (InvokeModel)', 'claude-sonnet-4-5'],
  ])('%s: ends with a timeout_error once Bedrock is silent past the idle timeout', async (_path, model) => {
    emulator.reset();
    // The stream opens, then each text chunk comes 5 s after the last: longer than the gateway waits.
    emulator.enqueue({ text: 'abcdefghijkl', chunkSize: 4, chunkDelayMs: 5_000 });
    const started = performance.now();
    const res = await streamFrom(gateways.get(http)!.url, model);
    expect(res.status).toBe(200);
    const text = await res.text();
    const elapsed = performance.now() - started;
    expect(text).toContain('event: message_start');
    expect(text).toContain('event: ping');
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"timeout_error"/);
    expect(text).not.toContain('event: message_stop');
    expect(elapsed).toBeLessThan(4_500);
    // The upstream call went over the transport under test.
    const call = emulator.requests.find((r) => r.modelId !== undefined);
    expect(call?.httpVersion).toBe(http);
  });

  it('a stream that keeps talking is not cut, however long it runs', async () => {
    emulator.reset();
    // 6 chunks 250 ms apart: 1.5 s in all, each gap under the 400 ms idle timeout.
    emulator.enqueue({ text: 'abcdefghijkl', chunkSize: 2, chunkDelayMs: 250 });
    const res = await streamFrom(gateways.get(http)!.url, 'qwen.qwen3-coder-480b-a35b-v1:0');
    const text = await res.text();
    expect(text).toContain('event: message_stop');
    expect(text).not.toContain('event: error');
  });
});
