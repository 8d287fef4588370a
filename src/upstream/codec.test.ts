import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventFrame, exceptionFrame } from '../../test/emulator/eventstream.ts';
import { checkJsonAnswer, converseEvents } from './codec.ts';

describe('stream exception frames', () => {
  it('carry no credential an endpoint echoed, and no unbounded message, to the client and the logs', async () => {
    const echoed = `upstream refused Bearer ${'k'.repeat(40)} and ABSK${'Q'.repeat(40)} ${'x'.repeat(10_000)}`;
    const body = Readable.from([
      Buffer.from(eventFrame('messageStart', { role: 'assistant' })),
      Buffer.from(exceptionFrame('validationException', echoed)),
    ]);
    const seen: unknown[] = [];
    const failure = await (async () => {
      try {
        for await (const event of converseEvents(body)) seen.push(event);
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    expect(seen).toEqual([{ messageStart: { role: 'assistant' } }]);
    expect(failure?.name).toBe('ValidationException');
    expect(failure?.message).toContain('upstream refused [redacted] and [redacted]');
    expect(failure?.message).not.toMatch(/kkkk|QQQQ/);
    expect(failure!.message.length).toBeLessThanOrEqual(4096);
  });
});

describe('checkJsonAnswer', () => {
  const bytes = (text: string) => Buffer.from(text);

  it('passes a JSON object, with or without a content type and around blank space', () => {
    expect(() => checkJsonAnswer(bytes('{"id":"msg_1"}'), 'application/json')).not.toThrow();
    expect(() => checkJsonAnswer(bytes(' \n{"a":1}\r\n'), undefined)).not.toThrow();
  });

  it.each([
    ['an HTML page', '<html><body>Sign in</body></html>', 'text/html; charset=utf-8'],
    ['an HTML page with no type', '<html><body>Sign in</body></html>', undefined],
    ['a cut body', '{"id":"msg_1","content":[{"type":"te', 'application/json'],
    ['an array', '[1,2]', 'application/json'],
    ['nothing', '', 'application/json'],
  ])('refuses %s as a malformed upstream answer', (_what, body, type) => {
    expect(() => checkJsonAnswer(bytes(body), type)).toThrow(
      expect.objectContaining({ name: 'UpstreamAnswerMalformed' }),
    );
  });
});
