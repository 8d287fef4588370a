/**
 * The `abproxy` program: commander wiring and the one place that exits the process.
 *
 * Start-up stays fast (`--version`, `--help`, completions) because command modules import only light
 * things at the top; the AWS SDK, pino, ink and the store are imported inside the actions that need them.
 */
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { ConfigError } from '../config/parsers.ts';
import { terminalOutput } from '../text/terminal-text.ts';
import { registerAdmin } from './admin.ts';
import { registerClaude } from './claude.ts';
import { registerCompletion } from './completion.ts';
import { registerConfig } from './config.ts';
import { registerDoctor } from './doctor.ts';
import { CliError, CliExit, EXIT } from './errors.ts';
import { registerKeys } from './keys.ts';
import { registerLogin } from './login.ts';
import { registerModels } from './models.ts';
import { registerPrincipals } from './principals.ts';
import { holdHangups, registerServe, waitForSignal } from './serve.ts';
import { registerTables } from './tables.ts';
import { registerUsage } from './usage.ts';

export function buildProgram(): Command {
  const program = new Command('abproxy')
    .description(pkg.description)
    .version(pkg.version, '-v, --version')
    .exitOverride()
    .showHelpAfterError()
    // Lets `abproxy claude` pass options it does not know on to Claude Code.
    .enablePositionalOptions();
  // Outputs can hold client-chosen strings (model and key names): terminalOutput defuses control and
  // bidi characters (JSON stays the same value).
  const write = (text: string) => process.stdout.write(terminalOutput(text));
  const writeErr = (text: string) => process.stderr.write(terminalOutput(text));
  registerServe(program, {
    stdout: (line) => process.stdout.write(terminalOutput(`${line}\n`)),
    waitForStop: waitForSignal,
    holdHangups,
  });
  const stdout = (line: string) => process.stdout.write(terminalOutput(`${line}\n`));
  registerKeys(program, { stdout });
  registerPrincipals(program, { stdout });
  // The gateway's answers (its sign-in link, its errors) are text a spoofed gateway chooses: defused too.
  registerLogin(program, { stdout, stderr: (line) => writeErr(`${line}\n`), env: process.env });
  registerTables(program, { stdout });
  // CSV is written as it is (CRLF line ends); its cells are defused by usageCsv.
  registerUsage(program, { stdout, raw: (text) => process.stdout.write(text) });
  registerClaude(program, { stderr: writeErr, env: process.env });
  registerModels(program, { stdout: write, stderr: writeErr });
  registerConfig(program, { stdout: write, stderr: writeErr, env: process.env });
  registerDoctor(program, { stdout: write, env: process.env });
  registerAdmin(program, { stdout, env: process.env });
  // Our own script text, written as it is.
  registerCompletion(program, (text) => process.stdout.write(text));
  return program;
}

/** `--json` (or `--format json`) among abproxy's own arguments (not after `--`, and not in what `abproxy claude` passes on). */
function wantsJson(argv: readonly string[]): boolean {
  const own = argv.slice(2);
  const end = own.indexOf('--');
  const args = end === -1 ? own : own.slice(0, end);
  const json =
    args.includes('--json') ||
    args.includes('--format=json') ||
    args.some((arg, i) => arg === '--format' && args[i + 1] === 'json');
  return args[0] !== 'claude' && json;
}

/** System errors a person fixes on their machine (a path, a permission, a full disk, a port in use). */
const SETUP_ERROR_CODES = new Set([
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EROFS',
  'ENOSPC',
  'EEXIST',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_FULL',
]);

/**
 * A mistake in the set-up, not a bug: its message says what is wrong (a path, a setting, a file that is
 * not JSON), and a stack trace would only bury it. Bugs keep their stack.
 */
function isSetupMistake(err: Error): boolean {
  if (err instanceof ConfigError || err instanceof SyntaxError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && SETUP_ERROR_CODES.has(code);
}

/** Runs the CLI and returns the exit code (tests call this; main() exits with it). */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      if (err.exitCode === 0) return EXIT.ok;
      // Commander said what is wrong on stderr; a script reading --json output gets it on stdout too.
      if (wantsJson(argv)) {
        const message = err.message.replace(/^error: /, '');
        process.stdout.write(
          terminalOutput(`${JSON.stringify({ error: { message, exitCode: EXIT.usage } })}\n`),
        );
      }
      return EXIT.usage;
    }
    if (err instanceof CliExit) return err.exitCode;
    const exitCode = err instanceof CliError ? err.exitCode : EXIT.failure;
    const message = err instanceof Error ? err.message : String(err);
    if (wantsJson(argv)) {
      // Scripts read stdout: under --json a failure is JSON there too, with the exit code repeated.
      process.stdout.write(terminalOutput(`${JSON.stringify({ error: { message, exitCode } })}\n`));
      return exitCode;
    }
    const detail =
      err instanceof CliError || !(err instanceof Error) || isSetupMistake(err)
        ? message
        : (err.stack ?? message);
    process.stderr.write(terminalOutput(`abproxy: ${detail}\n`));
    return exitCode;
  }
}

/**
 * Resolves once what was written to `stream` has left the process. Writes to a pipe are asynchronous:
 * process.exit() drops what the reader has not taken yet (`usage --json | jq` got the first 64 KiB).
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export async function main(argv: readonly string[]): Promise<void> {
  let lost: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // The reader went away (`abproxy usage | head`): the rest of the output has nowhere to go. End
    // quietly, as Unix tools do, instead of with an unhandled EPIPE and its stack trace.
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    // Anything else (a full disk, a closed descriptor) lost output a script relies on (a new key's
    // secret): a failure, said once the command has ended.
    lost ??= err;
  });
  const code = await run(argv);
  // Exit explicitly (a store client or a timer may still hold the loop), but only after the output.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // A failed write reports its error on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  if (lost) {
    process.stderr.write(`abproxy: cannot write the output: ${lost.message}\n`);
    process.exit(code === EXIT.ok ? EXIT.failure : code);
  }
  process.exit(code);
}
