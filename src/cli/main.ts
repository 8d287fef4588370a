/** The `abproxy` program: commander wiring and the one place that exits the process. */
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { CliError, EXIT, type ExitCode } from './errors.ts';
import { registerServe, waitForSignal } from './serve.ts';

export function buildProgram(): Command {
  const program = new Command('abproxy')
    .description(pkg.description)
    .version(pkg.version, '-v, --version')
    .exitOverride()
    .showHelpAfterError();
  registerServe(program, { stdout: (line) => process.stdout.write(`${line}\n`), waitForStop: waitForSignal });
  return program;
}

/** Runs the CLI and returns the exit code (tests call this; main() exits with it). */
export async function run(argv: readonly string[]): Promise<ExitCode> {
  try {
    await buildProgram().parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`abproxy: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`abproxy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failure;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const code = await run(argv);
  process.exit(code);
}
