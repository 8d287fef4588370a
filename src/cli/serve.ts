/** `abproxy serve`: start the gateway, print one line with its URL, stop cleanly on SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { ConfigError, type Layer } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../server/logger.ts';
import { startServer } from '../server/server.ts';
import { CliError } from './errors.ts';

export interface ServeFlags {
  port?: string;
  host?: string;
  region?: string;
  config?: string;
}

export interface ServeIo {
  stdout: (line: string) => void;
  /** Resolves with the signal that asked us to stop. */
  waitForStop: () => Promise<string>;
}

export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function serve(flags: ServeFlags, io: ServeIo): Promise<void> {
  const layer: Layer = { port: flags.port, host: flags.host, region: flags.region };
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    const config = loadConfig({ flags: layer, configFile: flags.config });
    server = await startServer(config, { logger: createLogger(config.logLevel, config.apiKeyHeader) });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  io.stdout(`abproxy listening on ${server.url}`);
  await io.waitForStop();
  await server.close();
}

export function registerServe(program: Command, io: ServeIo): void {
  program
    .command('serve')
    .description('run the gateway (Anthropic Messages API → AWS Bedrock)')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--region <region>', 'AWS region for Bedrock')
    .option('-c, --config <file>', 'JSON config file')
    .action((flags: ServeFlags) => serve(flags, io));
}
