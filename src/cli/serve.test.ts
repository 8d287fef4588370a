import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from './errors.ts';
import { serve } from './serve.ts';

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
});
