/**
 * `tables setup`: makes the team-mode tables match schema.ts. Creates what is missing, leaves what
 * exists (it never changes or deletes a table), waits for ACTIVE and turns TTL on where the schema
 * has one. A dry run only describes.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, type TableSchema } from './schema.ts';

export type TableAction = 'created' | 'exists' | 'would-create';

/** An existing table of the same name with another key schema (abproxy never changes a table). */
export class TableMismatchError extends Error {
  override name = 'TableMismatchError';
}
export type TtlState = 'enabled' | 'enabled-now' | 'would-enable' | 'none';

export interface TableReport {
  role: TableSchema['role'];
  table: string;
  action: TableAction;
  status: string;
  ttl: TtlState;
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof ResourceNotFoundException ||
    (err as { name?: string }).name === 'ResourceNotFoundException'
  );
}

/**
 * What differs between an existing table and the schema abproxy reads it with (its keys and indexes),
 * or undefined: a table of the same name made for something else must be said, not used.
 */
function schemaMismatch(schema: TableSchema, table: TableDescription): string | undefined {
  const keyOf = (type: string) => table.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
  const wanted = `${schema.partitionKey}${schema.sortKey ? ` + ${schema.sortKey}` : ''}`;
  const found = `${keyOf('HASH') ?? '?'}${keyOf('RANGE') ? ` + ${keyOf('RANGE')}` : ''}`;
  if (found !== wanted) return `${schema.tableName} is keyed by ${found}, not ${wanted}`;
  const indexes = new Set(table.GlobalSecondaryIndexes?.map((i) => i.IndexName));
  const missing = schema.indexes.filter((i) => !indexes.has(i.indexName)).map((i) => i.indexName);
  if (missing.length > 0)
    return `${schema.tableName} lacks the index${missing.length > 1 ? 'es' : ''} ${missing.join(', ')}`;
  return undefined;
}

/** The tables' problems (missing, or another schema); an empty list when all are abproxy's. */
export async function tableProblems(
  client: DynamoDBClient,
  schemas: readonly TableSchema[],
): Promise<string[]> {
  const problems = await Promise.all(
    schemas.map(async (schema) => {
      const table = await describeTable(client, schema.tableName);
      return table ? schemaMismatch(schema, table) : `${schema.tableName} does not exist`;
    }),
  );
  return problems.filter((p): p is string => p !== undefined);
}

/** The table's description, or undefined when there is no such table. */
async function describeTable(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: name }));
    return out.Table ?? {};
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function tableStatus(client: DynamoDBClient, name: string): Promise<string | undefined> {
  const table = await describeTable(client, name);
  return table && (table.TableStatus ?? 'UNKNOWN');
}

async function ttlEnabled(client: DynamoDBClient, name: string): Promise<boolean> {
  const out = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  const status = out.TimeToLiveDescription?.TimeToLiveStatus;
  return status === 'ENABLED' || status === 'ENABLING';
}

export async function setupTables(
  client: DynamoDBClient,
  schemas: readonly TableSchema[],
  { dryRun = false, maxWaitSeconds = 300 }: { dryRun?: boolean; maxWaitSeconds?: number } = {},
): Promise<TableReport[]> {
  const reports: TableReport[] = [];
  for (const schema of schemas) {
    const table = await describeTable(client, schema.tableName);
    const existing = table && (table.TableStatus ?? 'UNKNOWN');
    const problem = table && schemaMismatch(schema, table);
    if (problem)
      throw new TableMismatchError(`${problem}: it is not an abproxy table; use another --table-prefix`);
    if (dryRun) {
      const ttl = !schema.ttlAttribute
        ? 'none'
        : existing && (await ttlEnabled(client, schema.tableName))
          ? 'enabled'
          : 'would-enable';
      reports.push({
        role: schema.role,
        table: schema.tableName,
        action: existing ? 'exists' : 'would-create',
        status: existing ?? 'MISSING',
        ttl,
      });
      continue;
    }
    let status = existing;
    let created = false;
    if (!existing) {
      try {
        const out = await client.send(new CreateTableCommand(createTableInput(schema)));
        status = out.TableDescription?.TableStatus;
        created = true;
      } catch (err) {
        // Another `tables setup` may have created it in the meantime; that is fine (and it said so).
        if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
      }
    }
    if (status !== 'ACTIVE') {
      await waitUntilTableExists(
        { client, maxWaitTime: maxWaitSeconds, minDelay: 1, maxDelay: 5 },
        { TableName: schema.tableName },
      );
    }
    let ttl: TtlState = 'none';
    if (schema.ttlAttribute) {
      if (await ttlEnabled(client, schema.tableName)) ttl = 'enabled';
      else {
        try {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: schema.tableName,
              TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true },
            }),
          );
          ttl = 'enabled-now';
        } catch (err) {
          // Another `tables setup` turned it on between our look and our call: that is fine too.
          if (!/already enabled/i.test((err as Error).message ?? '')) throw err;
          ttl = 'enabled';
        }
      }
    }
    reports.push({
      role: schema.role,
      table: schema.tableName,
      action: created ? 'created' : 'exists',
      status: (await tableStatus(client, schema.tableName)) ?? 'MISSING',
      ttl,
    });
  }
  return reports;
}
