/**
 * The SSE of Bedrock's Messages API (the `messages` and `mantle` Claude paths) as a hostile or broken
 * upstream could send it: split at every byte, CRLF line ends split between their two bytes, one huge
 * frame in tiny chunks, a line that never ends. The translator must read the same frames whatever the
 * chunking, stay linear, and refuse (an api_error for the fault table, not unbounded memory) a frame
 * no Claude model sends.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/anthropic/errors.ts';
import { MAX_SSE_FRAME_CHARS, MessagesApiStreamTranslator } from '../../src/translate/messages-api-stream.ts';

const enc = new TextEncoder();
const frame = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
const START = frame('message_start', {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'x',
    content: [],
    usage: { input_tokens: 5, output_tokens: 1 },
  },
});
const delta = (text: string) =>
  frame('content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text },
  });
const END =
  frame('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn' },
    usage: { output_tokens: 3 },
  }) + frame('message_stop', { type: 'message_stop' });

function feed(bytes: Uint8Array, size: number) {
  const t = new MessagesApiStreamTranslator({ model: 'claude-sonnet-4-5' });
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...t.push(bytes.subarray(i, i + size)));
  out.push(...t.end());
  return out;
}

describe('Messages API SSE from a hostile upstream', () => {
  it('CRLF line ends split at every byte read as the same frames as whole', () => {
    const crlf = enc.encode((START + delta('héllo') + END).replaceAll('\n', '\r\n'));
    const whole = feed(crlf, crlf.length).map((e) => e.type);
    expect(whole).toEqual(['message_start', 'content_block_delta', 'message_delta', 'message_stop']);
    expect(feed(crlf, 1).map((e) => e.type)).toEqual(whole);
    expect(feed(crlf, 2).map((e) => e.type)).toEqual(whole);
  });

  it('one large frame arriving in small chunks costs linear time', { timeout: 120_000 }, () => {
    const time = (chars: number) => {
      const bytes = enc.encode(START + delta('x'.repeat(chars)) + END);
      const start = performance.now();
      const out = feed(bytes, 16);
      expect(out.map((e) => e.type)).toContain('message_stop');
      return performance.now() - start;
    };
    time(16_000); // warm-up
    const small = Math.min(time(16_000), time(16_000));
    const large = Math.min(time(512_000), time(512_000));
    // 32× the size: linear code near 32, quadratic near 1,000.
    expect(large / small, `512 kB: ${large.toFixed(0)} ms, 16 kB: ${small.toFixed(1)} ms`).toBeLessThan(200);
  });

  it('a line that never ends is refused once it passes the frame limit, not buffered for ever', () => {
    const t = new MessagesApiStreamTranslator({ model: 'claude-sonnet-4-5' });
    t.push(enc.encode(START));
    const chunk = enc.encode('x'.repeat(64 * 1024));
    let thrown: unknown;
    try {
      for (let sent = 0; sent <= MAX_SSE_FRAME_CHARS + chunk.length; sent += chunk.length) {
        t.push(enc.encode(sent === 0 ? 'data: ' : ''));
        t.push(chunk);
      }
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).type).toBe('api_error');
  });
});
