/** Exit codes of the CLI, defined once; only main() turns them into process.exit. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * Ends a command with a given exit code and no further message: the command has already said what
 * happened (`doctor`'s failed checks, or the exit code of the `claude` it ran).
 */
export class CliExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
    this.exitCode = exitCode;
  }
}
