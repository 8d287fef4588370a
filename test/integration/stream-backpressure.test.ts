/**
 * A client that stops reading mid-stream holds the stream back, it does not lose it: a long answer
 * (megabytes of SSE, tens of thousands of events, more than the socket buffers hold) streamed to a client that
 * pauses after the first bytes arrives whole and in order once it reads again — on the Converse path
 * and on the native Claude path (the stream pump pauses Bedrock's body and resumes it on drain).
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY } from '../helpers/gateway.ts';

const suite = gatewayWithEmulator({ claudePath: 'invoke' });

/** Streams one request with a client that pauses `pauseMs` after the first chunk; the text deltas joined. */
function streamWithPause(model: string, pauseMs: number): Promise<{ text: string; stops: number }> {
  const url = new URL('/v1/messages', suite.gateway.url);
  const body = JSON.stringify({
    model,
    max_tokens: 100_000,
    stream: true,
    messages: [{ role: 'user', content: 'go' }],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        'x-api-key': MASTER_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      const chunks: Buffer[] = [];
      let paused = false;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (!paused) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('error', reject);
      res.on('end', () => {
        let text = '';
        let stops = 0;
        for (const frame of Buffer.concat(chunks).toString('utf8').split('\n\n')) {
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (!data) continue;
          const event = JSON.parse(data.slice(6));
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
            text += event.delta.text;
          if (event.type === 'message_stop') stops++;
        }
        resolve({ text, stops });
      });
    });
    req.end(body);
  });
}

/**
 * Text that shows any reordering or loss, within every model's output cap (the emulator stops at it),
 * in 1-character deltas: 120,000 events, over 12 MB of SSE (more than the socket buffers take).
 */
const LONG_TEXT = Array.from({ length: 20_000 }, (_, i) => `w${i} `)
  .join('')
  .slice(0, 120_000);

describe('a client that stops reading mid-stream', () => {
  for (const [path, model] of [
    ['Converse', 'qwen.qwen3-coder-480b-a35b-v1:0'],
    ['native Claude (InvokeModel)', 'claude-sonnet-4-5'],
  ] as const) {
    it(`gets the whole answer, in order, once it reads again (${path})`, { timeout: 60_000 }, async () => {
      suite.emulator.enqueue({ text: LONG_TEXT, chunkSize: 1 });
      const { text, stops } = await streamWithPause(model, 500);
      expect(text.length).toBe(LONG_TEXT.length);
      expect(text === LONG_TEXT).toBe(true);
      expect(stops).toBe(1);
    });
  }
});
