/**
 * `abproxy serve` on a machine whose clock is wrong by more than AWS's five minutes (a container or VM
 * whose clock drifted, a host back from sleep). AWS refuses such a signature (403 InvalidSignatureException,
 * "Signature expired" / "Signature not yet current") and dates its answer with its own time; the AWS SDK
 * learns the offset from that `Date` and signs again. The gateway must recover the same way on every
 * path that signs (its own SigV4 on the HTTP/1.1 transport and the Messages API, the SDK's on HTTP/2),
 * not fail every call until someone fixes the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulator/server.ts';
import { type Emulator, hiBody, postMessages, serveOnEmulator } from '../helpers/gateway.ts';

const MINUTE = 60_000;

describe('a gateway whose clock is off by more than AWS allows', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  afterAll(() => emulator?.close());

  const gateway = (upstreamHttp: '1.1' | '2', claudePath?: string) =>
    serveOnEmulator(emulator, {
      ABPROXY_UPSTREAM_HTTP: upstreamHttp,
      ...(claudePath === undefined ? {} : { ABPROXY_CLAUDE_PATH: claudePath }),
    });

  async function ask(url: string, model: string, stream: boolean) {
    const res = await postMessages(url, hiBody(model, stream));
    return { status: res.status, text: await res.text() };
  }

  const calls = [
    ['qwen.qwen3-coder-480b-a35b-v1:0', false],
    ['qwen.qwen3-coder-480b-a35b-v1:0', true],
    ['claude-sonnet-4-5', false],
    ['claude-sonnet-4-5', true],
  ] as const;

  it.each([
    ['1.1', 7 * MINUTE, undefined],
    ['1.1', -7 * MINUTE, undefined],
    ['2', 7 * MINUTE, undefined],
    ['1.1', 7 * MINUTE, 'messages'],
    ['2', -7 * MINUTE, 'messages'],
    ['1.1', 7 * MINUTE, 'mantle'],
  ] as const)(
    'ABPROXY_UPSTREAM_HTTP=%s, AWS %d ms ahead, Claude path %s: every call answers',
    async (setting, offset, claudePath) => {
      // Wrong from the start: the catalogue's first listings meet it too.
      emulator.reset();
      emulator.setClockOffset(offset);
      const { serve, url } = await gateway(setting, claudePath);
      try {
        for (const [model, stream] of calls) {
          const { status, text } = await ask(url, model, stream);
          expect(status, `${model} stream=${stream}: ${text}`).toBe(200);
        }
        if (claudePath !== undefined) {
          const messagesApi = emulator.requests.filter((r) => r.operation === 'MessagesApi');
          expect(messagesApi.map((r) => r.status)).toContain(200);
        }
        // The control plane (the SDK's clients) recovered as well: the catalogue was read from Bedrock.
        const listings = emulator.requests.filter((r) => r.operation === 'ListFoundationModels');
        expect(listings.map((r) => r.status)).toContain(200);
      } finally {
        emulator.setClockOffset(0);
        await serve.stop();
      }
    },
    60_000,
  );
});
