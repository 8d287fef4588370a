/**
 * `abproxy serve`: start the gateway, print one line with its URL. The first SIGINT/SIGTERM drains
 * (in-flight streams finish, up to the drain timeout; then exit 0); a second one exits at once with 1.
 * SIGHUP drains on a terminal (it closed) and is ignored without one (nohup).
 * Node handles the signals itself, so this is safe as PID 1 in a container. An uncaught exception or
 * unhandled rejection (a bug, ours or a library's) drains the same way, then exits with 1.
 */
import type { Command } from 'commander';
import { ConfigError, type Layer } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import { ListenError } from '../server/http/listen-error.ts';
import type { Logger } from '../server/http/logger.ts';
import type { RunningServer } from '../server/http/server.ts';
import { LogTail, richOutput, startDashboard } from '../ui/index.ts';
import { CliError, EXIT } from './errors.ts';
import {
  clearGatewayState,
  findRunningGateway,
  newInstanceSecret,
  writeGatewayState,
} from './gateway-state.ts';

export interface ServeFlags {
  port?: string;
  host?: string;
  region?: string;
  config?: string;
  /** No live dashboard even on a terminal. */
  plain?: boolean;
  /** Storage: solo|team, the SQLite file, the DynamoDB table prefix. */
  mode?: string;
  db?: string;
  tablePrefix?: string;
}

export interface ServeIo {
  stdout: (line: string) => void;
  /** Resolves with the next signal that asks us to stop (called again during the drain). */
  waitForStop: (duringDrain?: boolean) => Promise<string>;
  /** Takes SIGHUP from Node's default action (holdHangups; the process's own signals only). */
  holdHangups?: (log: Pick<Logger, 'info'>) => void;
  /** Resolves with the first uncaught error (waitForFatal by default). */
  waitForFatal?: () => Promise<unknown>;
  /** Whether stdout is a terminal to draw the live dashboard on (richOutput() by default). */
  richOutput?: () => boolean;
}

/**
 * The first argument of whichever of `events` comes first; every listener is removed then (one left on
 * SIGINT would keep Node from ending the process on the next one).
 */
function firstOf<T>(target: NodeJS.EventEmitter, events: readonly string[]): Promise<T> {
  return new Promise((resolve) => {
    const onEvent = (value: T) => {
      for (const event of events) target.off(event, onEvent);
      resolve(value);
    };
    for (const event of events) target.on(event, onEvent);
  });
}

/** Whether `serve` runs on a terminal: nohup (and a service manager) leaves none of the three on one. */
export function onTerminal(): boolean {
  return process.stdin.isTTY === true || process.stdout.isTTY === true || process.stderr.isTTY === true;
}

/**
 * The signal that starts the drain. SIGHUP (the terminal closed) drains too when `serve` runs on a
 * terminal; during the drain only SIGINT/SIGTERM mean "exit now" (a closing terminal can send SIGHUP
 * twice: the kernel's and the shell's).
 */
export function waitForSignal(duringDrain = false): Promise<string> {
  return firstOf(
    process,
    !duringDrain && onTerminal() ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM'],
  );
}

/**
 * Keeps SIGHUP's default action (exit on the spot, no drain) away for good. Node resets the "ignore"
 * that `nohup` sets, so a gateway started with `nohup abproxy serve &` died at logout: without a
 * terminal, SIGHUP is ignored here, as nohup meant; on one, waitForSignal drains on it.
 */
export function holdHangups(log: Pick<Logger, 'info'>, target: NodeJS.EventEmitter = process): void {
  let told = false;
  target.on('SIGHUP', () => {
    if (onTerminal() || told) return;
    told = true;
    log.info('SIGHUP ignored (no terminal: nohup or a service); stop the gateway with SIGTERM');
  });
}

/**
 * Resolves with the first uncaught exception or unhandled rejection. Node would exit at once and cut
 * every stream in flight; `serve` logs the error and drains instead, as for SIGTERM, then exits with 1
 * for its supervisor to start it again. The listeners go with the first error, so a second one during
 * the drain ends the process at once (Node's own behaviour).
 */
export function waitForFatal(target: NodeJS.EventEmitter = process): Promise<unknown> {
  return firstOf(target, ['uncaughtException', 'unhandledRejection']);
}

