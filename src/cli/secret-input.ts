/**
 * Secrets given as `-` are read from standard input, so they stay out of shell history and of the
 * process list (`ps` shows every argument): `printf %s "$KEY" | abproxy keys import -`.
 */
import { CliError, EXIT } from './errors.ts';

/** The argument that means "read it from standard input". */
export const FROM_STDIN = '-';

/** A key is a line; anything longer than this is not one. */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The first line of `input` (all of it without a line feed), surrounding spaces trimmed. Stops at the
 * first line feed, so a terminal user can paste and press Enter.
 */
export async function readSecretLine(input: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const end = buffer.indexOf(0x0a);
    chunks.push(end === -1 ? buffer : buffer.subarray(0, end));
    size += buffer.length;
    if (end !== -1) break;
    if (size > MAX_SECRET_BYTES)
      throw new CliError(`${what}: standard input is too long for a secret`, EXIT.usage);
  }
  const secret = Buffer.concat(chunks).toString('utf8').trim();
  if (secret === '') throw new CliError(`${what}: standard input was empty; pipe the secret in`, EXIT.usage);
  return secret;
}

/** `value`, or the secret read from standard input when it is `-`. */
export async function secretArgument(
  value: string,
  what: string,
  input: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  if (value !== FROM_STDIN) return value;
  const tty = input as Partial<NodeJS.ReadStream>;
  if (tty.isTTY && typeof tty.setRawMode === 'function') {
    process.stderr.write(`${what}: paste it and press Enter (it is not shown)\n`);
    return readHiddenLine(tty as NodeJS.ReadStream, what);
  }
  try {
    return await readSecretLine(input, what);
  } finally {
    // Let the process end: a paused stdin keeps nothing alive.
    (input as { pause?: () => void }).pause?.();
  }
}

/**
 * A line typed or pasted on a terminal, not echoed: in raw mode nothing is shown (the terminal would
 * otherwise keep the secret on screen and in its scroll-back). Backspace edits; Ctrl-C cancels.
 */
async function readHiddenLine(input: NodeJS.ReadStream, what: string): Promise<string> {
  input.setRawMode(true);
  input.resume();
  let text = '';
  try {
    for await (const chunk of input) {
      for (const ch of typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')) {
        if (ch === '\r' || ch === '\n') return nonEmpty(text.trim(), what);
        if (ch === '\u0003') throw new CliError(`${what}: cancelled`, EXIT.usage);
        if (ch === '\u007f' || ch === '\b') text = Array.from(text).slice(0, -1).join('');
        else text += ch;
        if (text.length > MAX_SECRET_BYTES)
          throw new CliError(`${what}: the input is too long for a secret`, EXIT.usage);
      }
    }
    return nonEmpty(text.trim(), what);
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

function nonEmpty(secret: string, what: string): string {
  if (secret === '') throw new CliError(`${what}: nothing was typed`, EXIT.usage);
  return secret;
}
