import { describe, expect, it } from 'vitest';
import { formatSse, formatSseEvent } from './sse.ts';

describe('formatSseEvent', () => {
  it('frames an event with its type as the event name and the JSON on one data line', () => {
    expect(formatSseEvent({ type: 'message_stop' })).toBe(
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
  });

  it('keeps newlines inside text escaped so a frame never splits', () => {
    const frame = formatSseEvent({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'line1\n\nline2\r\nevent: fake' },
    });
    expect(frame.split('\n\n')).toEqual([expect.stringMatching(/^event: content_block_delta\ndata: \{/), '']);
    expect(JSON.parse(frame.split('\n')[1]?.slice('data: '.length) ?? '').delta.text).toBe(
      'line1\n\nline2\r\nevent: fake',
    );
  });

  it('rejects CR or LF in event names', () => {
    expect(() => formatSse('ping\ndata: x', {})).toThrow(/invalid SSE event name/);
    expect(() => formatSse('ping\r', {})).toThrow(/invalid SSE event name/);
    expect(() => formatSse('', {})).toThrow(/invalid SSE event name/);
  });

  it('keeps multi-byte characters intact', () => {
    const frame = formatSseEvent({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: '你好 👋🏽' },
    });
    expect(Buffer.from(frame, 'utf8').toString('utf8')).toContain('你好 👋🏽');
  });
});
