import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { secretArgument } from './secret-input.ts';

const stdin = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

describe('secrets from standard input', () => {
  it('passes a value that is not "-" through unread', async () => {
    expect(await secretArgument('abp_x', '--key', stdin('ignored'))).toBe('abp_x');
  });

  it('reads the first line for "-", across chunks, without its line ending', async () => {
    expect(await secretArgument('-', '--key', stdin('sk-ant-', 'abc\r\nsecond line'))).toBe('sk-ant-abc');
    expect(await secretArgument('-', '--key', stdin('  abp_no_newline  '))).toBe('abp_no_newline');
  });

  it('refuses empty input with a usage error', async () => {
    await expect(secretArgument('-', '--key', stdin(''))).rejects.toBeInstanceOf(CliError);
    await expect(secretArgument('-', '--key', stdin('\n'))).rejects.toThrow(
      /--key: standard input was empty/,
    );
  });
});
