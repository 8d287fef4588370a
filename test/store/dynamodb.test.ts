import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import { storeContract } from './contract.ts';
import { type DynamoLocal, startDynamoLocal } from './dynamodb-local.ts';

let local: DynamoLocal;
let n = 0;

beforeAll(async () => {
  local = await startDynamoLocal();
});
afterAll(async () => {
  await local?.stop();
});

storeContract('DynamoDB Local', async () => {
  const prefix = `contract${++n}`;
  const client = local.client();
  await setupTables(client, tableSchemas(prefix));
  const store = new DynamoStore({ tablePrefix: prefix, region: 'us-east-1', client });
  return {
    store,
    raw: async () => {
      const items = [];
      for (const schema of tableSchemas(prefix)) {
        items.push(...((await client.send(new ScanCommand({ TableName: schema.tableName }))).Items ?? []));
      }
      return JSON.stringify(items);
    },
  };
});

describe('tables setup against DynamoDB Local', () => {
  it('creates what is missing, leaves what exists, turns TTL on, and a dry run changes nothing', async () => {
    const client = local.client();
    const dry = await setupTables(client, tableSchemas('setup'), { dryRun: true });
    expect(dry.map((t) => [t.table, t.action])).toEqual([
      ['setup-keys', 'would-create'],
      ['setup-usage', 'would-create'],
      ['setup-limits', 'would-create'],
      ['setup-signin', 'would-create'],
    ]);
    const first = await setupTables(client, tableSchemas('setup'));
    expect(first.map((t) => [t.action, t.status, t.ttl])).toEqual([
      ['created', 'ACTIVE', 'none'],
      ['created', 'ACTIVE', 'enabled-now'],
      ['created', 'ACTIVE', 'enabled-now'],
      ['created', 'ACTIVE', 'enabled-now'],
    ]);
    const again = await setupTables(client, tableSchemas('setup'));
    expect(again.map((t) => [t.action, t.ttl])).toEqual([
      ['exists', 'none'],
      ['exists', 'enabled'],
      ['exists', 'enabled'],
      ['exists', 'enabled'],
    ]);
    client.destroy();
  });
});
