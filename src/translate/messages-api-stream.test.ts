import { describe, expect, it } from 'vitest';
import { classifyBedrockError } from '../upstream/aws-errors.ts';
import { MessagesApiStreamTranslator } from './messages-api-stream.ts';
import { ONE_TEXT_BLOCK } from './stream-events.fixture.ts';

const enc = new TextEncoder();
const frame = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

const START = frame('message_start', {
  type: 'message_start',
  message: {
    id: 'msg_bdrk_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [],
    stop_reason: null,
    usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 },
  },
});
const BLOCK = frame('content_block_start', {
  type: 'content_block_start',
  index: 0,
  content_block: { type: 'text', text: '' },
});
const DELTA = frame('content_block_delta', {
  type: 'content_block_delta',
  index: 0,
  delta: { type: 'text_delta', text: 'Hello there' },
});
const STOP_BLOCK = frame('content_block_stop', { type: 'content_block_stop', index: 0 });
const MESSAGE_DELTA = frame('message_delta', {
  type: 'message_delta',
  delta: { stop_reason: 'end_turn', stop_sequence: null },
  usage: { output_tokens: 7 },
});
const STOP = frame('message_stop', { type: 'message_stop' });

function run(chunks: string[]) {
  const t = new MessagesApiStreamTranslator({ model: 'claude-sonnet-4-5' });
  const out = [...t.start()];
  for (const chunk of chunks) out.push(...t.push(enc.encode(chunk)));
  return { t, out };
}

describe('MessagesApiStreamTranslator', () => {
  it('passes frames through as received, renames the model, reads usage exactly', () => {
    const all = START + BLOCK + DELTA + STOP_BLOCK + MESSAGE_DELTA + STOP;
    const { t, out } = run([all]);
    out.push(...t.end());
    expect(out.map((e) => e.type)).toEqual(ONE_TEXT_BLOCK);
    expect(
      out
        .slice(1)
        .map((e) => ('frame' in e ? e.frame : ''))
        .join(''),
    ).toBe(BLOCK + DELTA + STOP_BLOCK + MESSAGE_DELTA + STOP);
    expect('frame' in out[0]! && out[0].frame).toContain('"model":"claude-sonnet-4-5"');
    expect(t.usage()).toEqual({
      input_tokens: 12,
      output_tokens: 7,
      cache_read_input_tokens: 3,
      cache_creation_input_tokens: 4,
    });
    expect(t.usageIsEstimated).toBe(false);
  });

  it('reassembles frames split anywhere, even inside a UTF-8 character', () => {
    const all = enc.encode(START + DELTA.replace('Hello there', 'héllo 🌍') + MESSAGE_DELTA + STOP);
    const t = new MessagesApiStreamTranslator({ model: 'm' });
    const out = [];
    for (let i = 0; i < all.length; i += 7) out.push(...t.push(all.subarray(i, i + 7)));
    out.push(...t.end());
    expect(out.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_delta',
      'message_delta',
      'message_stop',
    ]);
    expect('frame' in out[1]! && out[1].frame).toContain('héllo 🌍');
  });

  it('maps a Bedrock stop reason and rewrites only that message_delta', () => {
    const guard = frame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'guardrail_intervened' },
      usage: { output_tokens: 2 },
    });
    const { out } = run([START + guard]);
    expect('frame' in out[1]! && out[1].frame).toContain('"stop_reason":"refusal"');
  });

  it('a cut stream estimates output from the text forwarded and fails at the end', () => {
    const { t } = run([START + BLOCK + DELTA + DELTA]);
    expect(() => t.end()).toThrow(/before message_stop/);
    expect(t.usageIsEstimated).toBe(true);
    expect(t.usage().output_tokens).toBeGreaterThanOrEqual(5);
  });

  it('an event: error goes out after the frames before it, then maps through the fault table', () => {
    const error = frame('error', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    const t = new MessagesApiStreamTranslator({ model: 'm' });
    const out = t.push(enc.encode(START + DELTA + error));
    expect(out.map((e) => e.type)).toEqual(['message_start', 'content_block_delta']);
    let thrown: unknown;
    try {
      t.end();
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).toBe('Overloaded');
    expect(classifyBedrockError(thrown)).toMatchObject({ type: 'overloaded_error', status: 529 });
  });
});
