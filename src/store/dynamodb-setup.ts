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
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, type TableSchema } from './schema.ts';

export type TableAction = 'created' | 'exists' | 'would-create';
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

async function tableStatus(client: DynamoDBClient, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: name }));
    return out.Table?.TableStatus ?? 'UNKNOWN';
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
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
    const existing = await tableStatus(client, schema.tableName);
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
    if (!existing) {
      try {
        const out = await client.send(new CreateTableCommand(createTableInput(schema)));
        status = out.TableDescription?.TableStatus;
      } catch (err) {
        // Another `tables setup` may have created it in the meantime; that is fine.
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
      action: existing ? 'exists' : 'created',
      status: (await tableStatus(client, schema.tableName)) ?? 'MISSING',
      ttl,
    });
  }
  return reports;
}
