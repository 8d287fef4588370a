import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from './errors.ts';
import { serve, waitForFatal } from './serve.ts';

describe('serve', () => {
  it('ends a bad flag as a usage error (exit 2), before listening', async () => {
    const lines: string[] = [];
    const err = await serve(
      { port: 'not-a-port', plain: true },
      { stdout: (line) => lines.push(line), waitForStop: () => new Promise(() => {}) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.usage);
    expect(lines).toEqual([]);
  });

  it('takes the first uncaught error only: a second one is left to Node (exit at once)', async () => {
    const proc = new EventEmitter();
    const fatal = waitForFatal(proc);
    expect(proc.listenerCount('uncaughtException')).toBe(1);
    expect(proc.listenerCount('unhandledRejection')).toBe(1);
    const first = new Error('first');
    proc.emit('unhandledRejection', first, Promise.resolve());
    expect(await fatal).toBe(first);
    expect(proc.listenerCount('uncaughtException')).toBe(0);
    expect(proc.listenerCount('unhandledRejection')).toBe(0);
  });
});
