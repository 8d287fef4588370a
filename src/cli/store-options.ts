/** The storage flags shared by `serve`, `keys` and `tables`, and how they become settings. */
import type { Command } from 'commander';
import { type Config, ConfigError, type Layer } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import { CliError, EXIT } from './errors.ts';

export interface StoreFlags {
  mode?: string;
  db?: string;
  tablePrefix?: string;
  region?: string;
  config?: string;
}

export function addStoreOptions(command: Command): Command {
  return command
    .option('--mode <mode>', 'storage: solo (SQLite file, default) or team (DynamoDB tables)')
    .option('--db <file>', 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)')
    .option(
      '--table-prefix <prefix>',
      'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin',
    )
    .option('--region <region>', 'AWS region')
    .option('-c, --config <file>', 'JSON config file');
}

export function storeLayer(flags: StoreFlags): Layer {
  return { mode: flags.mode, dbFile: flags.db, tablePrefix: flags.tablePrefix, region: flags.region };
}

/** Settings for an admin command; a bad flag or setting is a usage error (exit 2). */
export function adminConfig(flags: StoreFlags): Config {
  try {
    return loadConfig({ flags: storeLayer(flags), configFile: flags.config });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/** Socket errors of an endpoint that is down, wrong or behind a broken network: not bugs, no stack. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** An AWS failure an admin can act on, reworded; undefined for anything else. */
export function describeAwsError(
  err: unknown,
  config: Pick<Config, 'tablePrefix' | 'region'>,
): string | undefined {
  const { name, message } = (err ?? {}) as { name?: string; message?: string };
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return (
      `AWS denied access to DynamoDB in ${config.region} (${name}): ${message ?? ''}\n` +
      'The caller needs dynamodb:DescribeTable, CreateTable, DescribeTimeToLive, UpdateTimeToLive (for tables setup) ' +
      'and GetItem, PutItem, UpdateItem, Query, Scan, BatchWriteItem on the abproxy tables.'
    );
  }
  if (name === 'ResourceNotFoundException') {
    return `DynamoDB tables '${config.tablePrefix}-*' not found in ${config.region}: run 'abproxy tables setup' first`;
  }
  if (name === 'ValidationException') {
    // Keyed otherwise, or without an index abproxy uses: a table of the same name that is not abproxy's.
    return (
      `DynamoDB refused a request on '${config.tablePrefix}-*' in ${config.region} (${name}: ${message ?? ''}): ` +
      `are they abproxy's tables? 'abproxy tables setup --table-prefix ${config.tablePrefix} --dry-run' checks them`
    );
  }
  if (name === 'CredentialsProviderError') {
    return `no AWS credentials found: ${message ?? ''}`;
  }
  const code = (err as { code?: string }).code;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return `DynamoDB in ${config.region} could not be reached (${message ?? code}): check its endpoint (AWS_ENDPOINT_URL_DYNAMODB), the proxy and the network`;
  }
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && (name === 'Unknown' || name === 'SyntaxError')) {
    // No DynamoDB error in the answer: something else answered (a wrong endpoint, a proxy's error page).
    const said = name === 'Unknown' && message && message !== 'UnknownError' ? `: ${message}` : '';
    return `DynamoDB in ${config.region} got an answer that is not DynamoDB's (HTTP ${status}${said}): check its endpoint (AWS_ENDPOINT_URL_DYNAMODB) and the proxy`;
  }
  if (code === 'ETIMEDOUT' || name === 'TimeoutError') {
    return `DynamoDB in ${config.region} did not answer in time (${message ?? ''}): check its endpoint and the network`;
  }
  return undefined;
}

/** AWS failures an admin can act on, reworded; anything else is rethrown. */
export function explainAwsError(err: unknown, config: Pick<Config, 'tablePrefix' | 'region'>): never {
  const explained = describeAwsError(err, config);
  if (explained !== undefined) throw new CliError(explained);
  throw err;
}
