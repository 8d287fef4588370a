/** `abproxy tables setup`: the team-mode DynamoDB tables, from the one schema in store/schema.ts. */
import type { Command } from 'commander';
import type { TableReport } from '../store/dynamodb-setup.ts';
import { tableSchemas } from '../store/schema.ts';
import { CliError } from './errors.ts';
import { adminConfig, explainAwsError } from './store-options.ts';

export interface TablesIo {
  stdout: (line: string) => void;
}

interface SetupFlags {
  tablePrefix?: string;
  region?: string;
  config?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * Creates or checks the tables one at a time; `step` hears the name of each before its create/wait
 * (the progress line of `tables setup`).
 */
export async function collectTableSetup(
  flags: SetupFlags,
  step: (text: string) => void = () => {},
): Promise<{ region: string; tables: TableReport[] }> {
  const config = adminConfig({ tablePrefix: flags.tablePrefix, region: flags.region, config: flags.config });
  // Imported here: the DynamoDB SDK is heavy and other commands must not load it.
  const [{ dynamoClient }, { setupTables }] = await Promise.all([
    import('../store/dynamodb.ts'),
    import('../store/dynamodb-setup.ts'),
  ]);
  const client = dynamoClient(config.region);
  try {
    const dryRun = flags.dryRun === true;
    const tables: TableReport[] = [];
    for (const schema of tableSchemas(config.tablePrefix)) {
      step(`${schema.tableName}: ${dryRun ? 'checking' : 'creating if missing, waiting until ACTIVE'}`);
      tables.push(...(await setupTables(client, [schema], { dryRun })));
    }
    return { region: config.region, tables };
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as Error).name === 'TableMismatchError') throw new CliError((err as Error).message);
    // The waiter's TimeoutError; the HTTP layer's (ETIMEDOUT: DynamoDB stopped answering) is explained below.
    if (
      (err as { name?: string; code?: string }).name === 'TimeoutError' &&
      (err as { code?: string }).code !== 'ETIMEDOUT'
    ) {
      throw new CliError('timed out waiting for the tables to become ACTIVE');
    }
    return explainAwsError(err, config);
  } finally {
    client.destroy();
  }
}

function printTableSetup(result: { region: string; tables: TableReport[] }, io: TablesIo): void {
  for (const t of result.tables) {
    const ttl = t.ttl === 'none' ? '' : `, TTL ${t.ttl.replace('-', ' ')}`;
    io.stdout(`${t.table}: ${t.action.replace('-', ' ')} (${t.status}${ttl})`);
  }
}

export function registerTables(program: Command, io: TablesIo): void {
  const tables = program.command('tables').description('team mode: DynamoDB tables');
  tables
    .command('setup')
    .description('create the missing tables, wait until ACTIVE, enable TTL (never changes existing tables)')
    .option('--table-prefix <prefix>', 'tables are <prefix>-keys, -usage, -limits, -signin (default abproxy)')
    .option('--region <region>', 'AWS region')
    .option('--dry-run', 'only say what would be created')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (flags: SetupFlags) => {
      const { withProgress } = await import('../ui/index.ts');
      const result = await withProgress(
        `${flags.dryRun ? 'checking' : 'setting up'} the DynamoDB tables`,
        (step) => collectTableSetup(flags, step),
        {
          enabled: !flags.json,
          doneText: (r) => `${r.tables.length} tables ${flags.dryRun ? 'checked' : 'ready'} in ${r.region}`,
        },
      );
      if (flags.json) io.stdout(JSON.stringify(result));
      else printTableSetup(result, io);
    });
}
