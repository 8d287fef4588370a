import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventFrame, exceptionFrame } from '../../test/emulator/eventstream.ts';
import { converseEvents } from './codec.ts';

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