export async function serve(flags: ServeFlags, io: ServeIo): Promise<void> {
  const layer: Layer = {
    port: flags.port,
    host: flags.host,
    region: flags.region,
    mode: flags.mode,
    dbFile: flags.db,
    tablePrefix: flags.tablePrefix,
  };
  let server: RunningServer;
  let logger: Logger;
  let home = '';
  // Proves to `abproxy claude` and `doctor` that this process is the one the state file names.
  const instanceSecret = newInstanceSecret();
  const dashboard = !flags.plain && (io.richOutput ?? (() => richOutput()))();
  // Log lines written to the terminal the dashboard redraws would tear it: the dashboard shows the last
  // ones instead, until it stops. Logs redirected elsewhere keep going there.
  const tail = new LogTail(5);
  const sink = {
    target: dashboard && process.stderr.isTTY ? tail : undefined,
    write(chunk: string): boolean {
      return (this.target ?? process.stderr).write(chunk);
    },
  };
  try {
    const config = loadConfig({ flags: layer, configFile: flags.config });
    home = config.home;
    // Imported here, not at the top: the AWS SDK and pino would slow every other command's start.
    const [{ createLogger }, { startServer }, tuning] = await Promise.all([
      import('../server/http/logger.ts'),
      import('../server/http/server.ts'),
      // bin/abproxy.js re-executed `serve` with its runtime tuning: the rest of it is applied in here.
      process.env.ABPROXY_NODE_TUNED ? import('./serve-tuning.ts') : undefined,
    ]);
    logger = createLogger(config.logLevel, config.apiKeyHeader, sink.target ? sink : 2);
    const gcExposed = tuning?.exposeGc() ?? false;
    server = await startServer(config, { logger, instanceSecret });
    // After the start-up's modules compiled (with their code caches): see serve-tuning.ts.
    if (tuning) {
      const heapTuned = tuning.tuneOldGeneration();
      logger.debug(
        { gcExposed, heapGrowing: heapTuned ? tuning.HEAP_GROWING_FLAG : 'chosen' },
        'runtime tuning',
      );
    }
  } catch (err) {
    // A bad flag or setting is a usage error, as for every other command.
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    if (err instanceof ListenError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
  // Lets `abproxy claude` and `abproxy doctor` find this gateway; best effort (a read-only home is fine).
  // Written before the ready line, so whoever waits for that line can rely on the state file.
  // Another live gateway of this home keeps its state file: taken over, and removed when this one
  // stopped, it would leave the first running with no way for `abproxy claude` or `admin` to find it.
  const running = await findRunningGateway(home).catch(() => undefined);
  if (running && running.pid !== process.pid) {
    logger?.warn(
      { url: running.url, pid: running.pid },
      'another gateway of this ABPROXY_HOME is running: abproxy claude and admin keep using it',
    );
  } else {
    try {
      writeGatewayState(home, {
        url: server.url,
        pid: process.pid,
        started: new Date().toISOString(),
        secret: instanceSecret,
      });
    } catch {}
  }
  // Waiting for the stop signal before the ready line: whoever reads that line may stop the gateway at
  // once, and a signal with no listener yet would kill it without its drain.
  const stop = io.waitForStop();
  io.holdHangups?.(logger);
  // Logged whenever it comes, during the drain too (its listener would otherwise swallow it).
  let failed = false;
  const fatal = (io.waitForFatal ?? waitForFatal)().then((err) => {
    failed = true;
    sink.target = undefined; // to stderr even under the dashboard: the exit message points to it
    logger.fatal({ err }, 'uncaught error: draining in-flight requests, then exiting');
  });
  io.stdout(`abproxy listening on ${server.url}`);
  let live: Awaited<ReturnType<typeof startDashboard>> | undefined;
  if (dashboard) {
    try {
      live = await startDashboard({
        url: server.url,
        read: () => server.stats.snapshot(),
        readLogs: tail.lines,
      });
    } catch (err) {
      // The gateway matters more than its dashboard: keep serving, with plain logs.
      sink.target = undefined;
      process.stderr.write(`abproxy: no live dashboard (${(err as Error).message}); serving on\n`);
    }
  }
  await Promise.race([stop, fatal]);
  // Listen for the second signal before anything else awaits, so it always means "exit now".
  const forced = io.waitForStop(true).then((signal) => {
    throw new CliError(`${signal} during the drain: stopped without waiting for in-flight requests`);
  });
  forced.catch(() => {});
  await live?.stop();
  sink.target = undefined;
  try {
    await Promise.race([server.close(), forced]);
  } finally {
    clearGatewayState(home);
  }
  if (failed)
    throw new CliError('stopped after an uncaught error (logged above); in-flight requests were drained');
}

export function registerServe(program: Command, io: ServeIo): void {
  program
    .command('serve')
    .description('run the gateway (Anthropic Messages API → AWS Bedrock)')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--region <region>', 'AWS region for Bedrock')
    .option('-c, --config <file>', 'JSON config file')
    .option('--plain', 'no live dashboard on a terminal')
    .option('--mode <mode>', 'storage: solo (SQLite file, default) or team (DynamoDB tables)')
    .option('--db <file>', 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)')
    .option(
      '--table-prefix <prefix>',
      'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin',
    )
    .action((flags: ServeFlags) => serve(flags, io));
}
